"""The report's plots: PNG bytes drawn on matplotlib's Agg canvas.

No pyplot (no global figure state, no GUI backend), like :mod:`teachgraph.views.forest_drawing`, whose
accuracy colour scale the heat map shares.
"""

from __future__ import annotations

import io
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator, PercentFormatter

from teachgraph.domain import RejectionReason
from teachgraph.tracing.report.loading import UNVALIDATED, DataCounts, accuracy_of, per_skill_names, skill_series
from teachgraph.views import accuracy_colormap

__all__ = ["DPI", "MAX_STACKED_SKILLS", "REASON_COLOURS", "accuracy_plot", "data_plot", "skill_heatmap"]

DPI = 120
MAX_LEGEND_LABEL = 48
MAX_STACKED_SKILLS = 24  # above this, the data plot stacks root skills instead of every path

# Fixed colours per rejection reason, so the same reason looks the same in every report.
REASON_COLOURS = {
    RejectionReason.MALFORMED.value: "#7f7f7f",
    RejectionReason.PROGRAM_ERROR.value: "#d62728",
    RejectionReason.ANSWER_MISMATCH.value: "#ff7f0e",
    RejectionReason.FAILS_OWN_TESTS.value: "#ff9896",
    RejectionReason.WEAK_TESTS.value: "#ffbb78",
    RejectionReason.DUPLICATE.value: "#9467bd",
    RejectionReason.CONTAMINATED.value: "#8c564b",
    RejectionReason.TOO_EASY.value: "#1f77b4",
    RejectionReason.OVER_QUOTA.value: "#bcbd22",
    RejectionReason.CUSTOM.value: "#e377c2",
    RejectionReason.REVIEWER.value: "#17becf",
    UNVALIDATED: "#c7c7c7",
}


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
        split: [(e["iteration"], a) for e in evals if (a := accuracy_of(e, split)) is not None]
        for split in ("validation", "test")
    }
    skills = per_skill_names(evals)
    if not (overall["validation"] or overall["test"] or skills):
        return None
    fig = Figure(figsize=(10.5, 5.4), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    for skill, colour in zip(skills, _palette(len(skills)), strict=True):
        xs, ys = skill_series(evals, skill)
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
    skills = per_skill_names(evals, split)
    if not skills:
        return None
    iterations = [e["iteration"] for e in evals]
    rows = ["overall", *skills]
    matrix = np.full((len(rows), len(evals)), np.nan)
    for j, e in enumerate(evals):
        overall = accuracy_of(e, split)
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
