"""``report.html``: one self-contained page that explains a run.

:func:`write_report` reads a run directory (see :mod:`teachgraph.tracing.rundir`) and writes
``report.html`` next to it: the run's facts, accuracy per iteration, data per skill, per-skill
accuracy as a heat map, the skill forest at every iteration with what changed, the decisions and
LLM usage from the trace, and a sample of the written examples.

The page needs nothing but itself: plots are PNGs embedded as base64 ``data:`` URIs, styles are
inline, there is no JavaScript and no web font, so it opens offline and can be mailed around.
Everything that came from a model, a task or a user is HTML-escaped; a run directory is
untrusted input. Missing or unreadable parts (a run still going, killed, or only just started)
leave their section saying so instead of failing the whole report.

Plots are drawn on matplotlib's Agg canvas directly (no pyplot: no global figure state, no GUI
backend), like :mod:`teachgraph.skills.draw`, and share its accuracy colour scale.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import tempfile
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator, PercentFormatter

from teachgraph.costs import format_cost
from teachgraph.domain import RejectionReason, TrainingExample
from teachgraph.errors import DataNotFoundError
from teachgraph.redaction import redact
from teachgraph.skills import SkillForest
from teachgraph.skills.draw import accuracy_colormap
from teachgraph.tracing.events import TraceEvent
from teachgraph.tracing.failures import iterations_text, run_health
from teachgraph.tracing.report_generators import generators_html
from teachgraph.tracing.rundir import RunDir, atomic_write

__all__ = [
    "DataCounts",
    "RunData",
    "accuracy_plot",
    "data_counts",
    "data_counts_from_rounds",
    "data_plot",
    "load_run",
    "render_report",
    "skill_heatmap",
    "write_report",
]

log = logging.getLogger(__name__)

DPI = 120
SAMPLE_PER_KIND = 5  # accepted and rejected examples shown per iteration
MAX_TEXT = 1200  # characters of a question/answer shown in the sample
MAX_LEGEND_LABEL = 48
MAX_STACKED_SKILLS = 24  # above this, the data plot stacks root skills instead of every path
UNVALIDATED = "not validated"

# Fixed colours per rejection reason, so the same reason looks the same in every report.
REASON_COLOURS = {
    RejectionReason.MALFORMED.value: "#7f7f7f",
    RejectionReason.PROGRAM_ERROR.value: "#d62728",
    RejectionReason.ANSWER_MISMATCH.value: "#ff7f0e",
    RejectionReason.DUPLICATE.value: "#9467bd",
    RejectionReason.CONTAMINATED.value: "#8c564b",
    RejectionReason.TOO_EASY.value: "#1f77b4",
    RejectionReason.OVER_QUOTA.value: "#bcbd22",
    RejectionReason.CUSTOM.value: "#e377c2",
    RejectionReason.REVIEWER.value: "#17becf",
    UNVALIDATED: "#c7c7c7",
}


# =================================================================================== public API


def write_report(run_dir: str | Path) -> Path:
    """Write ``run_dir/report.html`` (atomically) and return its path.

    Works on any run directory, finished or not: parts that are missing or unreadable (no
    ``metrics.json`` yet, no trace, no forest snapshots, a corrupt line) make their section say
    so; the rest of the report is still written.

    Raises:
        DataNotFoundError: ``run_dir`` is not a directory.
    """
    run = RunDir(run_dir)
    if not run.root.is_dir():
        raise DataNotFoundError(f"no run directory at {run.root}; pass the --out folder of a run")
    atomic_write(run.report_path, redact(render_report(run.root)))
    return run.report_path


def render_report(run_dir: str | Path) -> str:
    """The HTML of the report for ``run_dir`` (what :func:`write_report` writes)."""
    data = load_run(run_dir)
    title = f"teachgraph report — {data.run_id}"
    sections = [
        _guard("Run", "run", _header_section, data),
        _guard("Accuracy per iteration", "accuracy", _accuracy_section, data),
        _guard("Data per skill", "data", _data_section, data),
        _guard("Per-skill validation accuracy", "skills", _heatmap_section, data),
        _guard("Skill forest", "forest", _forest_section, data),
        _guard("Generators", "generators", _generators_section, data),
        _guard("Decisions", "decisions", _decisions_section, data),
        _guard("LLM usage", "llm", _llm_section, data),
        _guard("Example sample", "examples", _examples_section, data),
    ]
    nav = "".join(
        f'<a href="#{anchor}">{_e(name)}</a>'
        for name, anchor in [
            ("Accuracy", "accuracy"),
            ("Data", "data"),
            ("Skills", "skills"),
            ("Forest", "forest"),
            ("Generators", "generators"),
            ("Decisions", "decisions"),
            ("LLM usage", "llm"),
            ("Examples", "examples"),
        ]
    )
    problems = ""
    if data.problems:
        items = "".join(f"<li>{_e(p)}</li>" for p in data.problems)
        problems = f'<div class="problems"><strong>Problems reading this run</strong><ul>{items}</ul></div>'
    generated = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        f"<h1>{_e(title)}</h1>\n<nav>{nav}</nav>\n{_health_banner(data)}{problems}\n"
        + "\n".join(sections)
        + f"\n<footer>generated by teachgraph on {_e(generated)} from {_e(data.root)}</footer>\n"
        "</body></html>\n"
    )


@dataclass
class RunData:
    """Everything the report reads from a run directory, read leniently.

    Attributes:
        root: The run directory.
        run_id: ``metrics.json``'s run id, else the directory's name.
        config: ``config.yaml`` (empty if missing or unreadable).
        metrics: ``metrics.json`` (empty if missing or unreadable).
        events: ``trace.jsonl`` events, or ``None`` when there is no trace file.
        examples: Iteration -> the examples of ``data/iter-NNN.jsonl`` (unparsable lines skipped).
        forests: Iteration -> forest node-link data of ``forest/iter-NNN.json``.
        problems: What could not be read, one line each (shown at the top of the report).
    """

    root: Path
    run_id: str
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    events: list[TraceEvent] | None = None
    examples: dict[int, list[TrainingExample]] = field(default_factory=dict)
    forests: dict[int, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def evaluations(self) -> list[dict[str, Any]]:
        """``metrics.json`` evaluations that have an iteration, by iteration."""
        evals = [e for e in self.metrics.get("evaluations") or [] if isinstance(e, dict)]
        evals = [e for e in evals if isinstance(e.get("iteration"), int)]
        return sorted(evals, key=lambda e: e["iteration"])

    @property
    def rounds(self) -> list[dict[str, Any]]:
        """``metrics.json`` teacher rounds that have an iteration, by iteration."""
        rounds = [r for r in self.metrics.get("rounds") or [] if isinstance(r, dict)]
        rounds = [r for r in rounds if isinstance(r.get("iteration"), int)]
        return sorted(rounds, key=lambda r: r["iteration"])

    def setting(self, key: str) -> Any:
        """A run setting from ``metrics.json``, else from ``config.yaml`` (``None`` if neither)."""
        if self.metrics.get(key) is not None:
            return self.metrics[key]
        teacher = self.config.get("teacher") if isinstance(self.config.get("teacher"), dict) else {}
        task = self.config.get("task") if isinstance(self.config.get("task"), dict) else {}
        return {"task": task.get("name"), **teacher}.get(key)


def load_run(run_dir: str | Path) -> RunData:
    """Read a run directory for the report, never raising for missing or corrupt parts."""
    run = RunDir(run_dir)
    data = RunData(root=run.root, run_id=run.run_id)

    def attempt(what: str, read: Callable[[], Any], default: Any) -> Any:
        try:
            return read()
        except Exception as err:  # a run directory is untrusted: report, don't crash
            data.problems.append(f"{what}: {type(err).__name__}: {err}")
            return default

    if run.config_path.is_file():
        config = attempt("config.yaml", lambda: yaml.safe_load(run.config_path.read_text()), {})
        data.config = config if isinstance(config, dict) else {}
    if run.metrics_path.is_file():
        metrics = attempt("metrics.json", run.read_metrics, {})
        data.metrics = metrics if isinstance(metrics, dict) else {}
        if isinstance(data.metrics.get("run_id"), str) and data.metrics["run_id"]:
            data.run_id = data.metrics["run_id"]
    if run.trace_path.is_file():
        data.events = attempt("trace.jsonl", run.read_events, [])
    for path in sorted((run.root / "data").glob("iter-*.jsonl")):
        iteration = _iteration_of(path)
        if iteration is not None:
            data.examples[iteration] = attempt(path.name, lambda p=path: _read_examples(p, data), [])
    for path in sorted((run.root / "forest").glob("iter-*.json")):
        snapshot = attempt(f"forest/{path.name}", lambda p=path: json.loads(p.read_text()), None)
        if isinstance(snapshot, dict) and isinstance(snapshot.get("forest"), dict):
            iteration = snapshot.get("iteration", _iteration_of(path))
            if isinstance(iteration, int):
                data.forests[iteration] = snapshot["forest"]
        elif snapshot is not None:
            data.problems.append(f"forest/{path.name}: not a forest snapshot")
    return data


# =================================================================================== plots


@dataclass
class DataCounts:
    """Examples per iteration: accepted per skill path and rejected per reason."""

    accepted: dict[int, Counter[str]] = field(default_factory=dict)
    rejected: dict[int, Counter[str]] = field(default_factory=dict)

    @property
    def iterations(self) -> list[int]:
        return sorted({*self.accepted, *self.rejected})

    def is_empty(self) -> bool:
        return not any(sum(c.values()) for c in [*self.accepted.values(), *self.rejected.values()])


def data_counts(examples: dict[int, list[TrainingExample]]) -> DataCounts:
    """Count the written examples of each iteration (as in ``data/iter-NNN.jsonl``)."""
    counts = DataCounts()
    for iteration, exs in examples.items():
        accepted = counts.accepted.setdefault(iteration, Counter())
        rejected = counts.rejected.setdefault(iteration, Counter())
        for ex in exs:
            if ex.accepted:
                accepted[ex.skill] += 1
            else:
                rejected[ex.verdict.reason.value if ex.verdict else UNVALIDATED] += 1
    return counts


def data_counts_from_rounds(rounds: Iterable[dict[str, Any]]) -> DataCounts:
    """The same counts from ``metrics.json`` rounds (for runs whose data files are gone)."""
    counts = DataCounts()
    for r in rounds:
        counts.accepted[r["iteration"]] = Counter(_int_map(r.get("accepted_per_skill")))
        counts.rejected[r["iteration"]] = Counter(_int_map(r.get("rejected")))
    return counts


def accuracy_plot(
    evaluations: Sequence[dict[str, Any]], *, title: str | None = "Student accuracy per iteration"
) -> bytes | None:
    """PNG: overall validation and test accuracy (thick) and per-skill validation (thin) per
    iteration, from ``metrics.json`` evaluations. ``None`` when there is nothing to plot.

    ``title=None`` leaves the title out (the report's section heading says it already)."""
    evals = sorted(
        (e for e in evaluations if isinstance(e.get("iteration"), int)),
        key=lambda e: e["iteration"],
    )
    overall = {
        split: [(e["iteration"], a) for e in evals if (a := _accuracy(e, split)) is not None]
        for split in ("validation", "test")
    }
    skills = _per_skill_names(evals)
    if not (overall["validation"] or overall["test"] or skills):
        return None
    fig = Figure(figsize=(10.5, 5.4), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    for skill, colour in zip(skills, _palette(len(skills)), strict=True):
        xs, ys = _series(evals, skill)
        ax.plot(
            xs,
            ys,
            color=colour,
            lw=1.4,
            alpha=0.9,
            marker="o",
            ms=3.5,
            label=_short(skill),
            zorder=2,
        )
    styles = {
        "validation": dict(color="#111111", ls="-", marker="o", label="validation (overall)"),
        "test": dict(color="#555555", ls=(0, (4, 2)), marker="s", label="test (overall)"),
    }
    handles = []
    for split, points in overall.items():
        if points:
            xs, ys = zip(*points, strict=True)
            (line,) = ax.plot(xs, ys, lw=3.2, ms=6.5, zorder=3, **styles[split])
            handles.append(line)
    iterations = sorted({e["iteration"] for e in evals})
    _style_axes(ax, iterations)
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("accuracy")
    ax.set_xlabel("iteration (0 = before any teacher data)")
    if title:
        ax.set_title(title, loc="left", fontsize=13, fontweight="bold")
    skill_handles = [h for h in ax.get_lines() if h not in handles]
    if skill_handles:  # an invisible entry as a sub-heading between overall and per-skill lines
        heading = Line2D([], [], ls="none", label="validation per skill:")
        handles = [*handles, Line2D([], [], ls="none", label=" "), heading, *skill_handles]
    legend = ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        fontsize=8.5,
        ncols=1 if len(skill_handles) <= 24 else 2,
        handlelength=2.6,
    )
    for text in legend.get_texts():
        if text.get_text() == "validation per skill:":
            text.set_fontweight("bold")
            text.set_x(-30)  # flush with the line samples: it has no sample of its own
    return _png(fig)


def data_plot(counts: DataCounts, *, max_skills: int = MAX_STACKED_SKILLS) -> bytes | None:
    """PNG: per iteration, accepted examples per skill (stacked bars, top panel) and rejected
    examples per reason (stacked bars, bottom panel). ``None`` when nothing was written.

    With more than ``max_skills`` skill paths the top panel stacks root skills instead.
    """
    if counts.is_empty():
        return None
    iterations = counts.iterations
    skills = sorted({s for c in counts.accepted.values() for s, n in c.items() if n})
    grouped = len(skills) > max_skills
    if grouped:
        accepted = {
            i: Counter({root: sum(n for s, n in c.items() if _root(s) == root) for root in {_root(s) for s in c}})
            for i, c in counts.accepted.items()
        }
        skills = sorted({_root(s) for s in skills})
    else:
        accepted = counts.accepted
    order = [r.value for r in RejectionReason if r is not RejectionReason.ACCEPTED] + [UNVALIDATED]
    seen = {r for c in counts.rejected.values() for r, n in c.items() if n}
    reasons = [r for r in order if r in seen] + sorted(seen - set(order))

    fig = Figure(figsize=(10.5, 7.6), dpi=DPI, layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(1.35, 1.0))
    colours = _family_colours(skills)
    _stacked(top, iterations, skills, accepted, lambda s: colours[s], _short)
    _stacked(
        bottom,
        iterations,
        reasons,
        counts.rejected,
        lambda r: REASON_COLOURS.get(r, "#17becf"),
        str,
    )
    what = "root skill" if grouped else "skill"
    top.set_title(f"Accepted examples per {what}", loc="left", fontsize=13, fontweight="bold")
    bottom.set_title("Rejected examples by reason", loc="left", fontsize=13, fontweight="bold")
    for ax, title in ((top, what), (bottom, "reason")):
        ax.set_ylabel("examples")
        handles, labels = ax.get_legend_handles_labels()
        if handles:  # reversed: the legend reads top-down like the stack
            ax.legend(
                handles[::-1],
                labels[::-1],
                title=title,
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                frameon=False,
                fontsize=8.5,
                title_fontsize=8.5,
                ncols=1 if len(handles) <= 16 else 2,
                alignment="left",
            )
    if not reasons:
        bottom.text(
            0.5,
            0.5,
            "no rejected examples",
            transform=bottom.transAxes,
            ha="center",
            va="center",
            color="#595959",
            fontsize=11,
        )
    bottom.set_xlabel("iteration (data written after evaluation N)")
    _style_axes(top, iterations, bars=True)
    _style_axes(bottom, iterations, bars=True)
    top.tick_params(labelbottom=True)  # sharex hides the top panel's iteration labels otherwise
    for ax, keys in ((top, skills), (bottom, reasons)):
        if not keys:
            ax.set_yticks([])
    return _png(fig)


def skill_heatmap(
    evaluations: Sequence[dict[str, Any]], *, split: str = "validation", title: str | None = ""
) -> bytes | None:
    """PNG: ``split`` accuracy per skill (rows, overall first) and iteration (columns), annotated.
    ``None`` when no evaluation has per-skill accuracy.

    ``title`` defaults to "Per-skill <split> accuracy"; ``None`` leaves it out."""
    evals = sorted(
        (e for e in evaluations if isinstance(e.get("iteration"), int)),
        key=lambda e: e["iteration"],
    )
    skills = _per_skill_names(evals, split)
    if not skills:
        return None
    iterations = [e["iteration"] for e in evals]
    rows = ["overall", *skills]
    matrix = np.full((len(rows), len(evals)), np.nan)
    for j, e in enumerate(evals):
        overall = _accuracy(e, split)
        matrix[0, j] = np.nan if overall is None else overall
        per_skill = (e.get(split) or {}).get("per_skill") or {}
        for i, skill in enumerate(skills, start=1):
            value = per_skill.get(skill)
            if isinstance(value, int | float):
                matrix[i, j] = value
    labels = [_short(r, 40) for r in rows]
    label_w = 0.3 + 0.075 * max(len(s) for s in labels)
    cell_w = 0.72 if len(evals) <= 12 else 0.5
    width = min(max(label_w + cell_w * len(evals) + 1.6, 6.0), 24.0)
    height = min(0.36 * len(rows) + 1.55, 30.0)
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    cmap = accuracy_colormap().with_extremes(bad="#eeeeee")
    image = ax.imshow(
        np.ma.masked_invalid(matrix),
        cmap=cmap,
        norm=Normalize(0.0, 1.0),
        aspect="auto",
        interpolation="nearest",
    )
    size = 8.5 if len(evals) <= 12 else 7.0
    for i in range(len(rows)):
        for j in range(len(evals)):
            value = matrix[i, j]
            text = "–" if np.isnan(value) else f"{value * 100:.0f}%"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=size,
                fontweight="bold" if i == 0 else "normal",
                color="#1a1a1a" if not np.isnan(value) else "#8c8c8c",
            )
    ax.set_xticks(range(len(evals)), [str(i) for i in iterations])
    ax.set_yticks(range(len(rows)), labels)
    ax.get_yticklabels()[0].set_fontweight("bold")
    ax.tick_params(length=0, labelsize=9)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel("iteration", fontsize=9)
    ax.axhline(0.5, color="white", lw=3)  # separates the overall row from the skills
    ax.set_xticks(np.arange(-0.5, len(evals)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(rows)), minor=True)
    ax.grid(which="minor", color="white", lw=1)
    ax.tick_params(which="minor", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    bar = fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02, aspect=max(10, 2 * len(rows)))
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    bar.ax.tick_params(labelsize=8)
    bar.outline.set_linewidth(0.5)
    if title is not None:
        fig.suptitle(title or f"Per-skill {split} accuracy", x=0.01, ha="left", fontsize=13, fontweight="bold")
    return _png(fig)


