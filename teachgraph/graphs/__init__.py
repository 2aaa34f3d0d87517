"""Teacher graphs (open_ended, skill_list, skill_tree), the episode graph, and composition helpers.

The state and contexts they run on live below them, in :mod:`teachgraph.state` (re-exported here
for convenience).
"""

from teachgraph.graphs.compose import insert_after, replace_node
from teachgraph.graphs.teacher import BUILDERS, build_teacher, open_ended, skill_list, skill_tree
from teachgraph.state import TeacherContext, TeacherInput, TeacherOutput, TeacherState

__all__ = [
    "BUILDERS",
    "TeacherContext",
    "TeacherInput",
    "TeacherOutput",
    "TeacherState",
    "build_teacher",
    "insert_after",
    "open_ended",
    "replace_node",
    "skill_list",
    "skill_tree",
]
