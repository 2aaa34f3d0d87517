"""Teacher graphs (open_ended, skill_list, skill_tree), the episode graph, and their state."""

from teachgraph.graphs.compose import insert_after, replace_node
from teachgraph.graphs.state import TeacherContext, TeacherInput, TeacherOutput, TeacherState
from teachgraph.graphs.teacher import BUILDERS, build_teacher, open_ended, skill_list, skill_tree

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
