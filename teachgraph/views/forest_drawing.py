"""The skill forest as a PNG: a top-down tree, boxes coloured by the student's accuracy.

Each box shows the skill's name (bold, wrapped), its data quota and its latest validation
accuracy (and accuracy on generated data, from the program engine's difficulty probe); its fill
comes from a red-yellow-green scale of the validation accuracy, else the generated-data one (grey
when neither was measured), and a heavy border marks the skills that get data this iteration (quota > 0).

Drawn with matplotlib's Agg canvas directly (no pyplot, so no global figure state and no GUI
backend), at a size computed from the measured text, so boxes are never squeezed or overlapping
however large the forest grows. The geometry comes from :mod:`teachgraph.views.tree_layout`.
"""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Colormap, ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from matplotlib.ticker import PercentFormatter

from teachgraph.skills.labels import colour_accuracy, stats_line
from teachgraph.views.tree_layout import LayoutStyle, tree_layout

if TYPE_CHECKING:
    from teachgraph.skills.forest import SkillForest

NAME_SIZE = 9.0  # points
STATS_SIZE = 8.0
WRAP = 22  # characters per line of a skill name
MAX_NAME_LINES = 4  # longer names are cut with an ellipsis, so one runaway name can't dominate
PAD_X, PAD_Y, LINE_GAP = 0.09, 0.07, 0.04  # inches inside a box
MARGIN = 0.3  # inches around the picture
MIN_WIDTH = 6.5  # inches; room for the title and the legend even for a one-node forest
TITLE_HEIGHT = 0.5
LEGEND_HEIGHT = 0.85
MAX_PIXELS = 16000  # per side; Agg refuses images above 2**16 pixels, and huge PNGs are useless

UNKNOWN_COLOUR = "#d9d9d9"
EDGE_COLOUR = "#8c8c8c"
BORDER_COLOUR = "#4d4d4d"
QUOTA_BORDER_COLOUR = "#1a1a1a"


def accuracy_colormap() -> Colormap:
    """Red-yellow-green, blended 35% toward white so black text stays readable on every fill."""
    from matplotlib import colormaps

    base = colormaps["RdYlGn"](np.linspace(0.0, 1.0, 256))
    base[:, :3] = base[:, :3] * 0.65 + 0.35
    return ListedColormap(base, name="teachgraph_accuracy")


