"""The skill forest over networkx: build, update, diff, serialise (drawn by :mod:`teachgraph.views`).

Root skills -> subskills -> any depth, each node carrying its data quota, generation counts,
accuracy history and policy statistics. Stored in graph state as node-link data
(:meth:`SkillForest.to_data`), snapshotted per iteration (:class:`ForestSnapshot`), diffable
(:class:`ForestDiff`) and viewable (:meth:`SkillForest.to_mermaid`, :func:`teachgraph.views.draw_forest`).
"""

from teachgraph.skills.diff import ForestDiff, diff_forests
from teachgraph.skills.forest import SkillForest, SkillNotFoundError
from teachgraph.skills.names import SEPARATOR, name_key, normalise_name
from teachgraph.skills.node import ACCURACY_SPLITS, AccuracyPoint, AccuracySplit, SkillNode
from teachgraph.skills.snapshot import ForestSnapshot, diff_snapshots

__all__ = [
    "ACCURACY_SPLITS",
    "SEPARATOR",
    "AccuracyPoint",
    "AccuracySplit",
    "ForestDiff",
    "ForestSnapshot",
    "SkillForest",
    "SkillNode",
    "SkillNotFoundError",
    "diff_forests",
    "diff_snapshots",
    "name_key",
    "normalise_name",
]
