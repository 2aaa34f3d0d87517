"""One run configuration: task, student, teacher (with a model per node), loop and budgets.

A run is described by a single YAML file (see ``examples/*.yaml``). It is validated here, at the
boundary, so a typo fails before any model is loaded, with one line that says what to fix.

Relative paths in a config file (``scripted:`` script files, ``student.model`` directories,
``student.cache_dir``, ``task.params.data_dir``) are relative to the *config file's* directory, not
to wherever the command was started, and every file a config names is checked before a run starts
(:func:`check_paths`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from teachgraph.costs import Price
from teachgraph.errors import ConfigError, DataNotFoundError, describe_validation_error
from teachgraph.providers.faults import RetrySettings
from teachgraph.sandbox import SandboxMode
from teachgraph.student.config import KNOWN_MODELS, StudentConfig
from teachgraph.tasks.base import TaskConfig
from teachgraph.tasks.registry import family_engine_problem, family_executes_code, family_has_images

Environment = Literal["open_ended", "skill_list", "skill_tree"]
PolicyName = Literal["llm", "alternating", "random", "bandit"]
AllocationName = Literal["llm", "error_weighted", "uniform"]
InductionMethod = Literal["structure", "two_stage", "direct"]
EngineName = Literal["examples", "programs"]
TEACHER_NODES = (
    "error_analysis",
    "skill_induction",
    "subskill_exploration",
    "policy",
    "allocation",
    "data_writing",
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValidationSettings(Strict):
    """How written examples are checked before any training sees them."""

    require_program: bool = Field(
        default=True,
        description="Math: the example must carry a Python program whose printed result equals its answer "
        "(code tasks check the solution against its unit tests instead).",
    )
    program_timeout_s: float = Field(default=5.0, gt=0)
    program_memory_mb: int = Field(default=512, ge=64)
    mutants: int = Field(
        default=8, ge=0, description="Code: mutants of the reference solution its tests are run against (0: none)."
    )
    min_mutants_killed: float = Field(
        default=0.5, ge=0, le=1, description="Code: share of those mutants the tests must fail."
    )
    independent_solutions: bool = Field(
        default=True,
        description="Code: when a reference solution fails some of its own `assert CALL == VALUE` tests, ask "
        "for a second solution written from the problem alone; if both return the same on every test input, "
        "the failing tests take that value (the writer's arithmetic was wrong, not its solution).",
    )
    ngram: int = Field(default=8, ge=3, description="n for n-gram decontamination.")
    contamination_threshold: float = Field(
        default=0.5, gt=0, le=1, description="Share of an eval item's n-grams that flags a copy."
    )


class ProgramEngineSettings(Strict):
    """The program data engine: how generator programs are validated, drawn from and probed."""

    validation_seeds: int = Field(
        default=10, ge=8, description="Seeds (K) a generator is run on before any draw is used."
    )
    min_distinct_share: float = Field(
        default=0.8, gt=0, le=1, description="Minimum share of distinct questions over the K validation draws."
    )
    max_flagged_share: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Tolerated share of validation draws that duplicate known data or copy eval items: a generator "
        "is rejected when its draws show a share significantly above it (one-sided binomial test, p < 0.05).",
    )
    check_sample: int = Field(
        default=3, ge=1, description="Drawn questions the teacher answers with its own solution program."
    )
    check_agreement: float = Field(
        default=0.66, gt=0, le=1, description="Share of those the generator's answers must agree with."
    )
    repair_attempts: int = Field(default=1, ge=0, description="Repairs of a failed generator (error + sample shown).")
    generators_per_skill: int = Field(default=1, ge=1, description="Generators written for a (sub)skill without one.")
    probe_sample: int = Field(
        default=4, ge=0, description="Questions per generator the student answers before training (0: no probe)."
    )
    skip_if_solved: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Retire a generator (its draws rejected as too easy) when the student's probe accuracy reaches this.",
    )
    draws_per_process: int = Field(default=40, ge=1, description="Seeds drawn per sandbox process.")
    top_up: bool = Field(
        default=True,
        description="Refill a step's shortfall (a (sub)skill with no valid generator) by drawing more from the "
        "generators that worked, those under the same root skill first (no LLM call; provenance action 'top_up').",
    )
    max_refused_share: float = Field(
        default=0.5,
        ge=0,
        lt=1,
        description="Tasks that compute answers themselves (VQA scenes): most of the K validation draws the task "
        "may refuse (an unanswerable question, a scene that does not show its objects) before the generator is "
        "rejected; refused draws are dropped and replaced when drawing.",
    )
    max_answer_share: float = Field(
        default=1 / 3,
        gt=0,
        le=1,
        description="Most of a draw's examples that may share one answer (at least 1 / the distinct answers the "
        "generator showed in validation): uniform random GCD pairs answer 1 two times in three, and a student "
        "trained on them learns to answer 1.",
    )


class TeacherSettings(Strict):
    """The teacher agent: environment, what it sees, its budget and a model per node."""

    environment: Environment = "skill_tree"
    engine: EngineName = Field(
        default="examples",
        description="examples: the writer model writes each example; programs: it writes generator programs drawn from.",
    )
    with_state: bool = Field(
        default=True, description="False: the no-state baseline; the teacher never sees the student's results."
    )
    models: dict[str, Any] = Field(
        default_factory=lambda: {"default": "local:qwen2.5-coder-1.5b-instruct"},
        description="Node name -> model spec; 'default' covers every node not named.",
    )
    examples_per_iteration: int = Field(default=24, ge=1, description="Data budget per teacher step.")
    policy: PolicyName = "bandit"
    allocation: AllocationName = "error_weighted"
    explore_subskills: int = Field(default=2, ge=1, description="New subskills per explore action.")
    max_subskills: int = Field(default=6, ge=1, description="Leaves per root skill before explore stops.")
    use_gold_skills: bool = Field(
        default=False, description="Use the task's own skill labels instead of inducing skills."
    )
    max_skills: int = Field(default=6, ge=1, description="Skills to induce at most.")
    induction: InductionMethod = Field(
        default="structure",
        description=(
            "How skill_induction finds skills: 'structure' groups questions by their wording and the "
            "model only names the groups; 'two_stage' (DataEnvGym) has the model label every question, "
            "then group the labels; 'direct' has the model name skills and assign questions in one call. "
            "See benchmarks/results/skill_induction.md."
        ),
    )
    failures_shown: int = Field(default=24, ge=1, description="Student failures shown to error analysis.")
    errors_per_writer: int = Field(default=3, ge=0, description="Failures shown to each data writer call.")
    batch_size: int = Field(default=4, ge=1, description="Examples asked for per writer LLM call.")
    writer_temperature: float = Field(
        default=0.7, ge=0, le=2, description="Sampling temperature of the direct writer (a seed is set per call)."
    )
    max_attempts: int = Field(default=3, ge=1, description="Structured-output attempts per LLM call.")
    retry: RetrySettings = Field(
        default_factory=RetrySettings,
        description="Provider errors: backoff retries of one request, and the failure limit that stops the run.",
    )
    target_style: Literal["answer", "rationale"] = Field(
        default="answer", description="Train on the final answer alone, or a short rationale then the answer."
    )
    validation: ValidationSettings = Field(default_factory=ValidationSettings)
    review: bool = Field(
        default=False,
        description="Pause after validation for a person to approve, reject or edit the batch (LangGraph interrupt).",
    )
    programs: ProgramEngineSettings = Field(default_factory=ProgramEngineSettings)
    seed: int = 0

    @field_validator("models")
    @classmethod
    def _needs_default(cls, models: dict[str, Any]) -> dict[str, Any]:
        if "default" not in models:
            raise ValueError("teacher.models needs a 'default' entry (the model for unnamed nodes)")
        unknown = set(models) - {"default", *TEACHER_NODES}
        if unknown:
            raise ValueError(
                f"teacher.models names unknown node(s) {sorted(unknown)}; nodes: {', '.join(TEACHER_NODES)}"
            )
        return models


class LoopSettings(Strict):
    """When the episode stops: iterations, data, token or cost budget, or a plateau — whichever comes first."""

    iterations: int = Field(default=3, ge=1)
    data_budget: int | None = Field(default=None, ge=1, description="Stop once this many examples were accepted.")
    plateau_patience: int | None = Field(
        default=None, ge=1, description="Stop after this many iterations without validation gain."
    )
    plateau_min_delta: float = Field(default=0.0, ge=0)
    token_budget: int | None = Field(
        default=None, ge=1, description="Stop at the first iteration boundary once the teacher used this many tokens."
    )
    cost_budget: float | None = Field(
        default=None, gt=0, description="Stop at the first iteration boundary once the teacher spent this many USD."
    )
    evaluate_test: bool = Field(default=True, description="Also evaluate the held-out test split each iteration.")


class RunConfig(Strict):
    """A whole run. Load with :func:`load_config`."""

    name: str = "run"
    seed: int = 0
    task: TaskConfig
    student: StudentConfig = Field(default_factory=StudentConfig)
    teacher: TeacherSettings = Field(default_factory=TeacherSettings)
    loop: LoopSettings = Field(default_factory=LoopSettings)
    sandbox: SandboxMode = Field(
        default="isolated",
        description="How model-written programs run: 'isolated' (bubblewrap container; the run stops if it "
        "cannot be set up) or 'limits-only' (resource limits only, explicitly weaker).",
    )
    prices: dict[str, Price] = Field(
        default_factory=dict,
        description="Model label, bare name or glob -> USD per 1M tokens; extends teachgraph.costs.DEFAULT_PRICES.",
    )
    presets: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Named overrides, e.g. 'quick', applied with --preset."
    )

    @model_validator(mode="after")
    def _engine_fits_task(self) -> RunConfig:
        # Generators draw (question, answer) pairs; a code example needs a solution and unit tests.
        if self.teacher.engine == "programs" and family_executes_code(self.task.name):
            raise ValueError(
                f"teacher.engine: programs does not fit the code task {self.task.name!r} (its generators draw "
                "question/answer pairs, code examples need a solution and unit tests); use engine: examples"
            )
        problem = family_engine_problem(self.task.name, self.teacher.engine)
        if problem:
            raise ValueError(problem)
        if family_has_images(self.task.name) and self.student.kind != "vision":
            raise ValueError(
                f"the task {self.task.name!r} asks about images: use student.kind: vision (a {self.student.kind} "
                "student would read only the image reference's JSON)"
            )
        return self


# Plain path fields (dotted keys into the config mapping), resolved against the config file's
# directory. Model specs and ``student.model`` are handled apart: only part of them is a path.
PATH_FIELDS: tuple[str, ...] = ("student.cache_dir", "task.params.data_dir")
SCRIPTED = "scripted:"


def resolve_paths(data: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """A copy of a raw config mapping with its relative paths made absolute against ``base_dir``.

    Covers :data:`PATH_FIELDS`, ``scripted:PATH`` model specs (string or ``{spec: ...}`` form) and a
    ``student.model`` that is a directory rather than a known model name. Values of the wrong type
    are left alone for validation to report.
    """
    base_dir = base_dir.resolve()
    out = _merge(data, {})
    for dotted in PATH_FIELDS:
        *parents, leaf = dotted.split(".")
        holder = out
        for key in parents:
            child = holder.get(key) if isinstance(holder, dict) else None
            if not isinstance(child, dict):
                holder = None
                break
            holder[key] = child = dict(child)
            holder = child
        if isinstance(holder, dict) and isinstance(holder.get(leaf), str | Path):
            holder[leaf] = str(_absolute(holder[leaf], base_dir))
    student = out.get("student")
    if isinstance(student, dict) and _is_model_dir(student.get("model"), student.get("kind")):
        out["student"] = {**student, "model": str(_absolute(student["model"], base_dir))}
    teacher = out.get("teacher")
    if isinstance(teacher, dict) and isinstance(teacher.get("models"), dict):
        out["teacher"] = {
            **teacher,
            "models": {node: _resolve_spec(spec, base_dir) for node, spec in teacher["models"].items()},
        }
    return out


def _is_model_dir(model: Any, kind: Any) -> bool:
    """Whether ``student.model`` names a local directory (an endpoint student's model is a name)."""
    return isinstance(model, str) and model not in KNOWN_MODELS and kind != "openai-compatible"


def _absolute(value: str | Path, base_dir: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def _resolve_spec(spec: Any, base_dir: Path) -> Any:
    if isinstance(spec, dict) and isinstance(spec.get("spec"), str):
        return {**spec, "spec": _resolve_spec(spec["spec"], base_dir)}
    if isinstance(spec, str) and spec.strip().lower().startswith(SCRIPTED):
        return SCRIPTED + str(_absolute(spec.strip()[len(SCRIPTED) :].strip(), base_dir))
    return spec


def check_paths(config: RunConfig) -> None:
    """Fail with one line naming the first file or directory the config names that does not exist.

    Called before a run creates anything, so a typo in a path costs no work and leaves no run
    directory behind.
    """
    for where, path, kind in _named_paths(config):
        exists = path.is_dir() if kind == "directory" else path.is_file()
        if not exists:
            raise DataNotFoundError(f"{where} names a {kind} that does not exist: {path}")


def _named_paths(config: RunConfig) -> list[tuple[str, Path, str]]:
    """``(config key, path, "file" | "directory")`` for every path the config names."""
    named: list[tuple[str, Path, str]] = []
    for node, spec in config.teacher.models.items():
        raw = spec.get("spec") if isinstance(spec, dict) else spec
        if isinstance(raw, str) and raw.strip().lower().startswith(SCRIPTED):
            named.append((f"teacher.models.{node}", Path(raw.strip()[len(SCRIPTED) :].strip()), "file"))
    if _is_model_dir(config.student.model, config.student.kind):
        named.append(("student.model", Path(config.student.model).expanduser(), "directory"))
    data_dir = config.task.params.get("data_dir")
    if isinstance(data_dir, str | Path):
        named.append(("task.params.data_dir", Path(data_dir).expanduser(), "directory"))
    return named


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_config(
    data: dict[str, Any], *, source: str = "", preset: str | None = None, base_dir: Path | None = None
) -> RunConfig:
    """Validate a config mapping, applying ``preset`` (a key of its ``presets``) when given.

    With ``base_dir``, relative paths in it resolve against that directory (see
    :func:`resolve_paths`); without, they stay relative to the current directory.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"invalid config {source}: expected a mapping at the top level")
    if preset is not None:
        presets = data.get("presets") or {}
        if preset not in presets:
            raise ConfigError(f"config {source} has no preset {preset!r}; presets: {', '.join(presets) or '(none)'}")
        data = _merge(data, presets[preset])
    if base_dir is not None:
        data = resolve_paths(data, base_dir)
    try:
        return RunConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(
            f"invalid config {source}: {describe_validation_error(err, limit=1, root='(top level)')}"
        ) from None


def load_config(path: str | Path, *, preset: str | None = None) -> RunConfig:
    """Read and validate a YAML run config; every failure is a one-line ``TeachgraphError``.

    Relative paths in the file resolve against the file's own directory, so the same config works
    from any current directory.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"config {path} is not valid YAML{where}: {getattr(err, 'problem', err)}") from None
    config = parse_config(data or {}, source=str(path), preset=preset, base_dir=path.parent)
    check_paths(config)
    return config
