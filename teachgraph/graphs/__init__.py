"""Teacher graphs (open_ended, skill_list, skill_tree), the episode graph, and their state.

Names are imported lazily: nodes import ``teachgraph.graphs.state``, and the builders import the
nodes, so an eager ``__init__`` would make every node import a cycle.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "insert_after": "teachgraph.graphs.compose",
    "replace_node": "teachgraph.graphs.compose",
    "TeacherContext": "teachgraph.graphs.state",
    "TeacherInput": "teachgraph.graphs.state",
    "TeacherOutput": "teachgraph.graphs.state",
    "TeacherState": "teachgraph.graphs.state",
    "BUILDERS": "teachgraph.graphs.teacher",
    "build_teacher": "teachgraph.graphs.teacher",
    "open_ended": "teachgraph.graphs.teacher",
    "skill_list": "teachgraph.graphs.teacher",
    "skill_tree": "teachgraph.graphs.teacher",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'teachgraph.graphs' has no attribute {name!r}")
