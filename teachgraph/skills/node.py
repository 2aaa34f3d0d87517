"""The attributes of one node of the skill forest, as validated pydantic records.

The forest keeps these attributes in its ``networkx`` graph as plain JSON-ready dicts (so
node-link data can go straight into graph state and checkpoints); these models are the schema
every write goes through, so a typo or a bad value fails at the write, not at the next resume.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from teachgraph.skills.generator import GeneratorRecord
from teachgraph.skills.names import SEPARATOR, normalise_name

AccuracySplit = Literal["validation", "test", "generated"]
"""Where an accuracy was measured: the task's validation or test split, or the teacher's own
generated data (the "training accuracy" the original skill-tree agent used as a signal)."""

ACCURACY_SPLITS: tuple[AccuracySplit, ...] = ("validation", "test", "generated")

# Strict ints: pydantic's lax mode would turn ``True`` into ``1`` and ``2.0`` into ``2``, which
# hides caller bugs (an LLM-parsed flag passed as a count) and breaks exact JSON round-trips.
Count = Annotated[int, Field(strict=True, ge=0)]
Iteration = Annotated[int, Field(strict=True, ge=0)]
# Finite floats only: NaN != NaN would break forest equality and round-trips, and JSON has no
# spelling for NaN or infinity (the checkpoint and the run directory must stay strict JSON).
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class AccuracyPoint(BaseModel):
    """One measurement of the student's accuracy on a (sub)skill.

    Attributes:
        iteration: Teaching iteration the measurement was taken at.
        split: Which data it was measured on (see :data:`AccuracySplit`).
        value: Accuracy in ``[0, 1]``.
        n: How many instances the accuracy was computed over (0 is allowed, e.g. a skill whose
            instances all moved elsewhere; readers should weigh points by ``n``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    iteration: Iteration
    split: AccuracySplit
    value: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
    n: Count


class SkillNode(BaseModel):
    """Attributes of one node of the skill forest (a skill, subskill, sub-subskill, ...).

    ``SkillForest.node`` returns copies of these; change a node through the forest
    (``update``, ``set_quota``, ``record_generated``, ``record_accuracy``) so the graph stays the
    single source of truth.

    Attributes:
        path: Node id: the ``/``-joined names from the root, e.g. ``"addition/carrying"``.
        name: The last segment of ``path``, normalised (stripped, whitespace collapsed).
        description: Free text from the teacher, e.g. what the skill covers.
        gold_label: The data source's skill label this node stands for, if any.
        quota: Per-iteration data quota: how many examples to write for this (sub)skill in the
            next data-writing step (DataEnvGym's ``data_allocation``; not a cumulative target).
        generated_last: Examples accepted in the last iteration data was written for it.
        generated_total: Examples accepted, cumulative over all iterations.
        rejected_total: Examples validation rejected, cumulative.
        created_iteration: Iteration the node was added in.
        accuracy_history: Accuracy measurements, at most one per ``(iteration, split)``.
        policy: Policy statistics, e.g. ``{"value": 0.12, "pulls": 3.0}`` for a bandit.
        generators: Generator programs written for this (sub)skill by the program engine
            (active, rejected and too easy ones; see :mod:`teachgraph.skills.generator`).
        recent_questions: The last few accepted questions, shown to the direct writer so it
            writes new ones instead of repeating earlier iterations.
    """

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str = ""
    gold_label: str | None = None
    quota: Count = 0
    generated_last: Count = 0
    generated_total: Count = 0
    rejected_total: Count = 0
    created_iteration: Iteration = 0
    accuracy_history: list[AccuracyPoint] = Field(default_factory=list)
    policy: dict[str, FiniteFloat] = Field(default_factory=dict)
    generators: list[GeneratorRecord] = Field(default_factory=list)
    recent_questions: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _name_matches_path(self) -> SkillNode:
        # The path is the node's identity in the graph; a name that disagrees with it (or one
        # that is not in normal form) would make lookups and merges silently miss the node.
        if normalise_name(self.name) != self.name:
            raise ValueError(f"skill name {self.name!r} is not normalised")
        if self.path.rsplit(SEPARATOR, 1)[-1] != self.name:
            raise ValueError(f"skill name {self.name!r} is not the last segment of {self.path!r}")
        return self

    def active_generators(self) -> list[GeneratorRecord]:
        """The validated generators data is drawn from (not rejected, not too easy)."""
        return [g for g in self.generators if g.status == "active"]

    def latest_accuracy(self, split: AccuracySplit = "validation") -> float | None:
        """The accuracy of the most recent iteration measured on ``split``, or ``None``."""
        points = [p for p in self.accuracy_history if p.split == split]
        if not points:
            return None
        # max() keeps the first of equal iterations; the forest never stores two points for
        # the same (iteration, split), so there are no ties to break in practice.
        return max(points, key=lambda p: p.iteration).value