# =================================================================================== sections


class _Html(str):
    """A string that is already HTML (never escaped again)."""


def _header_section(data: RunData) -> _Html:
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
    facts.append(("held-out test accuracy", _Html(_before_after(before, after))))
    vals = [a for e in evals if (a := _accuracy(e, "validation")) is not None]
    if vals:
        facts.append(("validation accuracy", _Html(_before_after(vals[0], vals[-1]))))
    written, accepted = _written_accepted(data)
    if written is not None:
        rate = f" ({accepted / written:.0%} of {written} written)" if written else ""
        facts.append(("accepted examples", f"{accepted}{rate}"))
    rounds = data.rounds
    if rounds:
        t_in = sum(_num(r.get("teacher_input_tokens")) for r in rounds)
        t_out = sum(_num(r.get("teacher_output_tokens")) for r in rounds)
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
                (n, _num(v.get("calls")), f"{_num(v.get('input_tokens')):,}", f"{_num(v.get('output_tokens')):,}", format_cost(v.get("cost_usd")))
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
    return _Html(body)


def _health_banner(data: RunData) -> str:
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


def _accuracy_section(data: RunData) -> _Html:
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
        rejected = _int_map(r.get("rejected"))
        rows.append(
            [
                e["iteration"],
                _pct(_accuracy(e, "validation")),
                _pct(_accuracy(e, "test")),
                r.get("written", ""),
                r.get("accepted", ""),
                ", ".join(f"{k} {v}" for k, v in rejected.items()) if r else "",
                f"{_num(r.get('teacher_input_tokens')):,} / {_num(r.get('teacher_output_tokens')):,}" if r else "",
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
    return _Html(body)


def _data_section(data: RunData) -> _Html:
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
    return _Html(
        _img(png, "examples per skill and rejections per reason")
        + f'<p class="note">Source: {_e(source)}.</p>'
        + f"<details><summary>Accepted examples per skill path</summary>{table}</details>"
    )


def _heatmap_section(data: RunData) -> _Html:
    evals = data.evaluations
    png = skill_heatmap(evals, title=None) if evals else None
    if png is None:
        return _missing("No per-skill validation accuracy yet (metrics.json missing or without evaluations).")
    skills = _per_skill_names(evals)
    rows = [[s, *(_pct(((e.get("validation") or {}).get("per_skill") or {}).get(s)) for e in evals)] for s in skills]
    table = _table(
        ["skill", *(f"iter {e['iteration']}" for e in evals)],
        rows,
        numeric=set(range(1, len(evals) + 1)),
    )
    return _Html(
        _img(png, "per-skill validation accuracy heat map")
        + (
            '<p class="note">Rows are the skills the evaluation reports accuracy for (the task\'s '
            "own skill labels, or “unlabelled”), not the teacher's induced skills.</p>"
        )
        + f"<details><summary>The same as a table</summary>{table}</details>"
    )


def _forest_section(data: RunData) -> _Html:
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
                forest = SkillForest.from_data(forest_data) if forest_data else SkillForest()
            except Exception as err:  # from_data promises ValueError, but odd shapes leak others
                parts.append(
                    _missing(f"forest/iter-{iteration:03d}.json is not a valid forest: {type(err).__name__}: {err}")
                    + "</div>"
                )
                continue
            try:
                png_path = forest.draw(Path(tmp) / f"forest-{iteration:03d}.png")  # under its "Iteration N" heading
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
    return _Html("".join(parts))


def _generators_section(data: RunData) -> _Html:
    return _Html(generators_html(data.forests))


def _decisions_section(data: RunData) -> _Html:
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
    return _Html(body)


def _llm_section(data: RunData) -> _Html:
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
        model_s = [float(e.data["latency_s"]) - _num(e.data.get("queued_s")) for e in timed]
        queued_s = [_num(e.data.get("queued_s")) for e in timed]
        ok = sum(1 for e in events if e.data.get("ok"))
        return [
            *label,
            len(events),
            f"{ok / len(events):.0%}",
            f"{sum(_num(e.data.get('input_tokens')) for e in events):,}",
            f"{sum(_num(e.data.get('output_tokens')) for e in events):,}",
            f"{sum(model_s) / len(model_s):.2f}" if model_s else "",
            f"{sum(queued_s) / len(queued_s):.2f}" if queued_s else "",
        ]

    rows = [row(k, v) for k, v in sorted(groups.items())]
    total = row(("all", ""), calls)
    total = [_Html(f"<strong>{_cell(c)}</strong>") for c in total]
    return _Html(
        _table(
            ["node", "model", "calls", "ok", "input tokens", "output tokens", "mean model time (s)", "mean queued (s)"],
            [*rows, total],
            numeric={2, 3, 4, 5, 6, 7},
        )
    )


def _examples_section(data: RunData) -> _Html:
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
            status = _Html('<span class="ok">accepted</span>' if ex.accepted else '<span class="bad">rejected</span>')
            reason = "" if verdict is None else verdict.reason.value + (f": {verdict.detail}" if verdict.detail else "")
            rows.append(
                [
                    status,
                    ex.skill,
                    _Html(f'<div class="text">{_e(_clip(ex.input))}</div>'),
                    _Html(f'<div class="text">{_e(_clip(ex.answer))}</div>'),
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
    return _Html(note + "".join(parts))


# =================================================================================== helpers


def _guard(title: str, anchor: str, build: Callable[[RunData], _Html], data: RunData) -> str:
    """A ``<section>``; a section that fails says why instead of failing the report."""
    try:
        body = build(data)
    except Exception as err:  # untrusted input: one bad part must not cost the whole report
        log.warning("report section %r failed", title, exc_info=True)
        body = _Html(f'<p class="error">Could not build this section: {_e(type(err).__name__)}: {_e(err)}</p>')
    return f'<section id="{_e(anchor)}"><h2>{_e(title)}</h2>\n{body}\n</section>'


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _cell(value: Any) -> str:
    return value if isinstance(value, _Html) else _e(value)


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, numeric: set[int] = frozenset()) -> str:  # type: ignore[assignment]
    head = "".join(f"<th{' class=num' if i in numeric else ''}>{_e(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=num' if i in numeric else ''}>{_cell(c)}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _missing(text: str) -> _Html:
    return _Html(f'<p class="missing">{_e(text)}</p>')


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.savefig(buf, format="png", facecolor="white")
    return buf.getvalue()


def _style_axes(ax: Any, iterations: list[int], *, bars: bool = False) -> None:
    ax.grid(True, axis="y", color="#dddddd", lw=0.8)
    if not bars:
        ax.grid(True, axis="x", color="#eeeeee", lw=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if iterations and len(iterations) <= 30:
        ax.set_xticks(iterations)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if bars:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if iterations:  # at least ~3 iterations wide, so one or two bars/points don't fill the plot
        span = max(iterations) - min(iterations)
        pad = max(0.6 if bars else 0.25, (3 - span) / 2)
        ax.set_xlim(min(iterations) - pad, max(iterations) + pad)
    ax.tick_params(labelsize=9)


def _stacked(
    ax: Any,
    iterations: list[int],
    keys: list[str],
    counts: dict[int, Counter[str]],
    colour: Callable[[str], Any],
    label: Callable[[str], str],
) -> None:
    bottoms = np.zeros(len(iterations))
    if not keys:
        return
    for key in keys:
        values = np.array([counts.get(i, Counter()).get(key, 0) for i in iterations], dtype=float)
        ax.bar(
            iterations,
            values,
            0.62,
            bottom=bottoms,
            color=colour(key),
            edgecolor="white",
            linewidth=0.6,
            label=label(key),
        )
        bottoms += values
    top = bottoms.max() if len(bottoms) else 0
    for x, total in zip(iterations, bottoms, strict=True):
        ax.text(
            x,
            total + max(top, 1) * 0.015,
            f"{total:.0f}",
            ha="center",
            va="bottom",
            fontsize=8.5,
            color="#333333",
        )
    ax.set_ylim(0, max(top, 1) * 1.12)


def _palette(n: int) -> list[Any]:
    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    if n <= 20:  # the ten strong colours of tab20 first, then their light partners
        return [colormaps["tab20"](i) for i in [*range(0, 20, 2), *range(1, 20, 2)][:n]]
    return [colormaps["turbo"](x) for x in np.linspace(0.05, 0.95, n)]


def _family_colours(skills: list[str]) -> dict[str, Any]:
    """One hue per root skill, shades of it for the root's subskills (``skills`` sorted)."""
    roots = list(dict.fromkeys(_root(s) for s in skills))
    base = _palette(max(len(roots), 1))
    out = {}
    for r, root in enumerate(roots):
        members = [s for s in skills if _root(s) == root]
        rgb = np.array(to_rgb(base[r]))
        for k, skill in enumerate(members):
            t = 0.6 * k / (len(members) - 1) if len(members) > 1 else 0.0
            out[skill] = tuple(rgb * (1 - t) + t)
    return out


def _root(skill: str) -> str:
    return skill.split("/", 1)[0]


def _short(text: str, limit: int = MAX_LEGEND_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f"… [{len(text) - MAX_TEXT} more characters]"


def _accuracy(entry: dict[str, Any], split: str) -> float | None:
    value = (entry.get(split) or {}).get("accuracy") if isinstance(entry.get(split), dict) else None
    return float(value) if isinstance(value, int | float) else None


def _per_skill_names(evals: Sequence[dict[str, Any]], split: str = "validation") -> list[str]:
    names: set[str] = set()
    for e in evals:
        per_skill = (e.get(split) or {}).get("per_skill") if isinstance(e.get(split), dict) else None
        if isinstance(per_skill, dict):
            names.update(str(k) for k in per_skill)
    return sorted(names)


def _series(evals: Sequence[dict[str, Any]], skill: str) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for e in evals:
        value = ((e.get("validation") or {}).get("per_skill") or {}).get(skill)
        if isinstance(value, int | float):
            xs.append(e["iteration"])
            ys.append(float(value))
    return xs, ys


def _written_accepted(data: RunData) -> tuple[int | None, int]:
    """Examples written and accepted, from the data files, else from metrics.json rounds."""
    if data.examples:
        exs = [ex for e in data.examples.values() for ex in e]
        return len(exs), sum(ex.accepted for ex in exs)
    if data.rounds:
        return sum(_num(r.get("written")) for r in data.rounds), sum(_num(r.get("accepted")) for r in data.rounds)
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


def _num(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _int_map(value: Any) -> dict[str, int]:
    return {str(k): _num(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h {m:02d}m {s:02d}s" if h else f"{m}m {s:02d}s" if m else f"{s}s"


def _iteration_of(path: Path) -> int | None:
    try:
        return int(path.stem.split("-", 1)[1])
    except (IndexError, ValueError):
        return None


def _read_examples(path: Path, data: RunData) -> list[TrainingExample]:
    out, bad = [], 0
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                out.append(TrainingExample.model_validate_json(line))
            except ValueError:
                bad += 1
    if bad:
        data.problems.append(f"data/{path.name}: skipped {bad} unreadable line(s)")
    return out


_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
  max-width: 1180px; margin: 0 auto; padding: 1.2rem 1.5rem 3rem; color: #1d1d1f; line-height: 1.45;
  background: #fff; }
h1 { font-size: 1.55rem; margin: 0.4rem 0 0.6rem; }
h2 { font-size: 1.25rem; border-bottom: 2px solid #e3e3e3; padding-bottom: 0.25rem;
  margin-top: 2.2rem; }
h3 { font-size: 1.02rem; margin: 1.2rem 0 0.4rem; }
nav { display: flex; flex-wrap: wrap; gap: 0.4rem 1rem; padding: 0.5rem 0.8rem; background: #f4f5f7;
  border-radius: 6px; font-size: 0.92rem; }
nav a { color: #1a5fb4; text-decoration: none; }
nav a:hover { text-decoration: underline; }
img { max-width: 100%; height: auto; display: block; margin: 0.6rem 0; }
table { border-collapse: collapse; font-size: 0.86rem; margin: 0.4rem 0; }
th, td { border-bottom: 1px solid #e6e6e6; padding: 0.3rem 0.6rem; text-align: left;
  vertical-align: top; }
thead th { background: #f4f5f7; position: sticky; top: 0; }
tbody tr:nth-child(even) { background: #fafafa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.facts th { font-weight: 600; color: #444; white-space: nowrap; width: 14rem;
  background: none; }
.scroll { overflow-x: auto; max-width: 100%; }
pre { background: #f6f8fa; padding: 0.6rem 0.8rem; border-radius: 6px; overflow: auto;
  max-height: 24rem; font-size: 0.8rem; white-space: pre-wrap; word-break: break-word; }
.text { white-space: pre-wrap; word-break: break-word; max-width: 34rem; max-height: 14rem;
  overflow: auto; }
details { margin: 0.5rem 0; }
summary { cursor: pointer; font-weight: 600; }
.missing { color: #6b6b6b; font-style: italic; }
.error { color: #a61b1b; }
.note { color: #555; font-size: 0.86rem; }
.ok { color: #1a7f37; font-weight: 600; }
.bad { color: #b42318; font-weight: 600; }
.problems { border: 1px solid #f0c36d; background: #fff8e6; padding: 0.5rem 0.9rem;
  border-radius: 6px; margin: 0.8rem 0; }
.snapshot { margin-bottom: 1.6rem; }
.health { border: 2px solid #b42318; background: #fef3f2; padding: 0.5rem 0.9rem; border-radius: 6px;
  margin: 0.8rem 0; }
.health > strong { color: #b42318; font-size: 1.05rem; }
.health.degraded { border-color: #f0c36d; background: #fff8e6; }
.health.degraded > strong { color: #8a5a00; }
footer { margin-top: 3rem; color: #888; font-size: 0.8rem; }
"""
