"""The strategies benchmark's records: built from a run's files, compared, and written as tables.

Uses a real (scripted, tiny-student) episode's run directory shape through synthetic events, so
the phase arithmetic and the paired comparisons are checked without running a model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.strategies import STRATEGIES, config_digest, strategy_config
from benchmarks.strategies_report import comparisons, write
from benchmarks.strategy_records import evaluation_entry, phase_seconds, totals
from teachgraph.config import load_config
from teachgraph.tracing.events import TraceEvent

ROOT = Path(__file__).resolve().parents[2]


def _event(ts: float, iteration: int, node: str, kind: str, **data: object) -> TraceEvent:
    return TraceEvent(ts=ts, iteration=iteration, node=node, kind=kind, data=data)


def test_phases_split_a_round_and_count_overlapping_calls_once() -> None:
    events = [
        _event(100, 0, "record", "iteration"),
        _event(110, 0, "error_analysis", "llm_call", latency_s=10),
        _event(130, 0, "data_writing", "llm_call", latency_s=15),  # 115-130
        _event(135, 0, "data_writing", "llm_call", latency_s=15),  # 120-135: overlaps the last
        _event(200, 0, "train", "training", seconds=50),
        _event(220, 1, "evaluate", "evaluation", seconds=12),
        _event(230, 1, "evaluate", "evaluation", seconds=8),
        _event(230, 1, "record", "iteration"),
    ]
    (phases,) = phase_seconds(events).values()
    assert phases == {
        "teacher_llm": 30.0,  # 100-110 and 115-135
        "drawing_and_validation": 130 - 30 - 50 - 20,
        "training": 50.0,
        "evaluation": 20.0,
        "wall": 130.0,
    }


def test_test_entry_refuses_outcomes_of_another_split() -> None:
    entry = evaluation_entry("1100", ["a", "a", "b", "b"])
    assert entry["accuracy"] == 0.5 and entry["per_skill"]["a"]["accuracy"] == 1.0
    with pytest.raises(ValueError, match="another task config"):
        evaluation_entry("110", ["a", "a", "b", "b"])


def _record(name: str, outcomes: list[str], skills: list[str]) -> dict:
    its = [
        {
            "iteration": k,
            "test": evaluation_entry(o, skills),
            "validation": {"accuracy": 0, "n": 0},
            "written": 160 * (k > 0),
            "validated": 160 * (k > 0),
            "rejected": {},
            "teacher_input_tokens": 0,
            "teacher_output_tokens": 500 * (k > 0),
            "llm_calls": 3 * (k > 0),
            "seconds": None,
        }
        for k, o in enumerate(outcomes)
    ]
    return {
        "strategy": name,
        "finished": True,
        "engine": "programs" if name.startswith("skill") else None,
        "iterations": its,
        "totals": totals(its, {}),
        "commit": "abc1234",
    }


def test_comparisons_pair_each_strategy_with_its_baselines(tmp_path: Path) -> None:
    skills = ["gcd"] * 200 + ["lcm"] * 200
    base = "0" * 300 + "1" * 100
    gain = "1" * 80 + "0" * 220 + "1" * 100  # +80 items
    records = {
        "no_training": _record("no_training", [base], skills),
        "random_data": _record("random_data", [base, base], skills),
        "skill_tree_alternating": _record("skill_tree_alternating", [base, gain], skills),
        "skill_tree_no_state": _record("skill_tree_no_state", [base, base], skills),
    }
    tests = comparisons(records)
    row = tests["skill_tree_alternating"]
    assert row["vs_untrained"]["difference"] == pytest.approx(0.2) and row["vs_untrained"]["p_value"] < 1e-10
    assert row["vs_no_state"]["against"] == "skill_tree_no_state" and row["vs_random"]["treatment_only"] == 80
    assert "vs_no_state" not in tests["random_data"]
    payload = {"suite": "test", "command": "c", "machine": "m", "records_dir": "r", "setup": "s", "strategies": records}
    text = write(payload, tmp_path, "strategies-test")
    assert "| ≥ +10 pts over untrained, interval excluding 0 | skill_tree_alternating | +20.0" in text
    assert "| met |" in text and (tmp_path / "strategies-test.png").stat().st_size > 0
    saved = json.loads((tmp_path / "strategies-test.json").read_text())
    assert saved["comparisons"]["skill_tree_alternating"]["vs_untrained"]["baseline_only"] == 0


def test_a_record_is_reused_only_for_the_same_config() -> None:
    base = load_config(ROOT / "benchmarks" / "strategies.yaml")
    digests = {name: config_digest(strategy_config(base, name)) for name in STRATEGIES}
    assert len(set(digests.values())) >= len(STRATEGIES) - 2  # no_training/random_data share the base teacher
    assert digests["skill_tree_llm"] == config_digest(strategy_config(base, "skill_tree_llm"))
    direct = strategy_config(base, "skill_tree_direct").teacher
    assert direct.engine == "examples" and direct.examples_per_iteration < base.teacher.examples_per_iteration


def test_a_record_matches_by_the_config_and_task_items_it_carries() -> None:
    from benchmarks.strategies import record_matches, task_digest
    from teachgraph.tasks import load_task

    config = strategy_config(load_config(ROOT / "benchmarks" / "strategies.yaml"), "skill_tree_llm")
    small = load_task({"name": "arithmetic", "params": {"train_size": 8, "validation_size": 4, "test_size": 8}})
    items = task_digest(small)
    record = {"config": config.model_dump(mode="json", exclude={"presets"}), "task_digest": items}
    assert record_matches(record, config, items)
    record["config"]["teacher"]["validation"]["new_option_with_a_default"] = 1  # a later commit's option
    assert not record_matches(record, config, items)  # unknown to this commit: not the same config
    del record["config"]["teacher"]["validation"]["new_option_with_a_default"]
    record["config"]["loop"]["iterations"] = 5
    assert not record_matches(record, config, items)
    assert not record_matches({}, config, items)
    # Same config, other items or labels (a relabelled test answer): not comparable.
    record["config"]["loop"]["iterations"] = config.loop.iterations
    other = load_task({"name": "arithmetic", "params": {"train_size": 8, "validation_size": 4, "test_size": 8, "seed": 1}})
    assert task_digest(other) != items and not record_matches(record, config, task_digest(other))
    assert not record_matches({k: v for k, v in record.items() if k != "task_digest"}, config, items)


def test_a_run_directory_of_another_config_does_not_stand_in(tmp_path: Path) -> None:
    """A finished run directory of an older config (say 48 validation items, not 160) is run again."""
    from benchmarks.strategies import _same_run_config
    from teachgraph.providers import ModelRouter
    from teachgraph.runner import resolved_config
    from teachgraph.tracing.rundir import RunDir

    config = strategy_config(load_config(ROOT / "benchmarks" / "strategies.yaml"), "skill_tree_alternating")
    run_dir = RunDir(tmp_path / "run")
    run_dir.root.mkdir()
    run_dir.write_config(resolved_config(config, ModelRouter(config.teacher.models), "isolated"))
    assert _same_run_config(run_dir, config)
    task = config.task.model_copy(update={"params": {**config.task.params, "validation_size": 48}})
    assert not _same_run_config(run_dir, config.model_copy(update={"task": task}))
    run_dir.config_path.write_text("teacher: [broken")
    assert not _same_run_config(run_dir, config)