def wrap_name(name: str) -> str:
    """``name`` wrapped to :data:`WRAP` characters a line, at most :data:`MAX_NAME_LINES`.

    Lines are balanced: as many lines as wrapping at ``WRAP`` needs, but each as short as that
    line count allows ("carrying into / a new digit", not "carrying into a new / digit"), which
    keeps boxes narrow and the tree compact.
    """

    def wrap(width: int) -> list[str]:
        return textwrap.wrap(name, width, break_long_words=True, break_on_hyphens=True)

    lines = wrap(WRAP) or [name]
    for width in range(max(1, len(name) // len(lines)), WRAP):
        candidate = wrap(width)
        if len(candidate) == len(lines):
            lines = candidate
            break
    if len(lines) > MAX_NAME_LINES:
        lines = lines[:MAX_NAME_LINES]
        lines[-1] = lines[-1][: WRAP - 1].rstrip() + "…"
    return "\n".join(lines)


def draw_forest(
    forest: SkillForest,
    path: Path | str,
    *,
    title: str | None = None,
    dpi: int = 150,
    style: LayoutStyle | None = None,
) -> Path:
    """Write ``forest`` as a PNG to ``path`` (parent folders are created) and return the path.

    Args:
        forest: The forest to draw; an empty forest gives a picture saying so.
        path: Where to write the PNG.
        title: Printed above the tree.
        dpi: Resolution; lowered automatically if the picture would exceed 16000 px a side.
        style: Spacing of the tree layout.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nodes = {p: forest.node(p) for p in forest}
    names = {p: wrap_name(n.name) for p, n in nodes.items()}
    stats = {p: stats_line(n) for p, n in nodes.items()}

    fig = Figure(dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    with warnings.catch_warnings():
        # DejaVu Sans lacks CJK and some symbols; missing glyphs draw as boxes. Not actionable
        # per skill, and a warning per box would flood the run's log.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        sizes, parts = _measure(fig, canvas, names, stats)
        layout = tree_layout(forest.roots(), {p: forest.children(p) for p in nodes}, sizes, style=style)

        top = MARGIN + (TITLE_HEIGHT if title else 0.0)
        width = max(layout.width + 2 * MARGIN, MIN_WIDTH)
        height = top + max(layout.height, 0.6) + MARGIN + LEGEND_HEIGHT
        fig.set_size_inches(width, height)
        fig.set_dpi(min(dpi, MAX_PIXELS / max(width, height)))
        # One axes over the whole figure with data units = inches, y downward like the layout:
        # text sizes (points) and box sizes (inches) then agree exactly.
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_xlim(0.0, width)
        ax.set_ylim(height, 0.0)
        ax.set_axis_off()
        dx, dy = (width - layout.width) / 2, top

        cmap, norm = accuracy_colormap(), Normalize(0.0, 1.0)
        ax.add_collection(
            LineCollection(
                [[(x + dx, y + dy) for x, y in line] for _, _, line in layout.edges],
                colors=EDGE_COLOUR,
                linewidths=1.1,
                zorder=1,
            )
        )
        for p, box in layout.boxes.items():
            accuracy = colour_accuracy(nodes[p])
            busy = nodes[p].quota > 0
            ax.add_patch(
                FancyBboxPatch(
                    (box.x + dx, box.y + dy),
                    box.width,
                    box.height,
                    boxstyle="round,pad=0,rounding_size=0.06",
                    facecolor=UNKNOWN_COLOUR if accuracy is None else cmap(norm(accuracy)),
                    edgecolor=QUOTA_BORDER_COLOUR if busy else BORDER_COLOUR,
                    linewidth=2.0 if busy else 0.8,
                    zorder=2,
                )
            )
            name_h, stats_h = parts[p]
            cx = box.cx + dx
            ax.text(
                cx, box.y + dy + PAD_Y + name_h / 2, names[p],
                ha="center", va="center", multialignment="center",
                fontsize=NAME_SIZE, fontweight="bold", parse_math=False, zorder=3,
            )  # fmt: skip
            ax.text(
                cx, box.bottom + dy - PAD_Y - stats_h / 2, stats[p],
                ha="center", va="center", fontsize=STATS_SIZE, color="#262626",
                parse_math=False, zorder=3,
            )  # fmt: skip
        if not nodes:
            ax.text(width / 2, top + 0.3, "(empty skill forest)", ha="center", va="center",
                    fontsize=NAME_SIZE, color="#595959")  # fmt: skip
        if title:
            ax.text(width / 2, MARGIN + TITLE_HEIGHT / 2 - 0.05, title, ha="center",
                    va="center", fontsize=12, fontweight="bold", parse_math=False)  # fmt: skip
        _legend(fig, ax, cmap, norm, width, height)
        fig.savefig(path, format="png", facecolor="white")
    return path


def _measure(
    fig: Figure, canvas: FigureCanvasAgg, names: dict[str, str], stats: dict[str, str]
) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    """Box size per node (inches), and the heights of its name and stats text blocks."""
    renderer = canvas.get_renderer()
    dpi = fig.dpi

    def extent(text: str, size: float, weight: str) -> tuple[float, float]:
        artist = fig.text(0, 0, text, fontsize=size, fontweight=weight, parse_math=False)
        box = artist.get_window_extent(renderer)
        artist.remove()
        return box.width / dpi, box.height / dpi

    sizes, parts = {}, {}
    for p in names:
        name_w, name_h = extent(names[p], NAME_SIZE, "bold")
        stats_w, stats_h = extent(stats[p], STATS_SIZE, "normal")
        sizes[p] = (max(name_w, stats_w) + 2 * PAD_X, name_h + LINE_GAP + stats_h + 2 * PAD_Y)
        parts[p] = (name_h, stats_h)
    return sizes, parts


def _legend(fig: Figure, ax: Axes, cmap: Colormap, norm: Normalize, width: float, height: float) -> None:
    """Colour scale, the grey "not measured" swatch and the "quota > 0" border, at the bottom."""
    bar_w, bar_h = 2.6, 0.13
    left = (width - bar_w - 2.9) / 2
    bottom = MARGIN + 0.3  # inches from the figure's bottom edge; room for the tick labels
    cax = fig.add_axes((left / width, bottom / height, bar_w / width, bar_h / height))
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal")
    bar.ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    bar.ax.tick_params(labelsize=7, length=2)
    bar.ax.set_title("latest validation accuracy (else on generated data)", fontsize=8, pad=3)
    bar.outline.set_linewidth(0.5)
    # The swatches live in the main axes, whose data units are inches with y downward.
    y = height - bottom - bar_h
    x = left + bar_w + 0.35
    for label, face, edge, lw in (
        ("not measured", UNKNOWN_COLOUR, BORDER_COLOUR, 0.8),
        ("quota > 0", "white", QUOTA_BORDER_COLOUR, 2.0),
    ):
        ax.add_patch(
            FancyBboxPatch((x, y), 0.28, bar_h, boxstyle="round,pad=0,rounding_size=0.03",
                           facecolor=face, edgecolor=edge, linewidth=lw)
        )  # fmt: skip
        ax.text(x + 0.36, y + bar_h / 2, label, va="center", fontsize=8)
        x += 1.35
