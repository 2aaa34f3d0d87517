"""Teacher strategies side by side: same student, splits, seeds and data budget for each.

Strategies: no training; random data from the task's own generators (no teacher); open-ended
with and without state; skill-list; skill-tree with the LLM, handwritten and bandit policies.
Each runs as a normal episode into ``benchmarks/results/runs/<strategy>/`` (resumable: finished
strategies are reused, unfinished ones resumed), then the comparison is written to
``benchmarks/results/strategies.{json,md,png}``.

    .venv/bin/python benchmarks/strategies.py                 # local Qwen teacher, SmolLM2 student (hours)
    .venv/bin/python benchmarks/strategies.py --quick         # 1 iteration, small splits
    .venv/bin/python benchmarks/strategies.py --scripted      # scripted teacher + tiny student: plumbing check
    .venv/bin/python benchmarks/strategies.py --only skill_tree_bandit open_ended
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
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
    "no_training": None,
    "random_data": {"environment": "skill_list", "with_state": False},  # teacher graph replaced below
    "open_ended": {"environment": "open_ended", "with_state": True},
    "open_ended_no_state": {"environment": "open_ended", "with_state": False},
    "skill_list": {"environment": "skill_list", "with_state": True},
    "skill_tree_llm": {"environment": "skill_tree", "with_state": True, "policy": "llm"},
    "skill_tree_handwritten": {"environment": "skill_tree", "with_state": True, "policy": "alternating"},
    "skill_tree_bandit": {"environment": "skill_tree", "with_state": True, "policy": "bandit"},
}


def strategy_config(base: RunConfig, name: str, overrides: dict[str, Any]) -> RunConfig:
    teacher = base.teacher.model_copy(update=overrides)
    return base.model_copy(update={"name": name, "teacher": teacher})


def run_strategy(base: RunConfig, name: str, out_root: Path, student: Any) -> dict[str, Any]:
    """Run (or reuse / resume) one strategy; return its record."""
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
        return {
            "strategy": name,
            "test_accuracy_per_iteration": [acc],
            "test_accuracy_per_skill": [{k: sum(v) / len(v) for k, v in sorted(per_skill.items())}],
            "validation_accuracy_per_iteration": [],
            "written_examples": 0,
            "validated_examples": 0,
            "teacher_input_tokens": 0,
            "teacher_output_tokens": 0,
            "teacher_output_tokens_per_iteration": [],
            "wall_seconds": round(time.perf_counter() - start, 1),
        }
    config = strategy_config(base, name, STRATEGIES[name] or {})
    graph = random_data_graph() if name == "random_data" else None
    run_dir = RunDir(out)
    metrics = run_dir.read_metrics()
    if metrics.get("stop_reason"):
        print(f"[{name}] reusing finished run in {out}")
    else:
        resume = run_dir.exists() and run_dir.checkpoints_path.is_file()
        print(f"[{name}] {'resuming' if resume else 'running'} -> {out}", flush=True)
        metrics = run_episode(config, out, resume=resume, student=student, teacher_graph=graph, on_event=_printer(name))
    rounds = metrics.get("rounds", [])
    evals = metrics.get("evaluations", [])
    return {
        "strategy": name,
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
    }


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


def write_outputs(records: list[dict[str, Any]], args: argparse.Namespace, config: RunConfig) -> None:
    RESULTS.mkdir(exist_ok=True)
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cpus, {_mem_gib()} GiB RAM, Python {platform.python_version()}, no GPU"
    )
    command = "python benchmarks/" + " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
    payload = {
        "command": command,
        "machine": machine,
        "config": config.model_dump(mode="json", exclude={"presets"}),
        "strategies": records,
    }
    (RESULTS / "strategies.json").write_text(json.dumps(payload, indent=2) + "\n")
    base = records[0]["test_accuracy_per_iteration"][0] if records and records[0]["strategy"] == "no_training" else None
    lines = [
        "# Teacher strategies side by side",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine}  ",
        f"Student: {config.student.model}; teacher: {config.teacher.models.get('default')}; task: {config.task.name} {config.task.params}; "
        f"{config.loop.iterations} iterations x {config.teacher.examples_per_iteration} examples.",
        "",
        "| strategy | test acc. per iteration | final | gain vs untrained | validated / written | teacher out tokens | wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in records:
        accs = r["test_accuracy_per_iteration"]
        final = accs[-1] if accs else float("nan")
        gain = f"{100 * (final - base):+.1f} pts" if base is not None else "-"
        lines.append(
            f"| {r['strategy']} | {' → '.join(f'{a:.3f}' for a in accs)} | {final:.3f} | {gain} | "
            f"{r['validated_examples']} / {r['written_examples']} | {r['teacher_output_tokens']} | {r['wall_seconds']} |"
        )
    (RESULTS / "strategies.md").write_text("\n".join(lines) + "\n")
    _plot(records)
    print("\n".join(lines))


def _mem_gib() -> int:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    except (ValueError, OSError):
        return 0


def _plot(records: list[dict[str, Any]]) -> None:
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
    fig.savefig(RESULTS / "strategies.png")
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
    args = parser.parse_args()
    preset = "scripted" if args.scripted else ("quick" if args.quick else None)
    config = load_config(args.config, preset=preset)
    out_root = RESULTS / "runs" / (preset or "full")
    names = args.only or list(STRATEGIES)
    if args.fresh:
        for n in names:
            shutil.rmtree(out_root / n, ignore_errors=True)
    student = build_student(config.student)  # one student object: the base model loads once
    records = [run_strategy(config, n, out_root, student) for n in names]
    write_outputs(records, args, config)


if __name__ == "__main__":
    main()
