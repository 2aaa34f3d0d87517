"""Teacher strategies side by side: same student, splits, seeds and data budget for each.

Strategies: no training; random data from the task's own generators (no teacher); open-ended
with and without state; skill-list; skill-tree with the LLM, handwritten and bandit policies.
Each runs as a normal episode into ``benchmarks/results/runs/<full or preset>/<strategy>/`` (resumable: finished
strategies are reused, unfinished ones resumed), then the comparison is written to
``benchmarks/results/strategies.{json,md,png}`` (``strategies-quick.*`` / ``strategies-scripted.*``
for the presets).

    .venv/bin/python benchmarks/strategies.py                 # local Qwen teacher, SmolLM2 student (hours)
    .venv/bin/python benchmarks/strategies.py --quick         # 1 iteration, small splits
    .venv/bin/python benchmarks/strategies.py --scripted      # scripted teacher + tiny student: plumbing check
    .venv/bin/python benchmarks/strategies.py --only skill_tree_bandit open_ended
    .venv/bin/python benchmarks/strategies.py --report-only   # rewrite results from the runs there
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from teachgraph.config import RunConfig, load_config
from teachgraph.nodes.evaluate import evaluate_split
from teachgraph.nodes.random_data import random_data_graph
from teachgraph.runner import run_episode
from teachgraph.student import build_student
from teachgraph.tasks import load_task
from teachgraph.tracing.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
CONFIG = Path(__file__).parent / "strategies.yaml"

STRATEGIES: dict[str, dict[str, Any] | None] = {
    # Baselines first, then the headline pair (skill-tree with state vs the no-state teacher), so
    # an interrupted comparison still has the figures the targets are about.
    "no_training": None,
    "random_data": {"environment": "skill_list", "with_state": False},  # teacher graph replaced below
    "skill_tree_bandit": {"environment": "skill_tree", "with_state": True, "policy": "bandit"},
    "open_ended_no_state": {"environment": "open_ended", "with_state": False},
    "open_ended": {"environment": "open_ended", "with_state": True},
    "skill_list": {"environment": "skill_list", "with_state": True},
    "skill_tree_handwritten": {"environment": "skill_tree", "with_state": True, "policy": "alternating"},
    "skill_tree_llm": {"environment": "skill_tree", "with_state": True, "policy": "llm"},
}


def strategy_config(base: RunConfig, name: str, overrides: dict[str, Any]) -> RunConfig:
    teacher = base.teacher.model_copy(update=overrides)
    return base.model_copy(update={"name": name, "teacher": teacher})


def run_strategy(
    base: RunConfig, name: str, out_root: Path, student: Any, *, report_only: bool = False
) -> dict[str, Any] | None:
    """Run (or reuse / resume) one strategy; return its record.

    With ``report_only`` nothing is run or resumed: an unfinished run is reported as far as it
    got (``finished: false``), a missing one is skipped (``None``).
    """
    out = out_root / name
    start = time.perf_counter()
    if name == "no_training":
        task = load_task(base.task)
        student.load_adapter(None)
        evaluated = evaluate_split(student, task, task.instances("test"))
        acc = sum(e.correct for e in evaluated) / len(evaluated)
        per_skill: dict[str, list[bool]] = {}
        for e in evaluated:
            per_skill.setdefault(e.instance.gold_skill or "all", []).append(e.correct)
        skill_acc = {k: sum(v) / len(v) for k, v in sorted(per_skill.items())}
        wall = round(time.perf_counter() - start, 1)
        return {
            "strategy": name,
            "finished": True,
            "test_accuracy_per_iteration": [acc],
            "test_accuracy_per_skill": [skill_acc],
            "validation_accuracy_per_iteration": [],
            "written_examples": 0,
            "validated_examples": 0,
            "teacher_input_tokens": 0,
            "teacher_output_tokens": 0,
            "teacher_output_tokens_per_iteration": [],
            "wall_seconds": wall,
            "per_iteration": [
                {
                    "iteration": 0,
                    "test_accuracy": acc,
                    "test_accuracy_per_skill": skill_acc,
                    "written": 0,
                    "validated": 0,
                    "teacher_input_tokens": 0,
                    "teacher_output_tokens": 0,
                    "wall_seconds": wall,
                }
            ],
        }
    config = strategy_config(base, name, STRATEGIES[name] or {})
    graph = random_data_graph() if name == "random_data" else None
    run_dir = RunDir(out)
    metrics = run_dir.read_metrics()
    if metrics.get("stop_reason"):
        print(f"[{name}] reusing finished run in {out}")
    elif report_only:
        if not metrics.get("evaluations"):
            print(f"[{name}] no run in {out}: left out of the report")
            return None
        print(f"[{name}] unfinished run in {out}: reported as far as it got")
    else:
        resume = run_dir.exists() and run_dir.checkpoints_path.is_file()
        print(f"[{name}] {'resuming' if resume else 'running'} -> {out}", flush=True)
        metrics = run_episode(config, out, resume=resume, student=student, teacher_graph=graph, on_event=_printer(name))
    rounds = metrics.get("rounds", [])
    evals = metrics.get("evaluations", [])
    return {
        "strategy": name,
        "finished": bool(metrics.get("stop_reason")),
        "test_accuracy_per_iteration": [e["test"]["accuracy"] for e in evals if "test" in e],
        "test_accuracy_per_skill": [e["test"]["per_skill"] for e in evals if "test" in e],
        "validation_accuracy_per_iteration": [e["validation"]["accuracy"] for e in evals],
        "written_examples": sum(r["written"] for r in rounds),
        "validated_examples": sum(r["accepted"] for r in rounds),
        "rejected_by_reason": _sum_dicts(r["rejected"] for r in rounds),
        "teacher_input_tokens": sum(r["teacher_input_tokens"] for r in rounds),
        "teacher_output_tokens": sum(r["teacher_output_tokens"] for r in rounds),
        "teacher_output_tokens_per_iteration": [r["teacher_output_tokens"] for r in rounds],
        "wall_seconds": _wall_seconds(run_dir),
        "per_iteration": _per_iteration(metrics, run_dir),
    }


def _per_iteration(metrics: dict[str, Any], run_dir: RunDir) -> list[dict[str, Any]]:
    """One row per iteration k: the test result after k training rounds, and the cost of getting there.

    Row 0 is the initial evaluation; row k (k >= 1) carries round k-1's writing (the data trained
    on before evaluation k) and the wall time since the previous evaluation.
    """
    events = run_dir.read_events()
    marks = [e.ts for e in events if e.kind == "iteration"]
    rounds = {r["iteration"]: r for r in metrics.get("rounds", [])}
    rows = []
    for e in metrics.get("evaluations", []):
        k = e["iteration"]
        r = rounds.get(k - 1, {})
        start = marks[k - 1] if k >= 1 and k - 1 < len(marks) else (events[0].ts if events else None)
        end = marks[k] if k < len(marks) else None
        rows.append(
            {
                "iteration": k,
                "test_accuracy": e.get("test", {}).get("accuracy"),
                "test_accuracy_per_skill": e.get("test", {}).get("per_skill", {}),
                "validation_accuracy": e.get("validation", {}).get("accuracy"),
                "written": r.get("written", 0),
                "validated": r.get("accepted", 0),
                "teacher_input_tokens": r.get("teacher_input_tokens", 0),
                "teacher_output_tokens": r.get("teacher_output_tokens", 0),
                "wall_seconds": round(end - start, 1) if start is not None and end is not None else None,
            }
        )
    return rows


def _sum_dicts(dicts: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def _wall_seconds(run_dir: RunDir) -> float | None:
    """Wall time from the trace: first to last event (spans resumes; excludes time not running)."""
    events = run_dir.read_events()
    if not events:
        return None
    return round(events[-1].ts - events[0].ts, 1)


def _printer(name: str):
    def show(event: dict[str, Any]) -> None:
        d = event.get("data", {})
        if event["kind"] == "evaluation":
            print(f"  [{name}] iter {event['iteration']} {d['split']} accuracy {d['accuracy']:.3f}", flush=True)
        elif event["kind"] == "training" and not d.get("skipped"):
            print(
                f"  [{name}] iter {event['iteration']} trained on {d['examples']} examples ({d['seconds']} s)",
                flush=True,
            )

    return show


def write_outputs(records: list[dict[str, Any]], config: RunConfig, stem: str = "strategies") -> None:
    """``<stem>.json``, ``.md`` and ``.png`` in ``benchmarks/results``."""
    RESULTS.mkdir(exist_ok=True)
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cpus, {_mem_gib()} GiB RAM, Python {platform.python_version()}, no GPU"
    )
    command = "python benchmarks/" + " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
    payload = {
        "command": command,
        "machine": machine,
        "commit": _commit(),
        "config": config.model_dump(mode="json", exclude={"presets"}),
        "strategies": records,
    }
    (RESULTS / f"{stem}.json").write_text(json.dumps(payload, indent=2) + "\n")
    base = records[0]["test_accuracy_per_iteration"][0] if records and records[0]["strategy"] == "no_training" else None
    lines = [
        "# Teacher strategies side by side",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine}  ",
        f"Tables written at commit {payload['commit']} (the runs record their own config, not their commit)  ",
        f"Student: {config.student.model}; teacher: {config.teacher.models.get('default')}; task: {config.task.name} {config.task.params}; "
        f"{config.loop.iterations} iterations x {config.teacher.examples_per_iteration} examples.",
        "",
        "| strategy | test acc. per iteration | final | gain vs untrained | validated / written | teacher tokens in / out | wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    n_test = _test_items(config)
    for r in records:
        accs = r["test_accuracy_per_iteration"]
        final = accs[-1] if accs else float("nan")
        gain = f"{100 * (final - base):+.1f} pts" if base is not None else "-"
        lines.append(
            f"| {r['strategy']}{'' if r.get('finished', True) else ' (unfinished)'} | "
            f"{' → '.join(f'{a:.3f}' for a in accs)} | {final:.3f} | {gain} | "
            f"{r['validated_examples']} / {r['written_examples']} | {r['teacher_input_tokens']} / "
            f"{r['teacher_output_tokens']} | {r['wall_seconds']} |"
        )
    skills = sorted({k for r in records for k in (r["test_accuracy_per_skill"] or [{}])[-1]})
    lines += [
        "",
        "Final held-out accuracy per gold skill:",
        "",
        "| strategy | " + " | ".join(skills) + " |",
        "|---|" + "---|" * len(skills),
    ]
    for r in records:
        last = (r["test_accuracy_per_skill"] or [{}])[-1]
        lines.append(f"| {r['strategy']} | " + " | ".join(f"{last.get(k, float('nan')):.2f}" for k in skills) + " |")
    lines += ["", *_target_lines(records, base, n_test)]
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n")
    _plot(records, RESULTS / f"{stem}.png")
    print("\n".join(lines))


def _test_items(config: RunConfig) -> int:
    return int(config.task.params.get("test_size", 0)) or len(load_task(config.task).instances("test"))


def _target_lines(records: list[dict[str, Any]], base: float | None, n_test: int) -> list[str]:
    """The issue's targets, computed from this run, with the noise level they sit in."""
    finals = {r["strategy"]: r["test_accuracy_per_iteration"][-1] for r in records if r["test_accuracy_per_iteration"]}
    if base is None or n_test == 0:
        return []
    # Two accuracies on the same n items: the standard error of their difference is at most
    # sqrt(2 * 0.25 / n) (unpaired, worst case p = 0.5); a quoted gain smaller than 2 SE is noise.
    se = (0.5 / n_test) ** 0.5
    out = [
        f"Noise: {n_test} test items, one item = {100 / n_test:.1f} pts; 2 SE of a difference of two "
        f"accuracies is up to {200 * se:.1f} pts.",
        "",
        "| target | measured |",
        "|---|---|",
    ]
    no_state = finals.get("open_ended_no_state")
    for name in ("skill_tree_llm", "skill_tree_handwritten", "skill_tree_bandit"):
        if name not in finals:
            continue
        gain = finals[name] - base
        ratio = "n/a"
        if no_state is not None:
            ns_gain = no_state - base
            ratio = f"{gain / ns_gain:.2f}×" if ns_gain > 0 else f"n/a (no-state gain {100 * ns_gain:+.1f} pts)"
        verdict = "met" if gain >= 0.10 else "not met"
        if abs(gain) < 2 * se:
            verdict += ", within noise"
        out.append(f"| {name}: ≥ +10 pts over untrained | {100 * gain:+.1f} pts ({verdict}) |")
        out.append(f"| {name}: ≥ 1.5× the no-state teacher's gain | {ratio} |")
    return out


