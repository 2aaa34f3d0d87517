"""Per-iteration snapshots of the skill forest (``runs/<id>/forest/iter-NNN.json``).

A snapshot is the forest's node-link data tagged with its iteration, as a pydantic record so it
round-trips through JSON like the other run records; loading it gives back an equal forest.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from teachgraph.skills.diff import ForestDiff, diff_forests
from teachgraph.skills.forest import SkillForest


class ForestSnapshot(BaseModel):
    """The skill forest as it was at one iteration.

    Attributes:
        iteration: The teaching iteration the snapshot was taken at.
        forest: :meth:`SkillForest.to_data` output.
    """

    model_config = ConfigDict(extra="forbid")

    iteration: int = Field(strict=True, ge=0)
    forest: dict[str, Any]

    def load(self) -> SkillForest:
        """The forest this snapshot holds (a new, independent object)."""
        return SkillForest.from_data(self.forest)


def diff_snapshots(a: ForestSnapshot, b: ForestSnapshot) -> ForestDiff:
    """What changed from snapshot ``a`` (before) to snapshot ``b`` (after)."""
    return diff_forests(a.load(), b.load())
