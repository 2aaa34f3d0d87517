"""The strategies comparison from its per-strategy records: intervals, paired tests, tables and plot.

Everything here reads the records ``benchmarks/strategies.py`` commits (one JSON file per
strategy); nothing runs a model. Statistics come from :mod:`teachgraph.stats`:

* each accuracy has Wilson's 95% interval;
* each comparison is *paired* on the same test items: the difference of accuracies with a paired
  bootstrap 95% interval, and McNemar's exact two-sided p-value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from teachgraph.stats import PairedComparison, accuracy_interval, compare_paired, parse_outcomes

#: Each with-state strategy and the no-state strategy it is compared with at equal budget.
NO_STATE_TWIN = {
    "open_ended": "open_ended_no_state",
    "skill_tree_llm": "skill_tree_no_state",
    "skill_tree_alternating": "skill_tree_no_state",
    "skill_tree_bandit": "skill_tree_no_state",
}
SKILL_TREE_WITH_STATE = ("skill_tree_llm", "skill_tree_alternating", "skill_tree_bandit")
UNTRAINED = "no_training"
RANDOM = "random_data"


def final_outcomes(record: dict[str, Any]) -> str:
    """The last test evaluation's per-item results of a record."""
    return record["iterations"][-1]["test"]["outcomes"]


