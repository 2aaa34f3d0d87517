"""Test accuracy before and after teaching, from one VQA run, with the strategies benchmark's statistics.

A run of ``examples/vqa.yaml`` evaluates the held-out test split before the first teacher step
and after every round, storing per-item outcomes in ``metrics.json``. This compares the first
evaluation with the last item by item, overall and per question family, with
:mod:`teachgraph.stats` (Wilson 95% intervals, paired bootstrap 95% interval of the difference,
McNemar's exact p). With ``--shuffled`` it also loads the final adapter and answers the test
split again with the images shuffled among the questions (a seeded derangement): if the taught
student reads the picture, real images beat shuffled ones on the same items.

    .venv/bin/python benchmarks/vqa_run.py runs/vqa                  # prints a table
    .venv/bin/python benchmarks/vqa_run.py runs/vqa --shuffled --out benchmarks/results/vqa_run.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run_outcomes import before_after_summary, grouped_summary, run_outcomes
from teachgraph.stats import compare_paired, outcomes_string
from teachgraph.tasks import load_task


def before_after(run_dir: str | Path) -> dict[str, Any]:
    """Overall and per gold skill: n, test accuracy before and after (Wilson intervals), paired comparison.

    Raises:
        ValueError: fewer than two test evaluations, or outcomes that do not match the task's test split.
    """
    outcomes = run_outcomes(run_dir)
    out: dict[str, Any] = {
        "all": before_after_summary(outcomes.first, outcomes.last),
        "per_skill": grouped_summary(outcomes, lambda inst: str(inst.gold_skill)),
    }
    out["accuracy_per_evaluation"] = [t["accuracy"] for t in outcomes.tests]
    out["run"] = run_summary(Path(run_dir), outcomes.metrics)
    return out


def run_summary(run: Path, metrics: dict[str, Any]) -> dict[str, Any]:
    """What the run cost: wall time (first to last trace event), data, teacher calls and tokens."""
    stamps = [json.loads(line)["ts"] for line in (run / "trace.jsonl").read_text().splitlines() if line.strip()]
    rounds = metrics.get("rounds", [])
    cost = metrics.get("cost", {})
    return {
        "wall_s": round(max(stamps) - min(stamps)) if stamps else None,
        "written": sum(r.get("written", 0) for r in rounds),
        "accepted": sum(r.get("accepted", 0) for r in rounds),
        "teacher_calls": cost.get("calls"),
        "teacher_tokens_in": cost.get("input_tokens"),
        "teacher_tokens_out": cost.get("output_tokens"),
        "calls_by_node": {k: v.get("calls") for k, v in cost.get("by_node", {}).items()},
    }


def real_vs_shuffled(run_dir: str | Path, seed: int = 0) -> dict[str, Any]:
    """The final adapter on the test split with real and with shuffled images (paired, same items)."""
    from benchmarks.vision_student import shuffled_images
    from teachgraph.runner import load_run_config
    from teachgraph.student import build_student
    from teachgraph.tracing.rundir import RunDir

    run = Path(run_dir)
    config = load_run_config(RunDir(run))
    task = load_task(config.task)
    student = build_student(config.student)
    adapters = sorted((run / "adapters").glob("iter-*"))
    if not adapters:
        raise ValueError(f"{run}: no trained adapter")
    student.load_adapter(adapters[-1])
    instances = task.instances("test")
    results = {}
    for name, items in (("real", instances), ("shuffled", shuffled_images(instances, seed))):
        start = time.monotonic()
        replies = student.predict([task.student_prompt(i.prompt) for i in items])
        correct = [task.score(i, r).correct for i, r in zip(items, replies, strict=True)]
        results[name] = {
            "accuracy": sum(correct) / len(correct),
            "outcomes": outcomes_string(correct),
            "seconds": round(time.monotonic() - start, 1),
        }
    results["adapter"] = adapters[-1].name
    results["real_vs_shuffled"] = compare_paired(
        results["shuffled"]["outcomes"], results["real"]["outcomes"]
    ).model_dump()
    return results


def _line(name: str, r: dict[str, Any]) -> str:
    p = r["paired"]
    return (
        f"{name}: n={r['n']}  {r['before']:.3f} -> {r['after']:.3f}  difference {p['difference']:+.3f} "
        f"[{p['interval'][0]:+.3f}, {p['interval'][1]:+.3f}]  McNemar p={p['p_value']:.3g} "
        f"({p['treatment_only']} gained, {p['baseline_only']} lost)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--shuffled", action="store_true", help="also score the final adapter with shuffled images")
    parser.add_argument("--json", action="store_true", help="print the data as JSON")
    parser.add_argument("--out", type=Path, help="write the data here (with the command and machine)")
    args = parser.parse_args()
    result: dict[str, Any] = {"before_after": before_after(args.run_dir)}
    if args.shuffled:
        result["final_adapter"] = real_vs_shuffled(args.run_dir)
    result["command"] = " ".join(["python", *sys.argv])
    result["machine"] = platform.platform()
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    if args.json:
        print(json.dumps(result, indent=2))
        return
    ba = result["before_after"]
    print(_line("all", ba["all"]))
    for skill, r in ba["per_skill"].items():
        print(_line(skill, r))
    if args.shuffled:
        f = result["final_adapter"]
        p = f["real_vs_shuffled"]
        print(
            f"final adapter {f['adapter']}: real images {f['real']['accuracy']:.3f} vs shuffled "
            f"{f['shuffled']['accuracy']:.3f}  difference {p['difference']:+.3f} "
            f"[{p['interval'][0]:+.3f}, {p['interval'][1]:+.3f}]  McNemar p={p['p_value']:.3g}"
        )


if __name__ == "__main__":
    main()
