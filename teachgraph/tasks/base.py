"""The Task protocol: splits of instances, the student prompt, and a verifier."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from teachgraph.domain import Score, Split, TaskInstance


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
