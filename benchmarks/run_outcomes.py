"""One run's held-out test outcomes before and after teaching, compared item by item.

Shared by the per-run benchmarks (``code_pass_at_1.py``, ``vqa_run.py``): a run evaluates its test
split before the first teacher step and after every round, storing per-item outcomes in
``metrics.json``; these helpers pair the first evaluation with the last, with the statistics of
the strategies benchmark (:mod:`teachgraph.stats`: Wilson intervals, paired bootstrap, McNemar).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from teachgraph.domain import TaskInstance
from teachgraph.stats import accuracy_interval, compare_paired
from teachgraph.tasks import load_task


@dataclass(frozen=True)
class RunOutcomes:
    """A run's test items with its first and last evaluation's outcomes ('1' correct, '0' not)."""

    instances: list[TaskInstance]
    first: str
    last: str
    tests: list[dict[str, Any]]
    metrics: dict[str, Any]


def run_outcomes(run_dir: str | Path) -> RunOutcomes:
    """Read ``run_dir``'s config, task test split and test evaluations.

    Raises:
        ValueError: fewer than two test evaluations, or outcomes that do not match the task's test
            split (the run was made with another task configuration).
    """
    run = Path(run_dir)
    config = yaml.safe_load((run / "config.yaml").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    tests = [e["test"] for e in metrics.get("evaluations", []) if e.get("test")]
    if len(tests) < 2:
        raise ValueError(f"{run}: needs a test evaluation before and after training, found {len(tests)}")
    instances = load_task(config["task"]).instances("test")
    first, last = tests[0]["outcomes"], tests[-1]["outcomes"]
    if not len(first) == len(last) == len(instances):
        raise ValueError(f"{run}: {len(first)} outcomes for {len(instances)} test items; not this task's split")
    return RunOutcomes(instances, first, last, tests, metrics)


def before_after_summary(before: str, after: str) -> dict[str, Any]:
    """n, accuracy before and after with Wilson 95% intervals, and the paired comparison."""
    n = len(before)
    return {
        "n": n,
        "before": before.count("1") / n,
        "before_interval": accuracy_interval(before.count("1"), n),
        "after": after.count("1") / n,
        "after_interval": accuracy_interval(after.count("1"), n),
        "paired": compare_paired(before, after).model_dump(),
    }


def grouped_summary(outcomes: RunOutcomes, group_of: Callable[[TaskInstance], str]) -> dict[str, dict[str, Any]]:
    """:func:`before_after_summary` per group of test items (``group_of(instance)`` names it)."""
    groups: dict[str, list[int]] = {}
    for k, inst in enumerate(outcomes.instances):
        groups.setdefault(group_of(inst), []).append(k)
    return {
        name: before_after_summary(
            "".join(outcomes.first[k] for k in rows), "".join(outcomes.last[k] for k in rows)
        )
        for name, rows in sorted(groups.items())
    }
