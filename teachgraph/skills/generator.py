"""A generator program kept on a skill-forest node: its source, who wrote it, how it fared.

The program data engine (``teachgraph.nodes.program_writing``) asks the teacher for a Python
function ``generate(rng) -> {"question", "answer", "rationale"?}`` per (sub)skill, validates it
in the sandbox, and then fills the skill's quota by drawing from it with fresh seeds. The
records live on the forest so an *exploit* step can re-draw from them without any LLM call,
and so snapshots, diffs and reports show which programs wrote a skill's data.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

GeneratorStatus = Literal["active", "rejected", "too_easy"]
"""``active``: validated, drawn from; ``rejected``: failed validation (kept with its reason, never
drawn); ``too_easy``: the difficulty probe found the student already solves its questions."""

Count = Annotated[int, Field(strict=True, ge=0)]
Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


def source_hash(source: str) -> str:
    """The short content hash that names a generator (in provenance, traces and the forest)."""
    return hashlib.sha256(source.strip().encode()).hexdigest()[:12]


class GeneratorStats(BaseModel):
    """What validation measured on a generator's ``seeds`` validation draws.

    Attributes:
        seeds: Validation seeds drawn (K).
        distinct_share: Share of distinct questions among them.
        distinct_answers: Number of distinct answers among them.
        checked: Questions the teacher answered independently with its own solution program.
        agreed: How many of those the generator's answer agreed with.
        flagged: Validation draws that duplicate known data or overlap eval items.
        repaired: Whether the accepted source is the model's repair of a failed first version.
        unchecked_forms: Question forms (:func:`teachgraph.nodes.question_forms.form`) on which
            the independent check disagreed with the generator: drawing skips them.
    """

    model_config = ConfigDict(extra="forbid")

    seeds: Count = 0
    distinct_share: Share = 0.0
    distinct_answers: Count = 0
    checked: Count = 0
    agreed: Count = 0
    flagged: Count = 0
    repaired: bool = False
    unchecked_forms: list[str] = Field(default_factory=list)


class GeneratorRecord(BaseModel):
    """One generator program on a forest node (see the module docstring).

    Attributes:
        hash: :func:`source_hash` of ``source``; the generator's name everywhere.
        source: The Python source (defines ``generate(rng)``).
        author_model: Label of the model that wrote it.
        iteration: Iteration it was written (and validated) in.
        status: See :data:`GeneratorStatus`.
        reason: Validation verdict (``accepted`` or the rejection reason).
        detail: A line explaining the verdict.
        stats: Validation measurements.
        draws: Seeds drawn from it for training data so far (all iterations).
        accepted: Drawn examples that validation accepted so far.
        probe_accuracy: The student's accuracy on a sample of its questions, last time probed.
    """

    model_config = ConfigDict(extra="forbid")

    hash: str = Field(min_length=1)
    source: str
    author_model: str = ""
    iteration: Annotated[int, Field(strict=True, ge=0)] = 0
    status: GeneratorStatus = "active"
    reason: str = "accepted"
    detail: str = ""
    stats: GeneratorStats = Field(default_factory=GeneratorStats)
    draws: Count = 0
    accepted: Count = 0
    probe_accuracy: Share | None = None
