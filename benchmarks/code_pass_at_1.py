"""pass@1 before and after teaching, on HumanEval and on the generated family, from one code run.

A run of ``examples/code.yaml`` evaluates one test split that holds both the algorithmic_code
problems and HumanEval's (``humaneval_in_test``). This splits each evaluation's per-item outcomes
by gold skill group (``humaneval`` against the generated family), and compares the first
evaluation with the last item by item, with the statistics of the strategies benchmark
(:mod:`teachgraph.stats`: Wilson intervals, paired bootstrap, McNemar exact).

    .venv/bin/python benchmarks/code_pass_at_1.py runs/code          # prints a table; --json for the data
    .venv/bin/python benchmarks/code_pass_at_1.py runs/code --write  # also benchmarks/results/code_pass_at_1.json (--out)
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run_outcomes import grouped_summary, run_outcomes


def group_of(gold_skill: str | None) -> str:
    """``humaneval`` or the family the problem comes from (``algorithmic_code``)."""
    return (gold_skill or "unlabelled").split("/")[0]


def pass_at_1(run_dir: str | Path) -> dict[str, Any]:
    """Per group: n, pass@1 before and after (with Wilson 95% intervals) and the paired comparison.

    Raises:
        ValueError: the run has fewer than two test evaluations, or its outcomes do not match the
            task's test split (a different task configuration).
    """
    return grouped_summary(run_outcomes(run_dir), lambda inst: group_of(inst.gold_skill))


# Why settling left an example as written, by a phrase of its note (teachgraph/nodes/code_expectations.py).
KEPT = {
    "disagreed": "independent solution disagreed",
    "problem itself shows": "the problem shows the disputed value",
    "literal": "value not a literal",
    "no independent solution": "no independent solution",
}


def written_summary(run_dir: str | Path) -> dict[str, Any]:
    """What the teacher wrote: examples per verdict, and what settling disputed expected values did
    (``restated``: an independent solution agreed; otherwise why the example was kept as written)."""
    examples = [
        json.loads(line)
        for path in sorted((Path(run_dir) / "data").glob("iter-*.jsonl"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    verdicts = Counter((e.get("verdict") or {}).get("reason", "none") for e in examples)
    settled: Counter[str] = Counter()
    restated_and_accepted = 0
    for e in examples:
        note = (e.get("provenance") or {}).get("expectations") or ""
        if note.startswith("kept as written"):
            settled[next((why for key, why in KEPT.items() if key in note), "kept as written")] += 1
        elif note:
            settled["restated"] += 1
            restated_and_accepted += bool((e.get("verdict") or {}).get("accepted"))
    return {
        "written": len(examples),
        "verdicts": dict(verdicts.most_common()),
        "expectations": dict(settled.most_common()),
        "restated_and_accepted": restated_and_accepted,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--json", action="store_true", help="print the data as JSON")
    parser.add_argument("--write", action="store_true", help="also write the record (--out)")
    parser.add_argument("--run-commit", help="commit of the code that made the run (default: the checkout's HEAD)")
    parser.add_argument(
        "--out", default=str(Path(__file__).parent / "results" / "code_pass_at_1.json"), help="where --write writes"
    )
    args = parser.parse_args()
    result = pass_at_1(args.run_dir)
    if args.write:
        run = Path(args.run_dir)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        record = {
            "command": "python benchmarks/code_pass_at_1.py " + " ".join(sys.argv[1:]),
            "commit": args.run_commit or commit,
            "written_by_commit": commit,
            "machine": f"{platform.machine()}, Python {platform.python_version()}, no GPU",
            "run_config": yaml.safe_load((run / "config.yaml").read_text()),
            "run_metrics": {
                k: v for k, v in json.loads((run / "metrics.json").read_text()).items() if k != "evaluations"
            },
            "groups": result,
            "written": written_summary(run),
        }
        out = Path(args.out)
        out.write_text(json.dumps(record, indent=2, default=str) + "\n")
    if args.json:
        print(json.dumps(result, indent=2))
        return
    written = written_summary(args.run_dir)
    print(f"written {written['written']}: {written['verdicts']}; expectations: {written['expectations']}")
    for name, r in result.items():
        p = r["paired"]
        print(
            f"{name}: n={r['n']}  pass@1 {r['before']:.3f} -> {r['after']:.3f}  "
            f"difference {p['difference']:+.3f} [{p['interval'][0]:+.3f}, {p['interval'][1]:+.3f}]  "
            f"McNemar p={p['p_value']:.3f} ({p['treatment_only']} gained, {p['baseline_only']} lost)"
        )


if __name__ == "__main__":
    main()
