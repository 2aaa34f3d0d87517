"""The records that flow through teachgraph: tasks, evaluations, training examples, reports.

Everything here is a pydantic v2 model that round-trips exactly through JSON
(``Model.model_validate_json(m.model_dump_json()) == m``), because these records cross every
boundary: graph state and its checkpoints, the run directory, the CLI and the report.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

Split = Literal["train", "validation", "test"]
SPLITS: tuple[Split, ...] = ("train", "validation", "test")


class Record(BaseModel):
    """Base for all records: strict about unknown fields so typos in data files surface."""

    model_config = ConfigDict(extra="forbid")


def new_id(prefix: str = "") -> str:
    """A short random id (``prefix`` + 12 hex chars) for records created at run time."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


class TaskInstance(Record):
    """One question of a task, as the task's own data defines it.

    Attributes:
        id: Stable id, unique within the task (e.g. ``"gsm8k/test/17"``).
        prompt: The question text, before the task wraps it into the student prompt.
        answer: The reference final answer, as a string.
        gold_skill: The skill label the data source assigns (a ``/``-separated path such as
            ``"arithmetic/gcd"``), or ``None`` when the source has no labels (GSM8K).
        metadata: JSON-serialisable extras the verifier may need (generator parameters, ...).
    """

    id: str
    prompt: str
    answer: str
    gold_skill: str | None = None
    metadata: dict[str, JsonValue] = Field(default_factory=dict)


class Score(Record):
    """A verifier's judgement of one prediction."""

    correct: bool
    score: float = Field(ge=0.0, le=1.0)
    extracted_answer: str | None = None
    feedback: str | None = None


class EvaluatedInstance(Record):
    """A task instance with the student's prediction and the verifier's judgement."""

    instance: TaskInstance
    prediction: str
    correct: bool
    score: float = Field(ge=0.0, le=1.0)
    extracted_answer: str | None = None
    feedback: str | None = None
    skill: str | None = Field(
        default=None,
        description="Skill the teacher assigned this instance to (None until induction).",
    )


class RejectionReason(StrEnum):
    """Why validation refused a written example. ``ACCEPTED`` marks the examples kept."""

    ACCEPTED = "accepted"
    MALFORMED = "malformed"  # empty/missing fields, unparsable answer
    PROGRAM_ERROR = "program_error"  # the solution program crashed, timed out or printed nothing
    ANSWER_MISMATCH = "answer_mismatch"  # the program's result disagrees with the stated answer
    FAILS_OWN_TESTS = "fails_own_tests"  # code: the reference solution does not pass its own unit tests
    WEAK_TESTS = "weak_tests"  # code: the tests pass a trivially wrong solution or most mutants of the reference
    DUPLICATE = "duplicate"  # same question as an earlier example (this run)
    CONTAMINATED = "contaminated"  # overlaps validation/test instances
    TOO_EASY = "too_easy"  # the student already answers it (difficulty probe)
    OVER_QUOTA = "over_quota"  # written beyond the (sub)skill's quota
    CUSTOM = "custom"  # rejected by a user-supplied check
    REVIEWER = "rejected_by_reviewer"  # a person rejected it at review (teacher.review)


class Verdict(Record):
    """Validation outcome for one example. Rejected examples keep their verdict; none are dropped."""

    accepted: bool
    reason: RejectionReason
    detail: str = ""


class Provenance(Record):
    """Who wrote an example, for what, and why."""

    node: str
    model: str
    iteration: int
    skill: str = Field(description="Skill path the example was written for, '/'-separated.")
    source_errors: list[str] = Field(
        default_factory=list, description="Ids of the evaluated instances that motivated it."
    )
    action: str | None = Field(default=None, description="Policy action that set the quota (explore/exploit/...).")
    review: str | None = Field(
        default=None, description="What a person did at review: 'approved', 'edited: <fields>' or 'rejected: <reason>'."
    )
    generator: str | None = Field(default=None, description="Hash of the generator program that drew it, if any.")
    seed: int | None = Field(default=None, description="The seed the generator was drawn with.")
    expectations: str | None = Field(
        default=None,
        description="Code: how disputed expected values of the tests were settled (or why not), "
        "by an independently written solution.",
    )


class TrainingExample(Record):
    """A training example written by the teacher.

    Attributes:
        id: Unique id.
        input: The question, in the same raw form as ``TaskInstance.prompt``.
        target: What the student should answer, already in the task's answer format.
        answer: The final answer alone (used by verification and decontamination).
        skill_path: Skill forest path the example belongs to, root first.
        solution_program: Optional Python program whose printed result must equal ``answer``.
        tests: Code tasks: unit tests (statements that call the solution and ``assert``) that
            ``answer``, the reference solution, must pass and wrong solutions must fail.
        provenance: Node, model, iteration, skill and source errors.
        verdict: Validation outcome; ``None`` until validated.
    """

    id: str = Field(default_factory=lambda: new_id("ex-"))
    input: str
    target: str
    answer: str
    skill_path: list[str]
    solution_program: str | None = None
    tests: list[str] = Field(default_factory=list)
    provenance: Provenance
    verdict: Verdict | None = None

    @property
    def skill(self) -> str:
        """The skill path joined with ``/``."""
        return "/".join(self.skill_path)

    @property
    def accepted(self) -> bool:
        """True once validation has accepted the example."""
        return self.verdict is not None and self.verdict.accepted


class SkillReport(Record):
    """Accuracy of the student on one skill."""

    skill: str
    n: int = Field(ge=0)
    correct: int = Field(ge=0)

    @property
    def accuracy(self) -> float:
        """Fraction correct; 0.0 for an empty skill (never NaN)."""
        return self.correct / self.n if self.n else 0.0


class EvaluationReport(Record):
    """Overall and per-skill accuracy of one evaluation pass."""

    split: Split
    iteration: int
    n: int = Field(ge=0)
    correct: int = Field(ge=0)
    per_skill: list[SkillReport] = Field(default_factory=list)
    outcomes: str = Field(
        default="",
        pattern=r"^[01]*$",
        description="One '1' (correct) or '0' per item in the split's order: what paired tests between runs read.",
    )

    @property
    def accuracy(self) -> float:
        """Fraction correct; 0.0 when nothing was evaluated."""
        return self.correct / self.n if self.n else 0.0

    @classmethod
    def from_evaluated(
        cls,
        evaluated: list[EvaluatedInstance],
        *,
        split: Split,
        iteration: int,
        skill_of: Any = None,
    ) -> EvaluationReport:
        """Aggregate evaluated instances, grouping by ``skill_of(e)`` (default: gold skill)."""
        key = skill_of or (lambda e: e.skill or e.instance.gold_skill or "unlabelled")
        groups: dict[str, list[bool]] = {}
        for e in evaluated:
            groups.setdefault(key(e), []).append(e.correct)
        per_skill = [SkillReport(skill=s, n=len(v), correct=sum(v)) for s, v in sorted(groups.items())]
        return cls(
            split=split,
            iteration=iteration,
            n=len(evaluated),
            correct=sum(e.correct for e in evaluated),
            per_skill=per_skill,
            outcomes="".join("1" if e.correct else "0" for e in evaluated),
        )