def _commit() -> str | None:
    """The checkout the comparison was written from ("-dirty" with uncommitted changes)."""
    try:
        run = functools.partial(subprocess.run, cwd=ROOT, capture_output=True, text=True, check=True)
        head = run(["git", "rev-parse", "--short", "HEAD"]).stdout.strip()
        dirty = run(["git", "status", "--porcelain", "--untracked-files=no"]).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("-dirty" if dirty else "")


def _mem_gib() -> int:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    except (ValueError, OSError):
        return 0


def _plot(records: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=120)
    for r in records:
        accs = r["test_accuracy_per_iteration"]
        if r["strategy"] == "no_training":
            ax.axhline(accs[0], color="black", linestyle="--", linewidth=1.2, label="no training")
            continue
        style = "-" if "no_state" not in r["strategy"] and r["strategy"] != "random_data" else ":"
        ax.plot(range(len(accs)), accs, style, marker="o", linewidth=2, label=r["strategy"])
    ax.set_xlabel("iteration (evaluations after each training round)")
    ax.set_ylabel("held-out test accuracy")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title("Teacher strategies at equal data budget")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(CONFIG))
    parser.add_argument("--quick", action="store_true", help="apply the config's 'quick' preset")
    parser.add_argument(
        "--scripted", action="store_true", help="scripted teacher + tiny student (plumbing check, minutes)"
    )
    parser.add_argument("--only", nargs="+", choices=list(STRATEGIES), help="run these strategies only")
    parser.add_argument("--fresh", action="store_true", help="delete earlier runs of the chosen strategies first")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the results from existing runs; run and resume nothing"
    )
    args = parser.parse_args()
    preset = "scripted" if args.scripted else ("quick" if args.quick else None)
    config = load_config(args.config, preset=preset)
    out_root = RESULTS / "runs" / (preset or "full")
    names = args.only or list(STRATEGIES)
    if args.fresh and args.report_only:
        parser.error("--fresh deletes runs; --report-only only reads them")
    if args.fresh:
        for n in names:
            shutil.rmtree(out_root / n, ignore_errors=True)
    student = build_student(config.student)  # one student object: the base model loads once
    records, failed = [], []
    for name in names:
        try:
            record = run_strategy(config, name, out_root, student, report_only=args.report_only)
            if record is not None:
                records.append(record)
        except Exception:  # one broken strategy must not cost the hours the others took
            traceback.print_exc()
            failed.append(name)
    # A smoke or plumbing run must not overwrite the full comparison's committed results.
    write_outputs(records, config, "strategies" if preset is None else f"strategies-{preset}")
    if failed:
        sys.exit(f"strategies failed (rerun to resume them): {', '.join(failed)}")


if __name__ == "__main__":
    main()
