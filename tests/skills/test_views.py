"""Mermaid output, the tree layout and the PNG drawing."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from syrupy.assertion import SnapshotAssertion

from teachgraph.skills import SkillForest
from teachgraph.skills.mermaid import escape_label, node_id
from teachgraph.views import draw_forest
from teachgraph.views.forest_drawing import wrap_name
from teachgraph.views.tree_layout import Box, LayoutStyle, tree_layout
from tests.skills.examples import example_forest, large_forest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# ------------------------------------------------------------------ mermaid


def test_mermaid_snapshot(snapshot: SnapshotAssertion) -> None:
    assert example_forest().to_mermaid() == snapshot


def test_mermaid_ids_are_stable_when_the_forest_grows() -> None:
    forest = example_forest()
    before = set(forest.to_mermaid().splitlines())
    forest.add_skill("aardvark arithmetic")  # a new first-by-name root, appended at the end
    after = set(forest.to_mermaid().splitlines())
    assert before <= after
    assert len(after - before) == 1


def test_mermaid_escapes_labels() -> None:
    forest = SkillForest()
    forest.add_skill('say "hi" <b>#1 `x`')
    text = forest.to_mermaid()
    assert '"say #quot;hi#quot; #lt;b#gt;#35;1 #96;x#96;<br/>' in text
    assert escape_label("a\nb") == "a b"
    assert node_id("a") != node_id("b") and node_id("a") == node_id("a")


def test_mermaid_of_empty_forest() -> None:
    assert SkillForest().to_mermaid() == "graph TD\n"


# ------------------------------------------------------------------ layout


@st.composite
def shapes(
    draw: st.DrawFn,
) -> tuple[list[str], dict[str, list[str]], dict[str, tuple[float, float]]]:
    """A random forest shape (parents drawn among earlier nodes) with random box sizes."""
    n = draw(st.integers(1, 45))
    roots: list[str] = []
    children: dict[str, list[str]] = {}
    for i in range(n):
        parent = draw(st.integers(-1, i - 1))
        (roots if parent < 0 else children.setdefault(str(parent), [])).append(str(i))
    size = st.tuples(st.floats(0.05, 3.0), st.floats(0.05, 1.2))
    sizes = {str(i): draw(size) for i in range(n)}
    return roots, children, sizes


def on_boundary(point: tuple[float, float], box: Box, eps: float = 1e-9) -> bool:
    x, y = point
    inside = box.x - eps <= x <= box.right + eps and box.y - eps <= y <= box.bottom + eps
    edge = min(abs(x - box.x), abs(x - box.right), abs(y - box.y), abs(y - box.bottom))
    return inside and edge <= eps


@settings(max_examples=200, deadline=None)
@given(shapes(), st.integers(2, 6), st.sampled_from([None, 1.0, 1.6, 3.0]))
def test_layout_never_overlaps_and_edges_join_their_boxes(
    shape: tuple[list[str], dict[str, list[str]], dict[str, tuple[float, float]]],
    stack_threshold: int,
    aspect: float | None,
) -> None:
    roots, children, sizes = shape
    style = LayoutStyle(stack_threshold=stack_threshold, aspect=aspect)
    layout = tree_layout(roots, children, sizes, style)
    assert layout.boxes.keys() == sizes.keys()
    for p, box in layout.boxes.items():
        assert (box.width, box.height) == sizes[p]
        assert box.x >= -1e-9 and box.y >= -1e-9
        assert box.right <= layout.width + 1e-9 and box.bottom <= layout.height + 1e-9
    for (p, a), (q, b) in itertools.combinations(layout.boxes.items(), 2):
        assert not a.overlaps(b), (p, q)
    expected_edges = {(u, v) for u, vs in children.items() for v in vs}
    assert {(u, v) for u, v, _ in layout.edges} == expected_edges
    for u, v, line in layout.edges:
        assert on_boundary(line[0], layout.boxes[u]) and on_boundary(line[-1], layout.boxes[v])
        # Right-angle connectors only.
        assert all(x1 == x2 or y1 == y2 for (x1, y1), (x2, y2) in itertools.pairwise(line))
    for kids in children.values():  # siblings keep their order, left to right or top to bottom
        boxes = [layout.boxes[k] for k in kids]
        assert all(a.x < b.x or a.y < b.y for a, b in itertools.pairwise(boxes))


def test_layout_puts_children_below_and_parents_over_them() -> None:
    layout = tree_layout(["r"], {"r": ["a", "b"]}, {"r": (1, 0.4), "a": (1, 0.4), "b": (1, 0.4)})
    r, a, b = (layout.boxes[k] for k in "rab")
    assert a.y > r.bottom and b.y == a.y
    assert r.cx == pytest.approx((a.cx + b.cx) / 2)


def test_layout_stacks_many_leaf_children() -> None:
    kids = [f"k{i}" for i in range(6)]
    sizes = {"r": (1.0, 0.4)} | {k: (1.0, 0.4) for k in kids}
    layout = tree_layout(["r"], {"r": kids}, sizes)
    xs = {layout.boxes[k].x for k in kids}
    assert len(xs) == 1  # one column
    assert layout.width < 2.0


def test_layout_wraps_many_roots_into_bands() -> None:
    roots = [f"r{i}" for i in range(12)]
    sizes = {r: (1.5, 0.4) for r in roots}
    one_row = tree_layout(roots, {}, sizes, LayoutStyle(aspect=None))
    banded = tree_layout(roots, {}, sizes)
    assert len({b.y for b in one_row.boxes.values()}) == 1
    assert len({b.y for b in banded.boxes.values()}) > 1
    assert banded.width < one_row.width


# ------------------------------------------------------------------ drawing


def test_draw_writes_a_png(tmp_path: Path) -> None:
    forest = example_forest()
    assert {forest.depth(p) for p in forest} == {0, 1, 2}
    out = draw_forest(forest, tmp_path / "sub" / "forest.png", title="iteration 3")
    assert out == tmp_path / "sub" / "forest.png"
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000


@pytest.mark.parametrize(
    "forest",
    [SkillForest(), large_forest()],
    ids=["empty", "large"],
)
def test_draw_handles_empty_and_large_forests(forest: SkillForest, tmp_path: Path) -> None:
    assert draw_forest(forest, tmp_path / "f.png").read_bytes().startswith(PNG_MAGIC)


def test_draw_handles_awkward_names(tmp_path: Path) -> None:
    forest = SkillForest()
    root = forest.add_skill("costs in $ and $x$ ^_^ 100%", quota=2)
    forest.add_skill("分数の足し算", parent=root)
    forest.add_skill("a" * 200, parent=root)
    forest.add_skill("\\frac{a}{b} {braces}", parent=root)
    assert draw_forest(forest, tmp_path / "f.png", title="$not math$").read_bytes().startswith(PNG_MAGIC)


def test_wrap_name_balances_and_bounds_lines() -> None:
    assert wrap_name("fractions") == "fractions"
    assert wrap_name("carrying into a new digit") == "carrying into\na new digit"
    long = wrap_name("x" * 500)
    assert len(long.splitlines()) == 4 and long.endswith("…")