def comparisons(records: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per strategy, its final test results paired against the untrained student, its no-state
    twin and the random-data baseline (where those were run)."""
    out: dict[str, dict[str, Any]] = {}
    for name, rec in records.items():
        if name == UNTRAINED or not rec["iterations"]:
            continue
        rows: dict[str, Any] = {}
        for label, other in (
            ("vs_untrained", UNTRAINED),
            ("vs_no_state", NO_STATE_TWIN.get(name)),
            ("vs_random", RANDOM),
        ):
            if other and other != name and other in records and records[other]["iterations"]:
                paired = compare_paired(final_outcomes(records[other]), final_outcomes(rec))
                rows[label] = {"against": other, **paired.model_dump(mode="json")}
        out[name] = rows
    return out


def per_skill(outcomes: str, skills: list[str]) -> dict[str, dict[str, Any]]:
    """Accuracy and interval per gold skill, given the gold skill of each test item (same order)."""
    hits = parse_outcomes(outcomes)
    groups: dict[str, list[bool]] = {}
    for skill, hit in zip(skills, hits, strict=True):
        groups.setdefault(skill, []).append(bool(hit))
    return {
        s: {"accuracy": sum(v) / len(v), "interval": accuracy_interval(sum(v), len(v)), "n": len(v)}
        for s, v in sorted(groups.items())
    }


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _interval(lo_hi: Any) -> str:
    lo, hi = lo_hi
    return f"[{_pct(lo)}, {_pct(hi)}]"


def _paired_cell(row: dict[str, Any] | None) -> str:
    if not row:
        return "-"
    lo, hi = row["interval"]
    return f"{100 * row['difference']:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}], p={row['p_value']:.3g}"


def _per_validated(tokens: int, validated: int) -> str:
    return f"{tokens / validated:.1f}" if validated else "-"


def markdown(payload: dict[str, Any]) -> str:
    """The comparison as Markdown: accuracy with intervals, paired tests, cost, targets."""
    records: dict[str, dict[str, Any]] = payload["strategies"]
    tests = payload["comparisons"]
    lines = [
        f"# Teacher strategies side by side: {payload['suite']}",
        "",
        f"Command: `{payload['command']}`  ",
        f"Machine: {payload['machine']}  ",
        f"Records: `{payload['records_dir']}` (one per strategy, each with the commit and config that produced it)  ",
        f"Commits of the records: {', '.join(sorted({r.get('commit') or '?' for r in records.values()}))}  ",
        f"Setup: {payload['setup']}",
        "",
        *(
            [f"Left out, made on other task items or labels (rerun them): {', '.join(payload['stale'])}", ""]
            if payload.get("stale")
            else []
        ),
        "Accuracy is in percent with Wilson's 95% interval. Differences are paired on the same test "
        f"items: {PairedComparison.model_fields['method'].default}.",
        "",
        "| strategy | test accuracy per iteration | final [95% CI] | vs untrained | vs no-state twin | vs random data |",
        "|---|---|---|---|---|---|",
    ]
    for name, rec in records.items():
        its = rec["iterations"]
        if not its:
            continue
        accs = " → ".join(_pct(i["test"]["accuracy"]) for i in its)
        last = its[-1]["test"]
        t = tests.get(name, {})
        flag = "" if rec.get("finished") else " (unfinished)"
        lines.append(
            f"| {name}{flag} | {accs} | {_pct(last['accuracy'])} {_interval(last['interval'])} | "
            f"{_paired_cell(t.get('vs_untrained'))} | {_paired_cell(t.get('vs_no_state'))} | {_paired_cell(t.get('vs_random'))} |"
        )
    skills = sorted({s for r in records.values() if r["iterations"] for s in r["iterations"][-1]["test"]["per_skill"]})
    lines += ["", "Final test accuracy per gold skill [95% CI]:", "", "| strategy | " + " | ".join(skills) + " |"]
    lines.append("|---|" + "---|" * len(skills))
    for name, rec in records.items():
        if rec["iterations"]:
            ps = rec["iterations"][-1]["test"]["per_skill"]
            cells = [f"{_pct(ps[s]['accuracy'])} {_interval(ps[s]['interval'])}" if s in ps else "-" for s in skills]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Cost (whole run). Phases: *teacher LLM* is wall time with a teacher call in flight; *drawing & "
        "validation* is the rest of the teacher's time (sandboxed generator runs, checks, de-duplication, "
        "decontamination, the difficulty probe).",
        "",
        "| strategy | validated / written | teacher tokens in / out | out tokens per validated | LLM calls | "
        "teacher LLM s | drawing & validation s | training s | evaluation s | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, rec in records.items():
        c = rec["totals"]
        ph = c["seconds"]
        lines.append(
            f"| {name} | {c['validated']} / {c['written']} | {c['teacher_input_tokens']:,} / {c['teacher_output_tokens']:,} | "
            f"{_per_validated(c['teacher_output_tokens'], c['validated'])} | {c['llm_calls']} | {ph['teacher_llm']:.0f} | "
            f"{ph['drawing_and_validation']:.0f} | {ph['training']:.0f} | {ph['evaluation']:.0f} | {ph['wall']:.0f} |"
        )
    lines += ["", *target_lines(records, tests)]
    return "\n".join(lines) + "\n"


def target_lines(records: dict[str, dict[str, Any]], tests: dict[str, dict[str, Any]]) -> list[str]:
    """The issue's targets with the measured figure, its interval and p-value."""
    out = ["| target | strategy | measured | verdict |", "|---|---|---|---|"]
    for name in SKILL_TREE_WITH_STATE:
        t = tests.get(name, {})
        if "vs_untrained" in t:
            row = t["vs_untrained"]
            met = row["difference"] >= 0.10 and row["interval"][0] > 0
            out.append(
                f"| ≥ +10 pts over untrained, interval excluding 0 | {name} | {_paired_cell(row)} | {'met' if met else 'not met'} |"
            )
        if "vs_no_state" in t:
            row = t["vs_no_state"]
            met = row["difference"] > 0 and row["p_value"] < 0.05
            out.append(
                f"| beats its no-state twin, p < 0.05 | {name} | {_paired_cell(row)} | {'met' if met else 'not met'} |"
            )
        if "vs_random" in t:
            row = t["vs_random"]
            verdict = "met" if row["difference"] >= 0 else "not met"
            if row["interval"][0] <= 0 <= row["interval"][1]:
                verdict += " (the interval includes 0)"
            out.append(f"| ≥ random gold-generator data | {name} | {_paired_cell(row)} | {verdict} |")
    for name, rec in records.items():
        c = rec["totals"]
        if rec.get("engine") == "programs" and c["validated"]:
            per = c["teacher_output_tokens"] / c["validated"]
            out.append(
                f"| ≤ 5 teacher output tokens per validated example | {name} | {per:.2f} | {'met' if per <= 5 else 'not met'} |"
            )
    return out if len(out) > 2 else []


def plot(payload: dict[str, Any], path: Path) -> None:
    """Accuracy per iteration with 95% intervals as bands, one line per strategy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    fig, ax = plt.subplots(figsize=(9.5, 5.8), dpi=120)
    for name, rec in payload["strategies"].items():
        its = rec["iterations"]
        if not its:
            continue
        xs = [i["iteration"] for i in its]
        accs = [i["test"]["accuracy"] for i in its]
        lo = [i["test"]["interval"][0] for i in its]
        hi = [i["test"]["interval"][1] for i in its]
        if name == UNTRAINED:
            ax.axhspan(lo[0], hi[0], color="black", alpha=0.08)
            ax.axhline(accs[0], color="black", linestyle="--", linewidth=1.2, label="untrained (95% CI shaded)")
            continue
        style = ":" if "no_state" in name or name == RANDOM else "-"
        line = ax.plot(xs, accs, style, marker="o", linewidth=2, label=name)[0]
        below = [max(a - low, 0) for a, low in zip(accs, lo, strict=True)]
        above = [max(high - a, 0) for a, high in zip(accs, hi, strict=True)]
        ax.errorbar(xs, accs, yerr=[below, above], fmt="none", ecolor=line.get_color(), alpha=0.5, capsize=3)
    ax.set_xlabel("iteration (evaluation after each training round; 0 = before training)")
    ax.set_ylabel("held-out test accuracy (95% Wilson interval)")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(f"Teacher strategies at equal data budget: {payload['suite']}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write(payload: dict[str, Any], results: Path, stem: str) -> str:
    """``<stem>.json``, ``.md`` and ``.png`` under ``results``; returns the Markdown."""
    payload = {**payload, "comparisons": comparisons(payload["strategies"])}
    (results / f"{stem}.json").write_text(json.dumps(payload, indent=2) + "\n")
    text = markdown(payload)
    (results / f"{stem}.md").write_text(text)
    plot(payload, results / f"{stem}.png")
    return text
