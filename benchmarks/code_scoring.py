"""Cost of scoring code: one sandbox process per problem vs many problems per process, side by side.

Scores HumanEval's 164 canonical solutions and the algorithmic_code family's problems (408 at
default sizes) through :func:`teachgraph.tasks.code.run_suites` with ``chunk=1`` (a sandbox
start per problem) and the default chunk (one start per ``chunk`` problems, a fork per problem
inside), interleaved over ``--repeats`` rounds so machine load hits both alike. Prints medians
and the ratio; writes ``benchmarks/results/code_scoring.json``.

    .venv/bin/python benchmarks/code_scoring.py             # 3 rounds
    .venv/bin/python benchmarks/code_scoring.py --repeats 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from teachgraph.sandbox import Sandbox
from teachgraph.tasks.code import AlgorithmicCodeTask, HumanEvalTask, run_suites, suite_for

RESULTS = Path(__file__).parent / "results"
DEFAULT_CHUNK = 24


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sandbox = Sandbox()
    sandbox.check()
    sets = {}
    for task in (HumanEvalTask(), AlgorithmicCodeTask()):
        problems = [i for split in ("train", "validation", "test") for i in task.instances(split)]
        sets[task.name] = [suite_for(p, p.answer) for p in problems]
    times: dict[str, dict[str, list[float]]] = {name: {"per_problem": [], "batched": []} for name in sets}
    for _ in range(args.repeats):
        for name, suites in sets.items():
            for label, chunk in (("per_problem", 1), ("batched", DEFAULT_CHUNK)):
                start = time.perf_counter()
                results = run_suites(suites, sandbox, chunk=chunk)
                times[name][label].append(time.perf_counter() - start)
                assert all(r.ok for r in results), f"{name}: a reference solution failed"
    out = {
        "command": "python benchmarks/code_scoring.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.platform()}, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}",
        "sandbox": sandbox.check(),
        "chunk": DEFAULT_CHUNK,
        "repeats": args.repeats,
        "results": {},
    }
    for name, suites in sets.items():
        one, many = statistics.median(times[name]["per_problem"]), statistics.median(times[name]["batched"])
        out["results"][name] = {
            "problems": len(suites),
            "tests": sum(len(s.tests) for s in suites),
            "per_problem_s": round(one, 3),
            "batched_s": round(many, 3),
            "speedup": round(one / many, 2),
        }
        print(
            f"{name}: {len(suites)} problems  one sandbox each {one:.2f} s  batched {many:.2f} s  ({one / many:.1f}x)"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "code_scoring.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
