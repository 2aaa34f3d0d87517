"""Diffs between forests and between snapshots."""

from __future__ import annotations

from hypothesis import given, settings

from teachgraph.skills import ForestDiff, SkillForest, diff_snapshots
from tests.skills.examples import example_forest
from tests.skills.strategies import forests

CARRYING = "multi-digit addition/carrying across columns"


@settings(max_examples=40, deadline=None)
@given(forests())
def test_copies_have_empty_diffs(forest: SkillForest) -> None:
    diff = forest.diff(forest.copy())
    assert diff.is_empty()
    assert diff == ForestDiff()
    assert diff.summary() == "no changes"


def test_added_and_removed_in_iteration_order() -> None:
    before = example_forest()
    after = before.copy()
    after.remove(CARRYING)
    new = after.add_skill("borrowing", quota=4, description="subtraction across zeros")
    deeper = after.add_skill("across zeros", parent=new)
    diff = before.diff(after)
    assert diff.added == [new, deeper]
    assert diff.removed == [CARRYING, *before.children(CARRYING)]
    assert diff.added_attributes == {new: {"description": "subtraction across zeros", "quota": 4}}
    assert diff.changed == {}
    assert after.diff(before).added == diff.removed  # reversed roles


def test_changed_attributes_hold_before_and_after() -> None:
    before = example_forest()
    after = before.copy()
    after.set_quota("fractions", 4)
    after.set_quota("fractions/mixed numbers", 0)  # a quota move
    after.update("fractions", description="parts", policy={"value": 0.25})
    after.record_generated("fractions/mixed numbers", 3)
    diff = before.diff(after)
    assert diff.added == diff.removed == []
    assert diff.changed == {
        "fractions": {
            "description": ("", "parts"),
            "quota": (0, 4),
            "policy": ({}, {"value": 0.25}),
        },
        # generated_last stayed 3 (3 -> 3), so only the fields that differ are listed.
        "fractions/mixed numbers": {"quota": (3, 0), "generated_total": (3, 6)},
    }
    assert diff.summary().splitlines() == [
        "~ fractions: description '' -> 'parts'",
        "~ fractions: quota 0 -> 4",
        "~ fractions: policy value none -> 0.25",
        "~ fractions/mixed numbers: quota 3 -> 0",
        "~ fractions/mixed numbers: generated_total 3 -> 6",
    ]


def test_accuracy_history_changes_read_well() -> None:
    before = example_forest()
    after = before.copy()
    after.record_accuracy("fractions", iteration=4, split="validation", value=0.5, n=20)
    after.record_accuracy("fractions", iteration=3, split="validation", value=0.45, n=20)
    diff = before.diff(after)
    assert list(diff.changed) == ["fractions"]
    old, new = diff.changed["fractions"]["accuracy_history"]
    assert len(old) == 2 and len(new) == 3
    assert diff.summary().splitlines() == [
        "~ fractions: validation accuracy @ iteration 3 0.42 -> 0.45 (n=20)",
        "~ fractions: validation accuracy @ iteration 4 = 0.5 (n=20)",
    ]


def test_summary_lists_additions_removals_and_assignments() -> None:
    before = example_forest()
    after = before.copy()
    added = after.add_skill("carrying with decimals", parent=CARRYING, quota=4, iteration=4)
    after.remove("fractions/mixed numbers")
    after.set_quota("multi-digit addition", 4)
    after.assign("new-1", added)
    moved = next(iter(after.assignments))
    after.assign(moved, "fractions")
    diff = before.diff(after)
    assert diff.assignments[moved] == (before.assignments[moved], "fractions")
    assert diff.summary().splitlines() == [
        f"+ {added} (quota 4)",
        "- fractions/mixed numbers",
        "~ multi-digit addition: quota 0 -> 4",
        "assignments: 1 assigned, 1 moved, 1 unassigned",
    ]


def test_diff_json_round_trip_and_snapshots() -> None:
    before = example_forest()
    after = before.copy()
    after.set_quota("fractions", 2)
    after.add_skill("geometry", quota=1)
    diff = diff_snapshots(before.snapshot(3), after.snapshot(4))
    assert diff == before.diff(after)
    assert ForestDiff.model_validate_json(diff.model_dump_json()) == diff
    assert not diff.is_empty()


def test_diff_does_not_alias_the_forests() -> None:
    before = example_forest()
    after = before.copy()
    after.record_accuracy("fractions", iteration=9, split="test", value=0.1, n=1)
    diff = before.diff(after)
    diff.changed["fractions"]["accuracy_history"][1].clear()
    assert len(after.node("fractions").accuracy_history) == 3


def test_summary_counts_bookkeeping_instead_of_listing_it() -> None:
    before = example_forest()
    after = before.copy()
    after.update("fractions", policy={"value": 0.25, "pulls": 1.0, "updated_at": 1.0})
    after.update("fractions/mixed numbers", policy={"pulls": 2.0, "updated_at": 1.0})
    summary = before.diff(after).summary()
    assert summary.splitlines() == [
        "~ fractions: policy value none -> 0.25",
        "(4 bookkeeping change(s) not listed: policy pulls ×2, policy updated_at ×2)",
    ]
    full = before.diff(after).summary(bookkeeping=True)
    assert "~ fractions: policy updated_at none -> 1" in full and "not listed" not in full
