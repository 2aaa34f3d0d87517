"""A top-down tree layout for boxes of different sizes (no graphviz needed).

Pure geometry, independent of matplotlib and of the forest, so it can be tested on its own:
given each node's box size, it returns where every box goes and the polyline of every edge, with
no two boxes overlapping.

The layout:

* Each subtree owns a vertical strip of its own; sibling strips sit side by side with a gap, so
  boxes of different subtrees can never overlap and edges never cross.
* Nodes of the same depth share a row (boxes centred in it), and a parent sits centred over its
  first and last child, joined to them by right-angle "elbow" connectors.
* A node whose children are *all leaves* and that has many of them (``stack_threshold``) lists
  them in a column below it instead of a row, like an org chart. Explored skills gather many
  leaf subskills; laid out in a row they would make the picture several metres wide.
* Root trees that would not fit a landscape picture side by side are wrapped into bands (rows
  of trees), so a 40-skill forest still fits a page or screen at a readable scale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Point = tuple[float, float]


@dataclass(frozen=True)
class Box:
    """An axis-aligned box; ``y`` grows downward (row 0 is at the top)."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2

    def overlaps(self, other: Box) -> bool:
        """True when the interiors intersect (touching edges do not count)."""
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom


@dataclass(frozen=True)
class LayoutStyle:
    """Spacing of the layout, in the units of the box sizes (the drawing uses inches)."""

    h_gap: float = 0.25  # between sibling subtrees
    tree_gap: float = 0.6  # between root trees, wider so separate trees read as separate
    v_gap: float = 0.55  # between rows; the elbow connectors run through it
    stack_threshold: int = 4  # stack leaf-only children when there are at least this many
    stack_indent: float = 0.3  # how far a stacked column sits right of its parent's left edge
    stack_gap: float = 0.12  # between boxes of a stacked column
    band_gap: float = 0.8  # between bands of root trees
    # Target width/height of the whole layout when wrapping root trees into bands; None keeps
    # all trees in one row. Landscape, a bit under 16:9, to fit pages and screens.
    aspect: float | None = 1.6


@dataclass(frozen=True)
class TreeLayout:
    """Where everything goes.

    Attributes:
        boxes: Node -> its box.
        edges: ``(parent, child, polyline)`` per edge; the polyline runs from the parent's box
            to the child's box.
        width: Width of the bounding box of all boxes (which starts at ``(0, 0)``).
        height: Height of that bounding box.
    """

    boxes: dict[str, Box]
    edges: list[tuple[str, str, tuple[Point, ...]]]
    width: float
    height: float


def tree_layout(
    roots: Sequence[str],
    children: Mapping[str, Sequence[str]],
    sizes: Mapping[str, tuple[float, float]],
    style: LayoutStyle | None = None,
) -> TreeLayout:
    """Lay out the forest given by ``roots`` and ``children`` (node -> ordered children;
    missing = no children) with box ``sizes`` (node -> ``(width, height)``).

    Root trees go side by side in creation order; when that would make the picture much wider
    than ``style.aspect``, they are wrapped into several bands (rows of trees) stacked
    vertically, each band centred, choosing the band count whose overall shape is closest to
    ``style.aspect``.
    """
    style = style or LayoutStyle()
    if not roots:
        return TreeLayout(boxes={}, edges=[], width=0.0, height=0.0)
    trees = [_band_layout([r], children, sizes, style) for r in roots]
    bands = _pack_bands([(t.width, t.height) for t in trees], style)
    laid = [_band_layout(roots[start:end], children, sizes, style) for start, end in bands]
    width = max(band.width for band in laid)
    boxes: dict[str, Box] = {}
    edges: list[tuple[str, str, tuple[Point, ...]]] = []
    top = 0.0
    for band in laid:
        dx = (width - band.width) / 2
        boxes |= {p: Box(b.x + dx, b.y + top, b.width, b.height) for p, b in band.boxes.items()}
        edges += [(u, v, tuple((x + dx, y + top) for x, y in line)) for u, v, line in band.edges]
        top += band.height + style.band_gap
    return TreeLayout(boxes=boxes, edges=edges, width=width, height=top - style.band_gap)


def _pack_bands(trees: Sequence[tuple[float, float]], style: LayoutStyle) -> list[tuple[int, int]]:
    """Split consecutive trees (``(width, height)`` each) into bands: ``[(start, end), ...]``.

    For every band count k, the split that minimises the widest band (a linear-partition DP;
    forests have few roots, so the cubic cost is nothing), then the k whose bounding box has the
    aspect ratio closest to the target. Ties go to fewer bands.
    """
    n = len(trees)

    def span(i: int, j: int) -> float:  # width of trees[i:j] in one band
        return sum(w for w, _ in trees[i:j]) + style.tree_gap * (j - i - 1)

    # best[k][j]: (widest band, split) for trees[:j] in k bands.
    best: dict[tuple[int, int], tuple[float, list[tuple[int, int]]]] = {
        (1, j): (span(0, j), [(0, j)]) for j in range(1, n + 1)
    }
    for k in range(2, n + 1):
        for j in range(k, n + 1):
            options = ((max(best[k - 1, i][0], span(i, j)), [*best[k - 1, i][1], (i, j)]) for i in range(k - 1, j))
            best[k, j] = min(options, key=lambda o: o[0])

    splits = [best[k, n][1] for k in range(1, n + 1)]
    aspect = style.aspect
    if aspect is None:
        return splits[0]

    def mismatch(split: list[tuple[int, int]]) -> float:
        width = max(span(i, j) for i, j in split)
        height = sum(max(h for _, h in trees[i:j]) for i, j in split)
        height += style.band_gap * (len(split) - 1)
        return abs(math.log(width / height / aspect)) if width > 0 and height > 0 else 0.0

    return min(splits, key=mismatch)  # min() keeps the first (fewest bands) of equal scores


