"""Reading a run directory for the report, leniently, and counting what it holds.

A run directory is untrusted input: :func:`load_run` never raises for a missing or corrupt part;
it records what it could not read in :attr:`RunData.problems` (shown at the top of the page).
The files are read through :class:`~teachgraph.tracing.rundir.RunDir`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from teachgraph.domain import TrainingExample
from teachgraph.tracing.events import TraceEvent
from teachgraph.tracing.rundir import RunDir

__all__ = [
    "UNVALIDATED",
    "DataCounts",
    "RunData",
    "accuracy_of",
    "as_int",
    "data_counts",
    "data_counts_from_rounds",
    "int_map",
    "load_run",
    "per_skill_names",
    "skill_series",
]

UNVALIDATED = "not validated"


@dataclass
class RunData:
    """Everything the report reads from a run directory, read leniently.

    Attributes:
        root: The run directory.
        run_id: ``metrics.json``'s run id, else the directory's name.
        config: ``config.yaml`` (empty if missing or unreadable).
        metrics: ``metrics.json`` (empty if missing or unreadable).
        events: ``trace.jsonl`` events, or ``None`` when there is no trace file.
        examples: Iteration -> the examples of ``data/iter-NNN.jsonl`` (unparsable lines skipped).
        forests: Iteration -> forest node-link data of ``forest/iter-NNN.json``.
        problems: What could not be read, one line each (shown at the top of the report).
    """

    root: Path
    run_id: str
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    events: list[TraceEvent] | None = None
    examples: dict[int, list[TrainingExample]] = field(default_factory=dict)
    forests: dict[int, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def evaluations(self) -> list[dict[str, Any]]:
        """``metrics.json`` evaluations that have an iteration, by iteration."""
        evals = [e for e in self.metrics.get("evaluations") or [] if isinstance(e, dict)]
        evals = [e for e in evals if isinstance(e.get("iteration"), int)]
        return sorted(evals, key=lambda e: e["iteration"])

    @property
    def rounds(self) -> list[dict[str, Any]]:
        """``metrics.json`` teacher rounds that have an iteration, by iteration."""
        rounds = [r for r in self.metrics.get("rounds") or [] if isinstance(r, dict)]
        rounds = [r for r in rounds if isinstance(r.get("iteration"), int)]
        return sorted(rounds, key=lambda r: r["iteration"])

    def setting(self, key: str) -> Any:
        """A run setting from ``metrics.json``, else from ``config.yaml`` (``None`` if neither)."""
        if self.metrics.get(key) is not None:
            return self.metrics[key]
        teacher = self.config.get("teacher") if isinstance(self.config.get("teacher"), dict) else {}
        task = self.config.get("task") if isinstance(self.config.get("task"), dict) else {}
        return {"task": task.get("name"), **teacher}.get(key)


def load_run(run_dir: str | Path) -> RunData:
    """Read a run directory for the report, never raising for missing or corrupt parts."""
    run = RunDir(run_dir)
    data = RunData(root=run.root, run_id=run.run_id)

    def attempt(what: str, read: Callable[[], Any], default: Any) -> Any:
        try:
            return read()
        except Exception as err:  # a run directory is untrusted: report, don't crash
            data.problems.append(f"{what}: {type(err).__name__}: {err}")
            return default

    if run.config_path.is_file():
        config = attempt("config.yaml", lambda: yaml.safe_load(run.config_path.read_text()), {})
        data.config = config if isinstance(config, dict) else {}
    if run.metrics_path.is_file():
        metrics = attempt("metrics.json", run.read_metrics, {})
        data.metrics = metrics if isinstance(metrics, dict) else {}
        if isinstance(data.metrics.get("run_id"), str) and data.metrics["run_id"]:
            data.run_id = data.metrics["run_id"]
    if run.trace_path.is_file():
        data.events = attempt("trace.jsonl", run.read_events, [])
    for path in sorted((run.root / "data").glob("iter-*.jsonl")):
        iteration = _iteration_of(path)
        if iteration is not None:
            data.examples[iteration] = attempt(path.name, lambda p=path: _read_examples(p, data), [])
    for path in sorted((run.root / "forest").glob("iter-*.json")):
        snapshot = attempt(f"forest/{path.name}", lambda p=path: json.loads(p.read_text()), None)
        if isinstance(snapshot, dict) and isinstance(snapshot.get("forest"), dict):
            iteration = snapshot.get("iteration", _iteration_of(path))
            if isinstance(iteration, int):
                data.forests[iteration] = snapshot["forest"]
        elif snapshot is not None:
            data.problems.append(f"forest/{path.name}: not a forest snapshot")
    return data



@dataclass
class DataCounts:
    """Examples per iteration: accepted per skill path and rejected per reason."""

    accepted: dict[int, Counter[str]] = field(default_factory=dict)
    rejected: dict[int, Counter[str]] = field(default_factory=dict)

    @property
    def iterations(self) -> list[int]:
        return sorted({*self.accepted, *self.rejected})

    def is_empty(self) -> bool:
        return not any(sum(c.values()) for c in [*self.accepted.values(), *self.rejected.values()])


def data_counts(examples: dict[int, list[TrainingExample]]) -> DataCounts:
    """Count the written examples of each iteration (as in ``data/iter-NNN.jsonl``)."""
    counts = DataCounts()
    for iteration, exs in examples.items():
        accepted = counts.accepted.setdefault(iteration, Counter())
        rejected = counts.rejected.setdefault(iteration, Counter())
        for ex in exs:
            if ex.accepted:
                accepted[ex.skill] += 1
            else:
                rejected[ex.verdict.reason.value if ex.verdict else UNVALIDATED] += 1
    return counts


def data_counts_from_rounds(rounds: Iterable[dict[str, Any]]) -> DataCounts:
    """The same counts from ``metrics.json`` rounds (for runs whose data files are gone)."""
    counts = DataCounts()
    for r in rounds:
        counts.accepted[r["iteration"]] = Counter(int_map(r.get("accepted_per_skill")))
        counts.rejected[r["iteration"]] = Counter(int_map(r.get("rejected")))
    return counts


def accuracy_of(entry: dict[str, Any], split: str) -> float | None:
    value = (entry.get(split) or {}).get("accuracy") if isinstance(entry.get(split), dict) else None
    return float(value) if isinstance(value, int | float) else None


def per_skill_names(evals: Sequence[dict[str, Any]], split: str = "validation") -> list[str]:
    names: set[str] = set()
    for e in evals:
        per_skill = (e.get(split) or {}).get("per_skill") if isinstance(e.get(split), dict) else None
        if isinstance(per_skill, dict):
            names.update(str(k) for k in per_skill)
    return sorted(names)


def skill_series(evals: Sequence[dict[str, Any]], skill: str) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for e in evals:
        value = ((e.get("validation") or {}).get("per_skill") or {}).get(skill)
        if isinstance(value, int | float):
            xs.append(e["iteration"])
            ys.append(float(value))
    return xs, ys



def as_int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def int_map(value: Any) -> dict[str, int]:
    return {str(k): as_int(v) for k, v in value.items()} if isinstance(value, dict) else {}



def _iteration_of(path: Path) -> int | None:
    try:
        return int(path.stem.split("-", 1)[1])
    except (IndexError, ValueError):
        return None


def _read_examples(path: Path, data: RunData) -> list[TrainingExample]:
    out, bad = [], 0
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                out.append(TrainingExample.model_validate_json(line))
            except ValueError:
                bad += 1
    if bad:
        data.problems.append(f"data/{path.name}: skipped {bad} unreadable line(s)")
    return out
