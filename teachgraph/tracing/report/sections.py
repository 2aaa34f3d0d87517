"""The report's sections: one function per section, each returning its body as HTML.

Everything that came from a model, a task or a user goes through :func:`_e` (HTML escaping).
A table cell that is already HTML is a :class:`markupsafe.Markup`, which :func:`_cell` never
escapes again; the page template (:mod:`teachgraph.tracing.report.page`) autoescapes the rest.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from markupsafe import Markup

from teachgraph.costs import format_cost
from teachgraph.skills import SkillForest
from teachgraph.tracing.events import TraceEvent
from teachgraph.tracing.failures import iterations_text, run_health
from teachgraph.tracing.report.images import question_cell
from teachgraph.tracing.report.loading import (
    UNVALIDATED,
    RunData,
    accuracy_of,
    as_int,
    data_counts,
    data_counts_from_rounds,
    int_map,
    per_skill_names,
)
from teachgraph.tracing.report.plots import accuracy_plot, data_plot, skill_heatmap
from teachgraph.tracing.report_generators import generators_html
from teachgraph.views import draw_forest

__all__ = ["NAV", "SECTIONS", "health_banner"]

log = logging.getLogger(__name__)

SAMPLE_PER_KIND = 5  # accepted and rejected examples shown per iteration
MAX_TEXT = 1200  # characters of a question/answer shown in the sample


def _header_section(data: RunData) -> str:
    m = data.metrics
    facts: list[tuple[str, Any]] = [("run id", data.run_id)]
    facts.append(("task", data.setting("task") or "unknown"))
    facts.append(("environment", data.setting("environment") or "unknown"))
    with_state = data.setting("with_state")
    sees = {None: "unknown", True: "yes (with state)", False: "no (no-state baseline)"}
    facts.append(("teacher sees student state", sees.get(with_state, str(with_state))))
    if data.config.get("sandbox"):  # how model-written programs ran; limits-only must be visible
        facts.append(("sandbox", str(data.config.get("sandbox_in_use") or data.config["sandbox"])))
    if not m:
        stop = "unknown (no metrics.json yet)"
    else:
        stop = m.get("stop_reason") or "not stopped (the run is still going, or was interrupted)"
    facts.append(("stop reason", stop))
    evals = data.evaluations
    if evals:
        facts.append(
            (
                "iterations evaluated",
                f"{len(evals)} (iterations {evals[0]['iteration']}–{evals[-1]['iteration']})",
            )
        )
    before = m.get("test_accuracy_before")
    after = m.get("test_accuracy_after")
    facts.append(("held-out test accuracy", Markup(_before_after(before, after))))
    vals = [a for e in evals if (a := accuracy_of(e, "validation")) is not None]
    if vals:
        facts.append(("validation accuracy", Markup(_before_after(vals[0], vals[-1]))))
    written, accepted = _written_accepted(data)
    if written is not None:
        rate = f" ({accepted / written:.0%} of {written} written)" if written else ""
        facts.append(("accepted examples", f"{accepted}{rate}"))
    rounds = data.rounds
    if rounds:
        t_in = sum(as_int(r.get("teacher_input_tokens")) for r in rounds)
        t_out = sum(as_int(r.get("teacher_output_tokens")) for r in rounds)
        facts.append(
            (
                "teacher tokens",
                f"{t_in:,} in / {t_out:,} out ({t_in + t_out:,} total, {len(rounds)} round(s))",
            )
        )
    cost = m.get("cost") if isinstance(m.get("cost"), dict) else None
    if cost:
        unpriced = cost.get("unpriced_models") or []
        note = f" (no price for {', '.join(unpriced)})" if unpriced else ""
        facts.append(("teacher cost", f"{format_cost(cost.get('cost_usd'), unpriced)}{note}"))
    if data.events:
        span = max(e.ts for e in data.events) - min(e.ts for e in data.events)
        facts.append(("trace span", _duration(span)))
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_cell(v)}</td></tr>" for k, v in facts)
    body = f'<table class="facts">{rows}</table>'
    if cost and cost.get("by_node"):
        body += "<h3>Cost ledger per node</h3>" + _table(
            ["node", "calls", "input tokens", "output tokens", "cost"],
            [
                (n, as_int(v.get("calls")), f"{as_int(v.get('input_tokens')):,}", f"{as_int(v.get('output_tokens')):,}", format_cost(v.get("cost_usd")))
                for n, v in sorted(cost["by_node"].items())
            ],
            numeric={1, 2, 3, 4},
        )

    teacher = data.config.get("teacher") if isinstance(data.config.get("teacher"), dict) else {}
    resolved = teacher.get("resolved_models")
    if isinstance(resolved, dict) and resolved:
        body += "<h3>Models per node (resolved)</h3>" + _table(["node", "model"], sorted(resolved.items()))
    elif isinstance(teacher.get("models"), dict) and teacher["models"]:
        body += "<h3>Models per node (as configured)</h3>" + _table(
            ["node", "model spec"],
            [(k, json.dumps(v) if not isinstance(v, str) else v) for k, v in teacher["models"].items()],
        )
    if data.config:
        text = yaml.safe_dump(data.config, sort_keys=False, allow_unicode=True)
        body += f"<details><summary>config.yaml</summary><pre>{_e(text)}</pre></details>"
    else:
        body += _missing("No config.yaml in this run directory.")
    return body


def health_banner(data: RunData) -> str:
    """At the top of the page: what failed (node, model, cause, count), if anything did."""
    try:
        health = run_health(data.events or [], data.metrics)
    except Exception:  # untrusted input: a malformed metrics.json must not cost the report
        log.warning("reading the run's failures failed", exc_info=True)
        return ""
    if health.status == "ok":
        return ""
    rows = [[g.node, g.model, g.count, iterations_text(g.iterations), g.error] for g in health.groups]
    table = _table(["node", "model", "count", "iterations", "error"], rows, numeric={2})
    return (
        f'<div class="health {health.status}"><strong>{_e(health.headline())}</strong>{table}'
        '<p class="note">Every failure is listed under <a href="#decisions">Decisions</a>; '
        "<code>teachgraph trace RUN --kind failure</code> shows them with their skills.</p></div>\n"
    )


def _accuracy_section(data: RunData) -> str:
    evals, rounds = data.evaluations, {r["iteration"]: r for r in data.rounds}
    if not evals:
        return _missing(
            "No evaluations yet: metrics.json is missing or has no evaluations "
            "(the run has not finished its first evaluation)."
        )
    png = accuracy_plot(evals, title=None)  # the section heading is the title
    body = _img(png, "accuracy per iteration") if png else _missing("No accuracy values to plot.")
    rows = []
    for e in evals:
        r = rounds.get(e["iteration"], {})
        rejected = int_map(r.get("rejected"))
        rows.append(
            [
                e["iteration"],
                _pct(accuracy_of(e, "validation")),
                _pct(accuracy_of(e, "test")),
                r.get("written", ""),
                r.get("accepted", ""),
                ", ".join(f"{k} {v}" for k, v in rejected.items()) if r else "",
                f"{as_int(r.get('teacher_input_tokens')):,} / {as_int(r.get('teacher_output_tokens')):,}" if r else "",
                format_cost(r.get("teacher_cost_usd")) if r else "",
                len(r.get("failures") or []) if r else "",
            ]
        )
    body += "<h3>Per iteration</h3>" + _table(
        [
            "iteration",
            "validation",
            "test",
            "written",
            "accepted",
            "rejected",
            "teacher tokens in / out",
            "teacher cost",
            "failures",
        ],
        rows,
        numeric={0, 1, 2, 3, 4, 6, 7, 8},
    )
    body += (
        '<p class="note">Evaluation N measures the student after training on the data of rounds '
        "0…N−1; round N is the teacher's step that follows it.</p>"
    )
    return body


def _data_section(data: RunData) -> str:
    if data.examples:
        counts, source = data_counts(data.examples), "data/iter-NNN.jsonl"
    elif data.rounds:
        counts, source = data_counts_from_rounds(data.rounds), "metrics.json rounds (no data files)"
    else:
        return _missing("No data written yet (no data/iter-NNN.jsonl files and no rounds in metrics.json).")
    png = data_plot(counts)
    if png is None:
        return _missing(f"No examples in {source}.")
    skills = sorted({s for c in counts.accepted.values() for s in c})
    rows = [
        [
            s,
            *(counts.accepted.get(i, Counter()).get(s, 0) for i in counts.iterations),
            sum(c.get(s, 0) for c in counts.accepted.values()),
        ]
        for s in skills
    ]
    table = _table(
        ["skill", *(f"iter {i}" for i in counts.iterations), "total"],
        rows,
        numeric=set(range(1, len(counts.iterations) + 2)),
    )
    return (
        _img(png, "examples per skill and rejections per reason")
        + f'<p class="note">Source: {_e(source)}.</p>'
        + f"<details><summary>Accepted examples per skill path</summary>{table}</details>"
    )


def _heatmap_section(data: RunData) -> str:
    evals = data.evaluations
    png = skill_heatmap(evals, title=None) if evals else None
    if png is None:
        return _missing("No per-skill validation accuracy yet (metrics.json missing or without evaluations).")
    skills = per_skill_names(evals)
    rows = [[s, *(_pct(((e.get("validation") or {}).get("per_skill") or {}).get(s)) for e in evals)] for s in skills]
    table = _table(
        ["skill", *(f"iter {e['iteration']}" for e in evals)],
        rows,
        numeric=set(range(1, len(evals) + 1)),
    )
    return (
        _img(png, "per-skill validation accuracy heat map")
        + (
            '<p class="note">Rows are the skills the evaluation reports accuracy for (the task\'s '
            "own skill labels, or “unlabelled”), not the teacher's induced skills.</p>"
        )
        + f"<details><summary>The same as a table</summary>{table}</details>"
    )


def _forest_section(data: RunData) -> str:
    if not data.forests:
        return _missing("No skill forest snapshots (forest/iter-NNN.json) yet.")
    parts = [
        '<p class="note">The forest after the teacher\'s step of each iteration: boxes are '
        "coloured by the skill's latest validation accuracy; a heavy border marks skills "
        "that got data (quota &gt; 0).</p>"
    ]
    previous: tuple[int, SkillForest] | None = None
    with tempfile.TemporaryDirectory(prefix="teachgraph-report-") as tmp:
        for iteration, forest_data in sorted(data.forests.items()):
            parts.append(f'<div class="snapshot"><h3>Iteration {iteration}</h3>')
            try:
                forest = SkillForest.from_state(forest_data)
            except Exception as err:  # from_data promises ValueError, but odd shapes leak others
                parts.append(
                    _missing(f"forest/iter-{iteration:03d}.json is not a valid forest: {type(err).__name__}: {err}")
                    + "</div>"
                )
                continue
            try:
                png_path = draw_forest(forest, Path(tmp) / f"forest-{iteration:03d}.png")  # under its "Iteration N" heading
                parts.append(_img(png_path.read_bytes(), f"skill forest at iteration {iteration}"))
            except Exception as err:  # one undrawable snapshot must not hide the others
                log.warning("drawing the forest of iteration %d failed", iteration, exc_info=True)
                parts.append(_missing(f"could not draw this forest: {type(err).__name__}: {err}"))
            leaves = len(forest.leaves())
            quotas = forest.quotas()
            parts.append(
                f'<p class="note">{len(forest)} skills ({len(forest.roots())} roots, '
                f"{leaves} leaves); quota this iteration: {sum(quotas.values())} examples "
                f"over {len(quotas)} skills.</p>"
            )
            if previous is None:
                parts.append(f"<p>Initial forest: {_e(', '.join(forest.roots()) or '(empty)')}.</p>")
            else:
                summary = previous[1].diff(forest).summary()
                parts.append(f'<p>Changes since iteration {previous[0]}:</p><pre class="diff">{_e(summary)}</pre>')
            parts.append(
                f"<details><summary>Mermaid source</summary><pre>{_e(forest.to_mermaid())}</pre></details></div>"
            )
            previous = (iteration, forest)
    return "".join(parts)


def _generators_section(data: RunData) -> str:
    return generators_html(data.forests)


def _decisions_section(data: RunData) -> str:
    if data.events is None:
        return _missing("No trace.jsonl in this run directory.")
    decisions = [e for e in data.events if e.kind == "decision"]
    failures = [e for e in data.events if e.kind == "failure"]
    if decisions:
        rows = []
        for e in decisions:
            d = e.data
            action, policy = d.get("action"), d.get("policy")
            what = f"{action} ({policy})" if action and policy else action or policy or ""
            rows.append([e.iteration, e.node, e.skill or "", what, d.get("reason", ""), _decision_detail(d)])
        body = _table(
            ["iteration", "node", "skill", "decision", "reason", "quotas / details"],
            rows,
            numeric={0},
        )
    else:
        body = _missing("No decision events in the trace.")
    if failures:
        rows = [[e.iteration, e.node, e.skill or "", e.data.get("error", "")] for e in failures]
        body += f"<h3>Failures ({len(failures)})</h3>" + _table(
            ["iteration", "node", "skill", "error"], rows, numeric={0}
        )
    return body


def _llm_section(data: RunData) -> str:
    if data.events is None:
        return _missing("No trace.jsonl in this run directory.")
    calls = [e for e in data.events if e.kind == "llm_call"]
    if not calls:
        return _missing("No LLM calls in the trace.")
    groups: dict[tuple[str, str], list[TraceEvent]] = defaultdict(list)
    for e in calls:
        groups[(e.node, str(e.data.get("model") or "?"))].append(e)

    def row(label: tuple[str, str], events: list[TraceEvent]) -> list[Any]:
        timed = [e for e in events if isinstance(e.data.get("latency_s"), int | float)]
        # Model time excludes waiting for a serialised local model; the wait is shown apart.
        model_s = [float(e.data["latency_s"]) - as_int(e.data.get("queued_s")) for e in timed]
        queued_s = [as_int(e.data.get("queued_s")) for e in timed]
        ok = sum(1 for e in events if e.data.get("ok"))
        return [
            *label,
            len(events),
            f"{ok / len(events):.0%}",
            f"{sum(as_int(e.data.get('input_tokens')) for e in events):,}",
            f"{sum(as_int(e.data.get('output_tokens')) for e in events):,}",
            f"{sum(model_s) / len(model_s):.2f}" if model_s else "",
            f"{sum(queued_s) / len(queued_s):.2f}" if queued_s else "",
        ]

    rows = [row(k, v) for k, v in sorted(groups.items())]
    total = row(("all", ""), calls)
    total = [Markup(f"<strong>{_cell(c)}</strong>") for c in total]
    return (
        _table(
            ["node", "model", "calls", "ok", "input tokens", "output tokens", "mean model time (s)", "mean queued (s)"],
            [*rows, total],
            numeric={2, 3, 4, 5, 6, 7},
        )
    )


def _examples_section(data: RunData) -> str:
    if not data.examples:
        return _missing("No data/iter-NNN.jsonl files yet.")
    parts = []
    for n, (iteration, exs) in enumerate(sorted(data.examples.items())):
        accepted = [ex for ex in exs if ex.accepted]
        rejected = [ex for ex in exs if not ex.accepted]
        reasons = Counter(ex.verdict.reason.value if ex.verdict else UNVALIDATED for ex in rejected)
        why = ", ".join(f"{k} {v}" for k, v in reasons.most_common())
        summary = f"Iteration {iteration}: {len(exs)} written, {len(accepted)} accepted, {len(rejected)} rejected" + (
            f" ({why})" if why else ""
        )
        rows = []
        for ex in [*accepted[:SAMPLE_PER_KIND], *rejected[:SAMPLE_PER_KIND]]:
            verdict = ex.verdict
            status = Markup('<span class="ok">accepted</span>' if ex.accepted else '<span class="bad">rejected</span>')
            reason = "" if verdict is None else verdict.reason.value + (f": {verdict.detail}" if verdict.detail else "")
            rows.append(
                [
                    status,
                    ex.skill,
                    question_cell(ex.input, MAX_TEXT),  # an image question shows its picture
                    Markup(f'<div class="text">{_e(_clip(ex.answer))}</div>'),
                    reason or UNVALIDATED,
                    ex.provenance.model,
                ]
            )
        table = (
            _table(["", "skill", "question", "answer", "verdict", "written by"], rows)
            if rows
            else _missing("No examples.")
        )
        parts.append(f"<details{' open' if n == 0 else ''}><summary>{_e(summary)}</summary>{table}</details>")
    note = (
        f'<p class="note">Up to {SAMPLE_PER_KIND} accepted and {SAMPLE_PER_KIND} rejected examples '
        "per iteration, in the order they were written.</p>"
    )
    return note + "".join(parts)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _cell(value: Any) -> str:
    return value if isinstance(value, Markup) else _e(value)


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, numeric: set[int] = frozenset()) -> str:  # type: ignore[assignment]
    head = "".join(f"<th{' class=num' if i in numeric else ''}>{_e(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=num' if i in numeric else ''}>{_cell(c)}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _missing(text: str) -> str:
    return f'<p class="missing">{_e(text)}</p>'


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f"… [{len(text) - MAX_TEXT} more characters]"


def _written_accepted(data: RunData) -> tuple[int | None, int]:
    """Examples written and accepted, from the data files, else from metrics.json rounds."""
    if data.examples:
        exs = [ex for e in data.examples.values() for ex in e]
        return len(exs), sum(ex.accepted for ex in exs)
    if data.rounds:
        return sum(as_int(r.get("written")) for r in data.rounds), sum(as_int(r.get("accepted")) for r in data.rounds)
    return None, 0


def _before_after(before: Any, after: Any) -> str:
    if not isinstance(before, int | float) or not isinstance(after, int | float):
        return '<span class="missing">not measured</span>'
    delta = (after - before) * 100
    cls = "ok" if delta > 0 else "bad" if delta < 0 else ""
    return f'{_e(_pct(before))} → <strong>{_e(_pct(after))}</strong> <span class="{cls}">({delta:+.1f} pp)</span>'


def _decision_detail(d: dict[str, Any]) -> str:
    parts = []
    if d.get("action") == "explore" or d.get("num_new"):
        parts.append(f"{d.get('num_new', 0)} new subskill(s), quota {d.get('new_quota', 0)} each")
    quotas = d.get("quotas")
    if isinstance(quotas, dict) and quotas:
        parts.append(", ".join(f"{k}={v}" for k, v in quotas.items()))
    return "; ".join(parts)


def _pct(value: Any) -> str:
    return f"{value * 100:.1f}%" if isinstance(value, int | float) else "—"


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h {m:02d}m {s:02d}s" if h else f"{m}m {s:02d}s" if m else f"{s}s"


# (title, anchor, builder) in page order; the nav links to all but the first.
SECTIONS: list[tuple[str, str, Callable[[RunData], str]]] = [
    ("Run", "run", _header_section),
    ("Accuracy per iteration", "accuracy", _accuracy_section),
    ("Data per skill", "data", _data_section),
    ("Per-skill validation accuracy", "skills", _heatmap_section),
    ("Skill forest", "forest", _forest_section),
    ("Generators", "generators", _generators_section),
    ("Decisions", "decisions", _decisions_section),
    ("LLM usage", "llm", _llm_section),
    ("Example sample", "examples", _examples_section),
]
NAV: list[tuple[str, str]] = [
    ("Accuracy", "accuracy"),
    ("Data", "data"),
    ("Skills", "skills"),
    ("Forest", "forest"),
    ("Generators", "generators"),
    ("Decisions", "decisions"),
    ("LLM usage", "llm"),
    ("Examples", "examples"),
]
