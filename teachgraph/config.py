"""One run configuration: task, student, teacher (with a model per node), loop and budgets.

A run is described by a single YAML file (see ``examples/*.yaml``). It is validated here, at the
boundary, so a typo fails before any model is loaded, with one line that says what to fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from teachgraph.errors import ConfigError, DataNotFoundError
from teachgraph.student.config import StudentConfig
from teachgraph.tasks.base import TaskConfig

Environment = Literal["open_ended", "skill_list", "skill_tree"]
PolicyName = Literal["llm", "alternating", "random", "bandit"]
AllocationName = Literal["llm", "error_weighted", "uniform"]
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
        description="Math: the example must carry a Python program whose printed result equals its answer.",
    )
    program_timeout_s: float = Field(default=5.0, gt=0)
    program_memory_mb: int = Field(default=512, ge=64)
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
        default=0.2, ge=0, le=1, description="Most validation draws that may duplicate known data or copy eval items."
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
    failures_shown: int = Field(default=24, ge=1, description="Student failures shown to error analysis.")
    errors_per_writer: int = Field(default=3, ge=0, description="Failures shown to each data writer call.")
    batch_size: int = Field(default=4, ge=1, description="Examples asked for per writer LLM call.")
    writer_temperature: float = Field(
        default=0.7, ge=0, le=2, description="Sampling temperature of the direct writer (a seed is set per call)."
    )
    max_attempts: int = Field(default=3, ge=1, description="Structured-output attempts per LLM call.")
    target_style: Literal["answer", "rationale"] = Field(
        default="answer", description="Train on the final answer alone, or a short rationale then the answer."
    )
    validation: ValidationSettings = Field(default_factory=ValidationSettings)
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
    """When the episode stops: iterations, data budget, or a plateau — whichever comes first."""

    iterations: int = Field(default=3, ge=1)
    data_budget: int | None = Field(default=None, ge=1, description="Stop once this many examples were accepted.")
    plateau_patience: int | None = Field(
        default=None, ge=1, description="Stop after this many iterations without validation gain."
    )
    plateau_min_delta: float = Field(default=0.0, ge=0)
    evaluate_test: bool = Field(default=True, description="Also evaluate the held-out test split each iteration.")


class RunConfig(Strict):
    """A whole run. Load with :func:`load_config`."""

    name: str = "run"
    seed: int = 0
    task: TaskConfig
    student: StudentConfig = Field(default_factory=StudentConfig)
    teacher: TeacherSettings = Field(default_factory=TeacherSettings)
    loop: LoopSettings = Field(default_factory=LoopSettings)
    presets: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Named overrides, e.g. 'quick', applied with --preset."
    )


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _one_line(err: ValidationError, source: str) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"invalid config {source}: {where}: {first['msg']}{more}"


def parse_config(data: dict[str, Any], *, source: str = "", preset: str | None = None) -> RunConfig:
    """Validate a config mapping, applying ``preset`` (a key of its ``presets``) when given."""
    if not isinstance(data, dict):
        raise ConfigError(f"invalid config {source}: expected a mapping at the top level")
    if preset is not None:
        presets = data.get("presets") or {}
        if preset not in presets:
            raise ConfigError(f"config {source} has no preset {preset!r}; presets: {', '.join(presets) or '(none)'}")
        data = _merge(data, presets[preset])
    try:
        return RunConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_one_line(err, source)) from None


def load_config(path: str | Path, *, preset: str | None = None) -> RunConfig:
    """Read and validate a YAML run config; every failure is a one-line ``TeachgraphError``."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"config {path} is not valid YAML{where}: {getattr(err, 'problem', err)}") from None
    return parse_config(data or {}, source=str(path), preset=preset)
