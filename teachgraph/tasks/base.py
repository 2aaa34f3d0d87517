"""The Task protocol: splits of instances, the student prompt, and a verifier."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

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


class MalformedItem(ValueError):
    """A generator's item lacks what the task needs (a field, a type): the generator is broken."""


class RefusedItem(ValueError):
    """A well-formed generated item the task will not use: its question cannot be answered from
    its image, say. The draw is dropped; a generator whose draws are mostly refused is rejected."""


class GeneratorGuide(BaseModel):
    """What a task tells the program engine's writer about its generators.

    Attributes:
        returns: What ``generate(rng)`` returns, for the prompt's rules (after "It returns").
        start: The program to start from, with what to change (Markdown with a fenced block).
        prelude: Definitions the program may use, which the engine appends to the model's
            program (after it, so that they win over any of the same name the model wrote).
    """

    returns: str
    start: str
    prelude: str = ""


@runtime_checkable
class ComputesAnswers(Protocol):
    """A task whose generated examples are answered by the task's own code, never by the model.

    The program engine's generators for it return a structured item (for a VQA task: a scene
    graph and a question), which the task turns into an instance prompt and computes the answer
    of (:meth:`item_from_draw`); the task also tells the writer what to return and where to start
    (:meth:`generator_guide`). Answers written by the model are ignored, and the engine's
    independent check of them (the teacher's own solution programs) does not apply.
    """

    def generator_guide(self, skill: str, shown: Sequence[TaskInstance]) -> GeneratorGuide:
        """The guide for a generator of ``skill`` (a forest path), given the instances shown
        to the writer (the student's failures first, then format examples)."""
        ...

    def item_from_draw(self, item: Mapping[str, Any], skill: str) -> tuple[str, str]:
        """The instance prompt and its answer, computed from a generator's ``item``.

        Raises:
            MalformedItem: the item lacks a field or has one of the wrong type.
            RefusedItem: the item is well formed but cannot be used (the reason says why).
        """
        ...


@runtime_checkable
class ContaminationIndex(Protocol):
    """Finds the eval item a written question copies."""

    def match(self, text: str) -> tuple[str, float] | None:
        """The copied eval item's id and how much of it is copied, or ``None``."""
        ...


@runtime_checkable
class IndexesEvalItems(Protocol):
    """A task that says itself what counts as a copy of its validation or test items (a VQA
    task: the same scene, where n-grams of the question would flag every templated question)."""

    def contamination_index(self) -> ContaminationIndex:
        """An index over the task's validation and test items."""
        ...


def teacher_text(task: Task, prompt: str) -> str:
    """How ``prompt`` is shown to the teacher's models: the task's ``teacher_text`` view where it
    has one (a VQA prompt's image as a short scene description), else the prompt itself."""
    view = getattr(task, "teacher_text", None)
    return str(view(prompt)) if callable(view) else prompt
