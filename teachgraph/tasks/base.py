"""The Task protocol: splits of instances, the student prompt, and a verifier."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from teachgraph.domain import Score, Split, TaskInstance
from teachgraph.sandbox import Sandbox


class GoldSkill(BaseModel):
    """A skill from the task's own taxonomy (e.g. one reasoning-gym generator)."""

    name: str
    description: str = ""


class TaskConfig(BaseModel):
    """How to build a task: a registered family name plus its parameters.

    Example (YAML)::

        task:
          name: arithmetic
          params: {validation_size: 60, test_size: 120, seed: 0}
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    params: dict[str, object] = Field(default_factory=dict)


@runtime_checkable
class Task(Protocol):
    """A task family the student is taught and measured on.

    Splits are disjoint; ``instances`` is deterministic for a given configuration.
    """

    name: str

    def instances(self, split: Split) -> list[TaskInstance]:
        """All instances of ``split`` (``train`` may be empty for generator-backed tasks)."""
        ...

    def student_prompt(self, question: str) -> str:
        """The user message shown to the student for a question (answer-format instruction included)."""
        ...

    def format_target(self, answer: str, rationale: str | None = None) -> str:
        """A training target in exactly the format ``score`` extracts answers from."""
        ...

    def score(self, instance: TaskInstance, prediction: str) -> Score:
        """Verify the student's raw prediction against the instance."""
        ...

    def answers_equal(self, a: str, b: str) -> bool:
        """Whether two final answers are equivalent (used to check teacher-written examples)."""
        ...

    def gold_skills(self) -> list[GoldSkill] | None:
        """The task's own skill taxonomy, or ``None`` when it has none."""
        ...


@runtime_checkable
class RunsCode(Protocol):
    """A task whose scoring runs the student's code: the runner hands it the run's sandbox."""

    def use_sandbox(self, sandbox: Sandbox) -> None:
        """Run code with ``sandbox`` from now on (the config's ``sandbox:`` mode)."""
        ...


def score_all(task: Task, instances: Sequence[TaskInstance], predictions: Sequence[str]) -> list[Score]:
    """Score every prediction: in one call when the task has ``score_many`` (code tasks batch their
    sandbox runs), else one by one with ``score``."""
    many = getattr(task, "score_many", None)
    if callable(many):
        return list(many(instances, predictions))
    return [task.score(i, p) for i, p in zip(instances, predictions, strict=True)]