def _band_layout(
    roots: Sequence[str],
    children: Mapping[str, Sequence[str]],
    sizes: Mapping[str, tuple[float, float]],
    style: LayoutStyle,
) -> TreeLayout:
    """Lay out root trees side by side in one band (see the module docstring)."""

    def kids(node: str) -> Sequence[str]:
        return children.get(node, ())

    def stacked(node: str) -> bool:
        k = kids(node)
        return len(k) >= style.stack_threshold and not any(kids(c) for c in k)

    # Rows: the depth of every row-placed node (roots and children of non-stacked parents).
    row_of: dict[str, int] = {}
    todo = [(r, 0) for r in roots]
    while todo:
        node, depth = todo.pop()
        row_of[node] = depth
        if not stacked(node):
            todo.extend((c, depth + 1) for c in kids(node))
    n_rows = max(row_of.values(), default=-1) + 1
    row_height = [0.0] * n_rows
    for node, row in row_of.items():
        row_height[row] = max(row_height[row], sizes[node][1])
    row_top = [0.0] * n_rows
    for row in range(1, n_rows):
        row_top[row] = row_top[row - 1] + row_height[row - 1] + style.v_gap

    def place(node: str) -> tuple[dict[str, float], float]:
        """Left x of every box in ``node``'s subtree relative to its strip, and strip width."""
        width = sizes[node][0]
        if not kids(node):
            return {node: 0.0}, width
        xs: dict[str, float] = {node: 0.0}
        if stacked(node):
            xs |= {c: style.stack_indent for c in kids(node)}
            column = max(sizes[c][0] for c in kids(node))
            return xs, max(width, style.stack_indent + column)
        centres = []
        cursor = 0.0
        for child in kids(node):
            sub, sub_width = place(child)
            xs.update({p: x + cursor for p, x in sub.items()})
            centres.append(xs[child] + sizes[child][0] / 2)
            cursor += sub_width + style.h_gap
        span = cursor - style.h_gap
        left = (centres[0] + centres[-1]) / 2 - width / 2
        # A parent wider than its children's span would stick out left of the strip: shift all.
        shift = max(0.0, -left)
        xs = {p: x + shift for p, x in xs.items()}
        xs[node] = left + shift
        return xs, max(span + shift, left + shift + width)

    lefts: dict[str, float] = {}
    cursor = 0.0
    for root in roots:
        sub, sub_width = place(root)
        lefts.update({p: x + cursor for p, x in sub.items()})
        cursor += sub_width + style.tree_gap

    boxes: dict[str, Box] = {}
    edges: list[tuple[str, str, tuple[Point, ...]]] = []
    # Pre-order, so every parent's box exists before its children's boxes are placed.
    todo_nodes = list(reversed(roots))
    while todo_nodes:
        node = todo_nodes.pop()
        w, h = sizes[node]
        if node in row_of:
            row = row_of[node]
            boxes[node] = Box(lefts[node], row_top[row] + (row_height[row] - h) / 2, w, h)
        todo_nodes.extend(reversed(kids(node)))
        parent = boxes[node]
        if stacked(node):
            trunk = parent.x + min(style.stack_indent / 2, parent.width / 2)
            y = parent.bottom + 2 * style.stack_gap
            for child in kids(node):
                cw, ch = sizes[child]
                box = boxes[child] = Box(lefts[child], y, cw, ch)
                y = box.bottom + style.stack_gap
                edges.append((node, child, ((trunk, parent.bottom), (trunk, box.cy), (box.x, box.cy))))
        elif kids(node):
            mid = row_top[row_of[node] + 1] - style.v_gap / 2
            for child in kids(node):
                cw, ch = sizes[child]
                row = row_of[child]
                top = row_top[row] + (row_height[row] - ch) / 2
                cx = lefts[child] + cw / 2
                edges.append(
                    (
                        node,
                        child,
                        ((parent.cx, parent.bottom), (parent.cx, mid), (cx, mid), (cx, top)),
                    )
                )

    width = max((b.right for b in boxes.values()), default=0.0)
    height = max((b.bottom for b in boxes.values()), default=0.0)
    return TreeLayout(boxes=boxes, edges=edges, width=width, height=height)
