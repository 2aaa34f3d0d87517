"""Concurrency of data writing: sequential vs N concurrent LLM calls against a fixed-latency server.

One teacher step (skill list, gold skills, every (sub)skill's quota = one writer call) fans out
``jobs`` data-writing branches with ``Send``; LangGraph runs them concurrently, capped by the
run's ``max_concurrency``. The server adds ``--latency`` seconds to every call, so the ideal
speed-up with N concurrent calls is N (target: >= 0.8 N). All N are measured in one run,
interleaved over ``--repeats`` rounds; the median wall time per N is reported.

    .venv/bin/python benchmarks/concurrency.py            # latency 0.5 s, 8 jobs, N = 1 2 4 8
    .venv/bin/python benchmarks/concurrency.py --quick
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.latency_server import LatencyServer
from teachgraph.config import TeacherSettings
from teachgraph.domain import EvaluatedInstance
from teachgraph.graphs import TeacherContext, skill_list
from teachgraph.providers import ModelRouter
from teachgraph.tasks import load_task

RESULTS = Path(__file__).parent / "results"


def one_step(
    app, ctx: TeacherContext, evaluated: list[EvaluatedInstance], concurrency: int
) -> tuple[float, float, int]:
    """Wall time of the whole teacher step, and of its data-writing phase (first writer start to
    last writer finish, from the graph's ``tasks`` stream), and the number of examples."""
    start = time.perf_counter()
    first = last = None
    examples = 0
    for mode, chunk in app.stream(
        {"iteration": 0, "evaluated": evaluated, "forest": {}, "known_questions": []},
        context=ctx,
        config={"max_concurrency": concurrency},
        stream_mode=["tasks", "values"],
    ):
        if mode == "tasks" and chunk.get("name") == "data_writing":
            now = time.perf_counter()
            if "input" in chunk and first is None:
                first = now
            if "result" in chunk:
                last = now
        elif mode == "values":
            examples = len(chunk.get("examples", []))
    total = time.perf_counter() - start
    return total, (last - first) if first and last else float("nan"), examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--jobs", type=int, default=8, help="data-writing branches per step (one per skill)")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="latency 0.2 s, 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.latency, args.repeats = 0.2, 1

    skills = [
        "basic_arithmetic",
        "chain_sum",
        "gcd",
        "lcm",
        "products",
        "fraction_simplification",
        "simple_equations",
        "number_sorting",
    ]
    task = load_task(
        {
            "name": "arithmetic",
            "params": {
                "skills": skills[: args.jobs],
                "validation_size": args.jobs * 2,
                "test_size": args.jobs,
                "train_size": args.jobs * 2,
            },
        }
    )
    evaluated = [
        EvaluatedInstance(instance=i, prediction="Answer: 0", correct=False, score=0.0)
        for i in task.instances("validation")
    ]
    times: dict[int, list[float]] = {n: [] for n in args.levels}
    phase: dict[int, list[float]] = {n: [] for n in args.levels}
    with LatencyServer(args.latency) as url:
        router = ModelRouter({"default": f"openai-compatible:{url}#latency-model"})
        settings = TeacherSettings(
            environment="skill_list",
            use_gold_skills=True,
            allocation="uniform",
            examples_per_iteration=args.jobs * 2,
            batch_size=2,
        )
        ctx = TeacherContext(task=task, models=router, settings=settings, run_id="bench")
        app = skill_list(with_state=False).compile()
        one_step(app, ctx, evaluated, max(args.levels))  # warm-up: client, sandbox, eval index
        for _ in range(args.repeats):
            for n in args.levels:
                total, writing, written = one_step(app, ctx, evaluated, n)
                assert written == args.jobs * 2, written
                times[n].append(total)
                phase[n].append(writing)
    rows = []
    print(
        f"data writing: {args.jobs} branches x 1 call each, server latency {args.latency} s, median of {args.repeats}"
    )
    print(
        f"{'N':>3} {'step s':>8} {'writing s':>10} {'speed-up':>9} {'ideal':>6} {'speed-up/ideal':>15} {'step speed-up':>14}"
    )
    base_w, base_t = statistics.median(phase[args.levels[0]]), statistics.median(times[args.levels[0]])
    for n in args.levels:
        w, t = statistics.median(phase[n]), statistics.median(times[n])
        ideal = min(n, args.jobs) / min(args.levels[0], args.jobs)
        rows.append(
            {
                "concurrency": n,
                "step_seconds": round(t, 3),
                "writing_seconds": round(w, 3),
                "speedup": round(base_w / w, 2),
                "ideal": ideal,
                "speedup_over_ideal": round(base_w / w / ideal, 2),
                "step_speedup": round(base_t / t, 2),
            }
        )
        print(
            f"{n:>3} {t:>8.2f} {w:>10.2f} {base_w / w:>9.2f} {ideal:>6.1f} {base_w / w / ideal:>15.2f} {base_t / t:>14.2f}"
        )
    RESULTS.mkdir(exist_ok=True)
    out = {
        "command": "python " + " ".join(sys.argv),
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cpus, Python {platform.python_version()}",
        "latency_s": args.latency,
        "jobs": args.jobs,
        "repeats": args.repeats,
        "results": rows,
    }
    (RESULTS / "concurrency.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS / 'concurrency.json'}")


if __name__ == "__main__":
    main()
