"""Records and contexts shared by nodes and graphs: the base the teacher and the episode stand on.

The typed state of the teacher graphs and of the episode, the records passed between teacher
nodes, and the run-scoped contexts (``runtime.context``) of both. Nodes and graphs import them
from here, never the other way round (see docs/architecture.md, "Layers").

State stays small and serialisable (it is checkpointed after every node): the skill forest travels
as node-link data (``SkillForest.to_data()``) and is rebuilt into networkx on demand; lists that
parallel branches append to use the ``operator.add`` reducer.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from teachgraph.config import RunConfig, TeacherSettings
from teachgraph.domain import EvaluatedInstance, TaskInstance, TrainingExample
from teachgraph.providers import ModelRouter
from teachgraph.sandbox import Sandbox
from teachgraph.skills.generator import GeneratorRecord
from teachgraph.student.base import Student
from teachgraph.tasks.base import Task
from teachgraph.tracing.rundir import RunDir


class ErrorGroup(BaseModel):
    """A family of student failures with a name for what goes wrong."""

    # Length bounds become grammar limits for local models (llama.cpp), which otherwise can
    # loop inside a list or string until max_tokens.
    name: str = Field(
        max_length=100, description="Short name of what the student gets wrong, e.g. 'carrying in addition'."
    )
    description: str = Field(max_length=500, description="One or two sentences on the mistake.")
    instance_ids: list[str] = Field(max_length=40, description="Ids of the failed instances that show it.")


class ErrorAnalysis(BaseModel):
    """Output of error analysis: failure groups citing instance ids."""

    groups: list[ErrorGroup] = Field(max_length=12)


class SkillAction(BaseModel):
    """A policy decision for one root skill.

    ``explore`` adds ``num_new`` subskills under ``skill``, each with quota ``new_quota``;
    ``exploit`` sets the quota of existing (sub)skills to the values in ``quotas``
    (absolute, per iteration; skills not named keep theirs).
    """

    skill: str
    kind: Literal["explore", "exploit"]
    reason: str
    num_new: int = 0
    new_quota: int = 0
    quotas: dict[str, int] = Field(default_factory=dict)


class ExploredSubskills(BaseModel):
    """What subskill exploration proposed for one explore action."""

    skill: str
    quota: int
    subskills: list[tuple[str, str]] = Field(description="(name, description) pairs, already distinct.")
    shortfall: int = 0


class ShownQuestion(BaseModel):
    """One of a skill's evaluated questions as the teacher sees it (``failed`` is always False
    for the no-state teacher, which never sees results)."""

    question: str
    answer: str
    failed: bool = False


class WritingJob(BaseModel):
    """One data-writing task, fanned out with ``Send``: write ``quota`` examples for a skill."""

    iteration: int
    skill_path: list[str]
    description: str = ""
    quota: int
    action: str | None = None
    notes: list[str] = Field(default_factory=list, description="Error-analysis findings for this skill.")
    errors: list[EvaluatedInstance] = Field(default_factory=list)
    task_questions: list[ShownQuestion] = Field(
        default_factory=list, description="The root skill's evaluated questions, failures first."
    )
    style_examples: list[TaskInstance] = Field(default_factory=list)
    accepted_before: list[str] = Field(
        default_factory=list, description="Questions accepted for this skill in earlier iterations."
    )
    generators: list[GeneratorRecord] = Field(
        default_factory=list, description="The skill's stored generators (program engine: drawn without an LLM call)."
    )


class GeneratorUpdate(BaseModel):
    """A generator written or drawn from by one writing branch, to be stored on the forest."""

    skill: str
    record: GeneratorRecord


class LLMUsage(BaseModel):
    """Tokens of one LLM call, kept in state so totals survive a resume (a callback would only
    count the calls made by the resumed process)."""

    node: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0


class NodeFailure(BaseModel):
    """A step that could not do its job after its retries; recorded, and the graph goes on."""

    node: str
    iteration: int
    error: str
    skill: str | None = None


class TeacherState(TypedDict, total=False):
    """State of one teacher step (any environment).

    Input: ``iteration``, ``evaluated`` (the student's validation results; hidden from the teacher
    when ``with_state`` is false), ``forest``, ``known_questions``, ``adapter`` (the student's
    current adapter, for the difficulty probe).
    Output: ``examples`` (every written example with its verdict), ``forest``, ``failures``.
    """

    iteration: int
    with_state: bool
    evaluated: list[EvaluatedInstance]
    forest: dict[str, Any]
    known_questions: list[str]
    analysis: ErrorAnalysis | None
    actions: list[SkillAction]
    explored: Annotated[list[ExploredSubskills], operator.add]
    jobs: list[WritingJob]
    written: Annotated[list[TrainingExample], operator.add]
    generator_updates: Annotated[list[GeneratorUpdate], operator.add]
    adapter: str | None
    examples: list[TrainingExample]
    failures: Annotated[list[NodeFailure], operator.add]
    usage: Annotated[list[LLMUsage], operator.add]


class WritingInput(TypedDict):
    """What one writing branch receives through ``Send`` (the ``input_schema`` of the writer node)."""

    job: WritingJob
    known_questions: list[str]


class ExplorationInput(TypedDict):
    """What one subskill-exploration branch receives through ``Send``: one explore action."""

    iteration: int
    forest: dict[str, Any]
    actions: list[SkillAction]


class TeacherInput(TypedDict, total=False):
    """What a teacher step needs from the episode."""

    iteration: int
    evaluated: list[EvaluatedInstance]
    forest: dict[str, Any]
    known_questions: list[str]
    adapter: str | None


class TeacherOutput(TypedDict, total=False):
    """What a teacher step hands back to the episode."""

    examples: list[TrainingExample]
    forest: dict[str, Any]
    failures: list[NodeFailure]
    actions: list[SkillAction]
    usage: list[LLMUsage]


@dataclass
class TeacherContext:
    """Run-scoped dependencies of teacher nodes (``runtime.context``); never checkpointed.

    Attributes:
        task: The task being taught (prompts, verifier, gold skills, eval data for decontamination).
        models: Node name -> chat model.
        settings: Teacher settings from the run config.
        run_id: Recorded in every trace event.
        student: Optional, for nodes that probe the student (difficulty probe).
        sandbox: Runs every model-written program (the config's ``sandbox:`` mode).
    """

    task: Task
    models: ModelRouter
    settings: TeacherSettings = field(default_factory=TeacherSettings)
    run_id: str = "adhoc"
    student: Student | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    sandbox: Sandbox = field(default_factory=Sandbox)


class EpisodeState(TypedDict, total=False):
    """Episode state: small, serialisable; data and adapters are referenced by path."""

    iteration: int
    forest: dict[str, Any]
    evaluated: list[EvaluatedInstance]
    reports: list[dict[str, Any]]
    adapter: str | None
    known_questions: list[str]
    accepted_total: int
    train_stats: dict[str, Any]
    evaluations: Annotated[list[dict[str, Any]], operator.add]
    rounds: Annotated[list[dict[str, Any]], operator.add]
    stop_reason: str | None


@dataclass
class EpisodeContext:
    """Run-scoped dependencies of the episode (``runtime.context``); never checkpointed."""

    config: RunConfig
    task: Task
    student: Student
    teacher_graph: Any  # a compiled teacher graph
    teacher_context: TeacherContext
    run_dir: RunDir
    run_id: str
