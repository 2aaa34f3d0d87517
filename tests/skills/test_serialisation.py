"""Forests round-trip exactly through node-link data, JSON and snapshots."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from teachgraph.skills import ForestSnapshot, SkillForest, diff_snapshots
from tests.skills.examples import example_forest
from tests.skills.strategies import forests


def assert_identical(a: SkillForest, b: SkillForest) -> None:
    """Equal in every observable way, order included."""
    assert a == b
    assert list(a) == list(b)
    assert a.roots() == b.roots()
    # (The DiGraph's own node order is insertion order, an internal detail: a rebuilt graph is
    # inserted in iteration order. Everything observable is compared here.)
    assert set(a.graph.edges) == set(b.graph.edges)
    assert list(a.assignments.items()) == list(b.assignments.items())
    for path in a:
        assert a.node(path) == b.node(path)
        assert a.children(path) == b.children(path)


# One property test checks every route, because generating rich random forests costs far more
# than round-tripping them.
@settings(max_examples=100, deadline=None)
@given(forests())
def test_round_trips_are_exact(forest: SkillForest) -> None:
    text = forest.to_json()
    from_json = SkillForest.from_json(text)
    assert_identical(from_json, forest)
    assert from_json.to_json() == text  # byte-identical, so snapshots on disk are stable
    json.loads(text)  # strict JSON: no NaN/Infinity

    data = forest.to_data()
    from_data = SkillForest.from_data(data)
    assert_identical(from_data, forest)
    assert from_data.to_data() == data
    edges = [{"source": p, "target": c} for p in forest for c in forest.children(p)]
    assert data["edges"] == edges
    assert [n["id"] for n in data["nodes"]] == list(forest)

    snap = forest.snapshot(iteration=3)
    back = ForestSnapshot.model_validate_json(snap.model_dump_json())
    assert back == snap
    assert_identical(back.load(), forest)
    assert diff_snapshots(snap, back).is_empty()

    assert_identical(forest.copy(), forest)


@settings(max_examples=40, deadline=None)
@given(forests())
def test_copy_and_data_share_nothing_with_the_forest(forest: SkillForest) -> None:
    before = forest.to_json()
    data = forest.to_data()
    clone = forest.copy()
    for node in data["nodes"]:
        node["accuracy_history"].append({"mutated": True})
        node["policy"]["mutated"] = 1.0
    data["assignments"]["mutated"] = "x"
    for path in list(clone):
        clone.update(path, description="changed")
    clone.assignments.clear()
    assert forest.to_json() == before


def test_snapshots_are_frozen_in_time() -> None:
    forest = example_forest()
    snap = forest.snapshot(iteration=3)
    forest.set_quota("fractions", 9)
    assert snap.load().node("fractions").quota == 0
    assert diff_snapshots(snap, forest.snapshot(4)).summary() == "~ fractions: quota 0 -> 9"


def test_data_is_networkx_node_link_with_edges_key() -> None:
    data = example_forest().to_data()
    assert data["directed"] is True and data["multigraph"] is False
    assert {"nodes", "edges", "graph", "assignments"} <= data.keys()
    assert "links" not in data
    assert data["nodes"][0]["id"] == "multi-digit addition"
    assert "path" not in data["nodes"][0]  # the id is the path; not stored twice


def test_empty_forest_round_trips() -> None:
    empty = SkillForest()
    assert SkillForest.from_json(empty.to_json()) == empty
    assert list(SkillForest.from_data(empty.to_data())) == []


def _data_with(mutate: object) -> dict:
    data = example_forest().to_data()
    mutate(data)  # type: ignore[operator]
    return data


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["nodes"][0].update(quota=-1), "invalid attributes"),
        (lambda d: d["nodes"][0].update(unknown=1), "invalid attributes"),
        (lambda d: d["nodes"][0].update(name="other"), "invalid attributes"),
        (lambda d: d["nodes"][0]["accuracy_history"].append({"iteration": 0}), "invalid"),
        (lambda d: d["edges"].pop(0), "has parents"),
        (
            lambda d: d["edges"].append({"source": "fractions", "target": "word problems"}),
            "parents",
        ),
        (lambda d: d["assignments"].update(x="nowhere"), "unknown skill"),
        (lambda d: d.update(directed=False), "directed"),
    ],
)
def test_from_data_rejects_invalid_data(mutate: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SkillForest.from_data(_data_with(mutate))


def test_from_json_rejects_non_finite_floats() -> None:
    text = example_forest().to_json().replace('"policy": {}', '"policy": {"v": Infinity}', 1)
    with pytest.raises(ValueError, match="invalid attributes"):
        SkillForest.from_json(text)
