"""Cost of the sandbox: programs per second, isolated (bubblewrap) vs limits-only, side by side.

Every round runs the same batch of typical solution programs (the math prelude plus a few lines
of arithmetic) through each way of running them, interleaved so machine load hits all alike:

* ``limits-only``: the previous sandbox (fresh ``python -I -S``, rlimits, temp dir), the weaker mode;
* ``isolated``: the default, a bubblewrap container per program;
* ``unshare (reference)``: util-linux ``unshare`` with new PID, mount, net, IPC and UTS namespaces
  and a fresh /proc, but none of the filesystem reduction or uid switch (the other candidate tool,
  for the start-up cost of namespaces alone).

Sequential (one program at a time: per-program latency) and with ``run_many``'s 2 workers
(throughput). Medians over ``--repeats`` rounds.

    .venv/bin/python benchmarks/sandbox.py            # 40 programs x 3 rounds
    .venv/bin/python benchmarks/sandbox.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from teachgraph.nodes.sandbox import PRELUDE
from teachgraph.sandbox import Sandbox, bubblewrap
from teachgraph.sandbox.process import run_bounded

RESULTS = Path(__file__).parent / "results"


def program(i: int) -> str:
    return PRELUDE + f"a, b = {i + 12}, {3 * i + 18}\nprint(gcd(a, b) + isqrt(a * b) + Fraction(a, b).denominator)\n"


def unshare_run(code: str) -> bool:
    with tempfile.TemporaryDirectory(prefix="tg-bench-") as tmp:
        path = os.path.join(tmp, "main.py")
        Path(path).write_text(code)
        argv = ["unshare", "--pid", "--fork", "--mount-proc", "--net", "--ipc", "--uts", "--"]
        outcome = run_bounded([*argv, sys.executable, "-I", "-S", path], timeout_s=10, max_output=10_000)
        return outcome.returncode == 0


def runners() -> dict[str, Callable[[str], bool]]:
    limited, isolated = Sandbox(mode="limits-only"), Sandbox()
    found = {
        "limits-only": lambda c: limited.run(c).ok,
        "isolated": lambda c: isolated.run(c).ok,
    }
    if shutil.which("unshare") and os.geteuid() == 0:  # as a normal user it would need a user namespace too
        found["unshare (reference)"] = unshare_run
    return found


def batch(run: Callable[[str], bool], codes: list[str], workers: int) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        oks = list(pool.map(run, codes))
    assert all(oks), "a benchmark program failed"
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10 programs, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.programs, args.repeats = 10, 1
    print(Sandbox().check())
    codes = [program(i) for i in range(args.programs)]
    modes = runners()
    for run in modes.values():
        batch(run, codes[:2], 1)  # warm-up: imports, page cache, the isolation probe
    times: dict[tuple[str, int], list[float]] = {(m, w): [] for m in modes for w in (1, 2)}
    for _ in range(args.repeats):
        for workers in (1, 2):
            for name, run in modes.items():
                times[(name, workers)].append(batch(run, codes, workers))
    base = {w: statistics.median(times[("limits-only", w)]) for w in (1, 2)}
    rows = []
    print(f"{args.programs} programs, median of {args.repeats} round(s), interleaved")
    print(f"{'mode':<22} {'workers':>7} {'programs/s':>11} {'ms/program':>11} {'x limits-only':>14}")
    for (name, workers), samples in times.items():
        t = statistics.median(samples)
        row = {
            "mode": name,
            "workers": workers,
            "programs_per_second": round(args.programs / t, 1),
            "ms_per_program": round(1000 * t / args.programs, 1),
            "time_over_limits_only": round(t / base[workers], 2),
        }
        rows.append(row)
        print(
            f"{name:<22} {workers:>7} {row['programs_per_second']:>11} {row['ms_per_program']:>11}"
            f" {row['time_over_limits_only']:>14}"
        )
    RESULTS.mkdir(exist_ok=True)
    out = {
        "command": "python " + " ".join(sys.argv),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}"
        f" (shared with other jobs: compare ratios within this run only)",
        "isolation": bubblewrap.describe(),
        "programs": args.programs,
        "repeats": args.repeats,
        "results": rows,
    }
    (RESULTS / "sandbox.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS / 'sandbox.json'}")


if __name__ == "__main__":
    main()
