"""One strategy's record for the strategies benchmark, built from its run directory.

A record holds everything the comparison needs, so it can be committed and read on another
machine without the (gitignored) run directory: per iteration the test accuracy with its 95%
interval, the per-item outcomes the paired tests read, per-skill accuracy, the data written and
validated, the teacher's tokens and calls, and wall time per phase.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.strategies_report import per_skill
from teachgraph.config import RunConfig
from teachgraph.domain import EvaluationReport
from teachgraph.stats import accuracy_interval
from teachgraph.tracing.events import TraceEvent
from teachgraph.tracing.rundir import RunDir

PHASES = ("teacher_llm", "drawing_and_validation", "training", "evaluation", "wall")


def evaluation_entry(outcomes: str, test_skills: list[str]) -> dict[str, Any]:
    """Accuracy, Wilson interval, per-skill figures and outcomes of one test evaluation."""
    n, correct = len(outcomes), outcomes.count("1")
    if n != len(test_skills):
        raise ValueError(
            f"{n} test outcomes for {len(test_skills)} test items: was the run made with another task config?"
        )
    return {
        "accuracy": correct / n if n else 0.0,
        "interval": accuracy_interval(correct, n),
        "n": n,
        "correct": correct,
        "per_skill": per_skill(outcomes, test_skills),
        "outcomes": outcomes,
    }


def _busy_seconds(spans: list[tuple[float, float]]) -> float:
    """Length of the union of time spans (parallel calls to one model overlap)."""
    total, end = 0.0, float("-inf")
    for lo, hi in sorted(spans):
        if hi > end:
            total += hi - max(lo, end)
            end = hi
    return total


def phase_seconds(events: list[TraceEvent]) -> dict[int, dict[str, float]]:
    """Wall time per phase for each round k (the teaching from evaluation k to evaluation k+1).

    ``evaluation`` is evaluation k+1's; ``teacher_llm`` the time with a teacher call in flight;
    ``drawing_and_validation`` the rest of the round outside training.
    """
    marks = {e.iteration: e.ts for e in events if e.kind == "iteration"}
    out: dict[int, dict[str, float]] = {}
    for k in sorted(marks):
        if k + 1 not in marks:
            continue
        wall = marks[k + 1] - marks[k]
        in_round = [e for e in events if marks[k] < e.ts <= marks[k + 1]]
        training = sum(float(e.data.get("seconds") or 0) for e in in_round if e.kind == "training")
        evaluation = sum(float(e.data.get("seconds") or 0) for e in in_round if e.kind == "evaluation")
        spans = [(e.ts - float(e.data.get("latency_s") or 0), e.ts) for e in in_round if e.kind == "llm_call"]
        llm = _busy_seconds(spans)
        out[k] = {
            "teacher_llm": round(llm, 1),
            "drawing_and_validation": round(max(wall - training - evaluation - llm, 0.0), 1),
            "training": round(training, 1),
            "evaluation": round(evaluation, 1),
            "wall": round(wall, 1),
        }
    return out


def strategy_record(
    name: str, config: RunConfig, run_dir: RunDir, test_skills: list[str], *, engine: str | None
) -> dict[str, Any]:
    """The record of a strategy's episode (finished or as far as it got)."""
    metrics = run_dir.read_metrics()
    events = run_dir.read_events()
    phases = phase_seconds(events)
    calls_per_iteration: dict[int, int] = {}
    for e in events:
        if e.kind == "llm_call":
            calls_per_iteration[e.iteration] = calls_per_iteration.get(e.iteration, 0) + 1
    rounds = {r["iteration"]: r for r in metrics.get("rounds", [])}
    iterations = []
    for ev in metrics.get("evaluations", []):
        k = ev["iteration"]
        r = rounds.get(k - 1, {})  # the round whose data produced this evaluation's student
        iterations.append(
            {
                "iteration": k,
                "test": evaluation_entry(ev["test"]["outcomes"], test_skills),
                "validation": {"accuracy": ev["validation"]["accuracy"], "n": ev["validation"]["n"]},
                "written": r.get("written", 0),
                "validated": r.get("accepted", 0),
                "rejected": r.get("rejected", {}),
                "teacher_input_tokens": r.get("teacher_input_tokens", 0),
                "teacher_output_tokens": r.get("teacher_output_tokens", 0),
                "llm_calls": calls_per_iteration.get(k - 1, 0) if k else 0,
                "seconds": phases.get(k - 1) if k else None,
            }
        )
    return {
        "strategy": name,
        "finished": bool(metrics.get("stop_reason")),
        "engine": engine,
        "environment": config.teacher.environment if engine else None,
        "with_state": config.teacher.with_state if engine else None,
        "policy": config.teacher.policy if engine and config.teacher.environment == "skill_tree" else None,
        "examples_per_iteration": config.teacher.examples_per_iteration if name != "no_training" else 0,
        "config": config.model_dump(mode="json", exclude={"presets"}),
        "iterations": iterations,
        "totals": totals(iterations, phases),
    }


def totals(iterations: list[dict[str, Any]], phases: dict[int, dict[str, float]]) -> dict[str, Any]:
    """Whole-run sums: data, tokens, calls and seconds per phase."""
    keys = ("written", "validated", "teacher_input_tokens", "teacher_output_tokens", "llm_calls")
    out: dict[str, Any] = {k: sum(i[k] for i in iterations) for k in keys}
    rejected: dict[str, int] = {}
    for i in iterations:
        for reason, n in i["rejected"].items():
            rejected[reason] = rejected.get(reason, 0) + n
    out["rejected_by_reason"] = rejected
    out["seconds"] = {p: round(sum(ph[p] for ph in phases.values()), 1) for p in PHASES}
    return out


def untrained_record(
    config: RunConfig,
    report_test: EvaluationReport,
    report_val: EvaluationReport,
    test_skills: list[str],
    seconds: float,
) -> dict[str, Any]:
    """The record of the untrained student: one evaluation, nothing written."""
    iteration = {
        "iteration": 0,
        "test": evaluation_entry(report_test.outcomes, test_skills),
        "validation": {"accuracy": report_val.accuracy, "n": report_val.n},
        "written": 0,
        "validated": 0,
        "rejected": {},
        "teacher_input_tokens": 0,
        "teacher_output_tokens": 0,
        "llm_calls": 0,
        "seconds": None,
    }
    out = totals([iteration], {})
    out["seconds"]["evaluation"] = out["seconds"]["wall"] = round(seconds, 1)
    return {
        "strategy": "no_training",
        "finished": True,
        "engine": None,
        "environment": None,
        "with_state": None,
        "policy": None,
        "examples_per_iteration": 0,
        "config": config.model_dump(mode="json", exclude={"presets"}),
        "iterations": [iteration],
        "totals": out,
        "evaluated_at": time.time(),
    }
