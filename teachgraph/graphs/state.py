"""The old import path of the teacher's records and contexts, now :mod:`teachgraph.state`.

Kept because checkpoints written before the move name their types by this module
(``teachgraph.graphs.state.WritingJob``, ...): a resumed old run still finds them here, and
:mod:`teachgraph.graphs.checkpoint` keeps these names on the serializer's allow-list. New code
imports :mod:`teachgraph.state`.
"""

from teachgraph.state import (
    ErrorAnalysis,
    ErrorGroup,
    ExploredSubskills,
    GeneratorUpdate,
    LLMUsage,
    NodeFailure,
    SkillAction,
    TeacherContext,
    TeacherInput,
    TeacherOutput,
    TeacherState,
    WritingJob,
)

__all__ = [
    "ErrorAnalysis",
    "ErrorGroup",
    "ExploredSubskills",
    "GeneratorUpdate",
    "LLMUsage",
    "NodeFailure",
    "SkillAction",
    "TeacherContext",
    "TeacherInput",
    "TeacherOutput",
    "TeacherState",
    "WritingJob",
]
