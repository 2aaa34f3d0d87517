"""How good is ``teachgraph run --dry-run``? Its estimate beside the actual LLM use of a real run.

Give a finished (or partly finished) run directory; the config is the one saved in it, so the
estimate is for exactly what ran. Actual calls and tokens are read from the run's ``llm_call``
trace events (per node, per teacher step), and only the teacher steps the run completed are
compared, so a run cut short still gives a fair comparison of the steps it did.

    teachgraph run examples/default.yaml --preset quick --out runs/q     # the real run
    .venv/bin/python benchmarks/dry_run_estimate.py runs/q               # -> results/dry_run_estimate.json
    .venv/bin/python benchmarks/dry_run_estimate.py --strategies         # vs results/strategies.json

``--strategies`` compares the estimate with the totals of the committed local-teacher strategy
runs (``benchmarks/strategies.py``; their config and per-strategy settings are in that file).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from teachgraph.dryrun import estimate_run
from teachgraph.runner import load_run_config, with_loop
from teachgraph.tracing.rundir import RunDir

RESULTS = Path(__file__).resolve().parent / "results" / "dry_run_estimate.json"


def actual_use(run: RunDir, steps: int) -> dict[str, dict[str, int]]:
    """Calls, attempts and tokens per node over the first ``steps`` teacher steps, from the trace."""
    out: dict[str, dict[str, int]] = defaultdict(
        lambda: {"calls": 0, "attempts": 0, "input_tokens": 0, "output_tokens": 0}
    )
    for e in run.read_events():
        if e.kind == "llm_call" and e.iteration < steps:
            line = out[e.node]
            line["calls"] += 1
            line["attempts"] += int(e.data.get("attempts") or 1)
            line["input_tokens"] += int(e.data.get("input_tokens") or 0)
            line["output_tokens"] += int(e.data.get("output_tokens") or 0)
    return dict(out)


def against_strategies(path: Path) -> list[dict[str, Any]]:
    """Estimate vs actual teacher tokens for each LLM-using strategy recorded in ``path``.

    Each strategy's record carries the config it ran with; the estimate is made from that config.
    """
    from teachgraph.config import parse_config

    recorded = json.loads(path.read_text())
    rows = []
    for name, record in recorded["strategies"].items():
        totals = record.get("totals", {})
        if not totals.get("teacher_input_tokens"):
            continue
        data = json.loads(json.dumps(record["config"]))
        data.get("teacher", {}).pop("resolved_models", None)
        est = estimate_run(parse_config(data, source=name))
        e_in, e_out = est.total("input_tokens"), est.total("output_tokens")
        a_in, a_out = totals["teacher_input_tokens"], totals["teacher_output_tokens"]
        rows.append(
            {
                "strategy": name,
                "estimate": {"input_tokens": e_in, "output_tokens": e_out},
                "actual": {"input_tokens": a_in, "output_tokens": a_out},
                "actual_over_estimate": {
                    "input_tokens": round(a_in / e_in, 2),
                    "output_tokens": round(a_out / e_out, 2),
                },
            }
        )
        print(
            f"{name:24s} input est {e_in:>7,d} actual {a_in:>7,d} ({a_in / e_in:.2f}x)   "
            f"output est {e_out:>6,d} actual {a_out:>6,d} ({a_out / e_out:.2f}x)"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path, nargs="?")
    parser.add_argument("--strategies", action="store_true", help="compare with results/strategies.json instead")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.strategies:
        source = RESULTS.parent / "strategies.json"
        rows = against_strategies(source)
        out = args.out if args.out != RESULTS else RESULTS.with_name("dry_run_estimate_strategies.json")
        out.write_text(
            json.dumps(
                {"command": "benchmarks/dry_run_estimate.py --strategies", "source": str(source.name), "runs": rows},
                indent=2,
            )
        )
        print(f"wrote {out}")
        return
    if args.run_dir is None:
        parser.error("give a run directory, or --strategies")
    run = RunDir(args.run_dir)
    config = load_run_config(run)
    steps = len(run.iterations_with_data())
    partial = steps == 0
    if partial:
        # No teacher step finished: compare the calls made so far in step 0, each against the
        # estimate's mean per call of its node.
        steps = 1
    estimate = estimate_run(with_loop(config, {"iterations": steps}))
    actual = actual_use(run, steps)
    rows: list[dict[str, Any]] = []
    for n in estimate.nodes:
        a = actual.get(n.node, {"calls": 0, "attempts": 0, "input_tokens": 0, "output_tokens": 0})
        if partial:
            if not a["calls"]:
                continue
            k = a["calls"] / n.calls
            n.calls, n.input_tokens, n.output_tokens = a["calls"], round(n.input_tokens * k), round(n.output_tokens * k)
        rows.append(
            {
                "node": n.node,
                "model": n.model,
                "estimate": {"calls": n.calls, "input_tokens": n.input_tokens, "output_tokens": n.output_tokens},
                "actual": a,
            }
        )
    for node in sorted(set(actual) - {n.node for n in estimate.nodes}):
        rows.append(
            {
                "node": node,
                "model": "",
                "estimate": {"calls": 0, "input_tokens": 0, "output_tokens": 0},
                "actual": actual[node],
            }
        )
    total = {
        side: {k: sum(r[side][k] for r in rows) for k in ("calls", "input_tokens", "output_tokens")}
        for side in ("estimate", "actual")
    }
    what = "the LLM calls made so far in teacher step 0" if partial else f"{steps} teacher step(s)"
    print(f"{run.root}: {what} of {config.name} ({estimate.environment})")
    print(f"{'node':22s} {'calls est/act':>14s} {'input tokens est/act':>24s} {'output tokens est/act':>24s}")
    for r in [*rows, {"node": "total", **total}]:
        e, a = r["estimate"], r["actual"]
        print(
            f"{r['node']:22s} {e['calls']:>6d}/{a['calls']:<7d} {e['input_tokens']:>11,d}/{a['input_tokens']:<12,d}"
            f" {e['output_tokens']:>11,d}/{a['output_tokens']:<12,d}"
        )
    ratios = {
        k: round(total["actual"][k] / total["estimate"][k], 3) if total["estimate"][k] else None
        for k in total["actual"]
    }
    print("actual / estimate:", ratios)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "command": f"benchmarks/dry_run_estimate.py {args.run_dir}",
                "run_config": config.name,
                "compared": what,
                "nodes": rows,
                "total": total,
                "actual_over_estimate": ratios,
                "assumptions": estimate.assumptions,
            },
            indent=2,
        )
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
