"""Building, querying and updating the skill forest."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from teachgraph.skills import SkillForest, SkillNode, SkillNotFoundError, name_key
from tests.skills.examples import example_forest
from tests.skills.strategies import forests

# ------------------------------------------------------------------ add_skill / find


def test_add_skill_normalises_names_and_builds_paths() -> None:
    forest = SkillForest()
    root = forest.add_skill("  multi-digit   addition\n")
    child = forest.add_skill("carrying\tacross columns", parent=root, quota=3, iteration=2)
    assert root == "multi-digit addition"
    assert child == "multi-digit addition/carrying across columns"
    node = forest.node(child)
    assert (node.name, node.quota, node.created_iteration) == ("carrying across columns", 3, 2)


def test_add_skill_is_idempotent_and_changes_nothing() -> None:
    forest = SkillForest()
    path = forest.add_skill("fractions", description="first", quota=2)
    before = forest.copy()
    assert forest.add_skill("fractions", description="second", quota=9) == path
    assert forest == before
    assert len(forest) == 1


@pytest.mark.parametrize(
    "variant",
    ["two digit addition", "Two-digit addition", "TWO_DIGIT_ADDITION", "two  digit\naddition",
     "Two – digit addition", "two-digit-addition"],
)  # fmt: skip
def test_near_duplicate_names_merge(variant: str) -> None:
    forest = SkillForest()
    path = forest.add_skill("Two-digit addition")
    assert forest.find(variant) == path
    assert forest.add_skill(variant) == path
    assert forest.roots() == [path]


def test_merging_is_per_parent() -> None:
    forest = SkillForest()
    a, b = forest.add_skill("addition"), forest.add_skill("subtraction")
    x = forest.add_skill("Word problems", parent=a)
    y = forest.add_skill("word problems", parent=b)
    assert x == "addition/Word problems" and y == "subtraction/word problems"
    assert forest.find("WORD PROBLEMS", parent=a) == x
    assert forest.find("word problems") is None  # not a root


def test_find_prefers_the_exact_name() -> None:
    # Loaded data may hold siblings that only differ in case; an exact match must win.
    forest = SkillForest()
    forest.add_skill("Addition")
    data = forest.to_data()
    data["nodes"].append({**data["nodes"][0], "id": "addition", "name": "addition"})
    forest = SkillForest.from_data(data)
    assert forest.find("addition") == "addition"
    assert forest.find("Addition") == "Addition"


def test_find_misses_return_none() -> None:
    forest = example_forest()
    assert forest.find("geometry") is None
    assert forest.find("a/b") is None
    assert forest.find("   ") is None


def test_name_key_is_loose_only_about_case_spaces_hyphens_underscores() -> None:
    assert name_key("Two-digit_Addition") == name_key("two digit addition")
    assert name_key("addition") != name_key("additions")
    assert name_key("Straße") == name_key("STRASSE")  # casefold, not lower


@pytest.mark.parametrize("bad", ["", "   ", "a/b", "/"])
def test_invalid_names_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        SkillForest().add_skill(bad)


def test_unknown_parent_is_a_key_error_with_a_hint() -> None:
    forest = example_forest()
    with pytest.raises(KeyError) as err:
        forest.add_skill("x", parent="fraction")
    assert isinstance(err.value, SkillNotFoundError)
    assert str(err.value) == "no skill 'fraction' in the forest; did you mean 'fractions'?"


def test_unicode_names_are_nfc_normalised() -> None:
    forest = SkillForest()
    decomposed = "re\u0301sume\u0301"  # "résumé" with combining accents
    path = forest.add_skill(decomposed)
    assert path == "r\u00e9sum\u00e9"
    assert forest.add_skill("r\u00e9sum\u00e9") == path


# ------------------------------------------------------------------ structure


def test_structure_queries() -> None:
    forest = example_forest()
    assert forest.roots() == ["multi-digit addition", "fractions", "word problems"]
    carrying = "multi-digit addition/carrying across columns"
    assert forest.children(carrying) == [
        f"{carrying}/carrying into a new digit",
        f"{carrying}/repeated carries (e.g. 999 + 1)",
    ]
    assert forest.parent(carrying) == "multi-digit addition"
    assert forest.parent("fractions") is None
    assert forest.depth("fractions") == 0 and forest.depth(f"{carrying}/carrying into a new digit") == 2
    assert forest.subtree(carrying) == [carrying, *forest.children(carrying)]
    assert forest.leaves(carrying) == forest.children(carrying)
    assert forest.leaves("fractions/mixed numbers") == ["fractions/mixed numbers"]
    assert len(forest) == 18 and "fractions" in forest and "nope" not in forest and 3 not in forest


def test_iteration_is_preorder_in_creation_order() -> None:
    forest = SkillForest()
    b = forest.add_skill("b")
    a = forest.add_skill("a")
    b2 = forest.add_skill("z", parent=b)
    forest.add_skill("y", parent=a)
    b1 = forest.add_skill("m", parent=b)
    forest.add_skill("deep", parent=b2)
    assert list(forest) == ["b", "b/z", "b/z/deep", "b/m", "a", "a/y"]
    assert forest.children(b) == [b2, b1]


@settings(max_examples=50, deadline=None)
@given(forests())
def test_structure_invariants(forest: SkillForest) -> None:
    paths = list(forest)
    leaves = set(forest.leaves())
    assert len(paths) == len(set(paths)) == len(forest)
    for path in paths:
        parent = forest.parent(path)
        assert forest.depth(path) == (0 if parent is None else forest.depth(parent) + 1)
        assert forest.depth(path) <= 4
        assert forest.subtree(path)[0] == path
        assert (path in leaves) == (not forest.children(path))
        names = [name_key(forest.node(c).name) for c in forest.children(path)]
        assert len(names) == len(set(names))  # merging keeps siblings distinct
    assert forest.leaves() == [p for p in paths if not forest.children(p)]
    for root in forest.roots():
        assert set(forest.leaves(root)) == leaves & set(forest.subtree(root))


def test_remove_drops_the_subtree_and_its_assignments() -> None:
    forest = example_forest()
    target = "word problems/multi-step reasoning"
    doomed = forest.subtree(target)
    kept = {i: p for i, p in forest.assignments.items() if p not in doomed}
    forest.remove(target)
    assert not any(p in forest for p in doomed)
    assert forest.assignments == kept
    assert forest.children("word problems") == [
        "word problems/extracting the quantities",
        "word problems/money and change",
    ]
    with pytest.raises(KeyError):
        forest.remove(target)


# ------------------------------------------------------------------ attributes


def test_node_returns_a_copy() -> None:
    forest = example_forest()
    node = forest.node("fractions")
    node.quota = 99
    node.accuracy_history.clear()
    assert forest.node("fractions").quota == 0
    assert forest.node("fractions").accuracy_history


def test_update_validates_through_skill_node() -> None:
    forest = example_forest()
    forest.update("fractions", description="parts of a whole", policy={"value": 0.5, "pulls": 3})
    node = forest.node("fractions")
    assert node.description == "parts of a whole"
    assert node.policy == {"value": 0.5, "pulls": 3.0}
    before = forest.copy()
    for bad in ({"quota": -1}, {"colour": "red"}, {"quota": True}, {"quota": "3"},
                {"policy": {"v": float("nan")}}, {"generated_total": 1.5}):  # fmt: skip
        with pytest.raises(ValueError):
            forest.update("fractions", **bad)
    for identity in ({"name": "x"}, {"path": "x"}):
        with pytest.raises(ValueError, match="node's id"):
            forest.update("fractions", **identity)
    assert forest == before  # failed updates change nothing


def test_quotas() -> None:
    forest = SkillForest()
    a = forest.add_skill("a", quota=2)
    b = forest.add_skill("b", parent=a)
    forest.set_quota(b, 5)
    assert forest.quotas() == {a: 2, b: 5}
    forest.set_quota(a, 0)
    assert forest.quotas() == {b: 5}
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError):
            forest.set_quota(a, bad)  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        forest.set_quota("missing", 1)


def test_record_generated_sets_last_and_accumulates() -> None:
    forest = SkillForest()
    a = forest.add_skill("a")
    forest.record_generated(a, 10, rejected=2)
    forest.record_generated(a, 4)
    node = forest.node(a)
    assert (node.generated_last, node.generated_total, node.rejected_total) == (4, 14, 2)
    with pytest.raises(ValueError):
        forest.record_generated(a, -1)
    with pytest.raises(KeyError):
        forest.record_generated("b", 1)


def test_record_accuracy_and_latest() -> None:
    forest = SkillForest()
    a = forest.add_skill("a")
    assert forest.latest_accuracy(a) is None
    forest.record_accuracy(a, iteration=2, split="validation", value=0.5, n=10)
    forest.record_accuracy(a, iteration=1, split="validation", value=0.25, n=10)  # backfill
    forest.record_accuracy(a, iteration=3, split="generated", value=0.9, n=30)
    assert forest.latest_accuracy(a) == 0.5
    assert forest.latest_accuracy(a, "generated") == 0.9
    assert forest.latest_accuracy(a, "test") is None
    # Re-recording an (iteration, split) replaces it in place instead of duplicating it.
    forest.record_accuracy(a, iteration=2, split="validation", value=0.75, n=12)
    history = forest.node(a).accuracy_history
    assert [(p.iteration, p.split, p.value) for p in history] == [
        (2, "validation", 0.75), (1, "validation", 0.25), (3, "generated", 0.9)
    ]  # fmt: skip
    for bad in ({"split": "train"}, {"value": 1.5}, {"value": float("nan")}, {"n": -1}):
        kwargs = {"iteration": 4, "split": "validation", "value": 0.5, "n": 1} | bad
        with pytest.raises(ValueError):
            forest.record_accuracy(a, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown split"):
        forest.latest_accuracy(a, "val")


def test_skill_node_rejects_inconsistent_identity() -> None:
    with pytest.raises(ValueError):
        SkillNode(path="a/b", name="c")
    with pytest.raises(ValueError):
        SkillNode(path="a/ b", name=" b")


# ------------------------------------------------------------------ assignments


def test_assignments() -> None:
    forest = example_forest()
    forest.assignments.clear()
    carrying = "multi-digit addition/carrying across columns"
    new_digit = f"{carrying}/carrying into a new digit"
    forest.assign("q1", carrying)
    forest.assign("q2", new_digit)
    forest.assign("q3", "fractions")
    assert forest.instances_of(carrying) == ["q1", "q2"]
    assert forest.instances_of(carrying, recursive=False) == ["q1"]
    assert forest.instances_of("multi-digit addition") == ["q1", "q2"]
    assert forest.instances_of("multi-digit addition", recursive=False) == []
    forest.assign("q1", "fractions")  # an instance belongs to one skill: reassigning moves it
    assert forest.instances_of(carrying) == ["q2"]
    assert forest.instances_of("fractions") == ["q1", "q3"]
    with pytest.raises(KeyError):
        forest.assign("q4", "geometry")
    with pytest.raises(KeyError):
        forest.instances_of("geometry")
