"""Every suite of the strategies benchmark loads with each of its presets, and each of its
strategies is a valid run config (a suite that a run refuses would fail hours into a comparison)."""

from __future__ import annotations

import pytest

from benchmarks.strategies import CONFIGS, SUITE_STRATEGIES, strategy_config
from teachgraph.config import load_config, parse_config


@pytest.mark.parametrize("suite", sorted(CONFIGS))
@pytest.mark.parametrize("preset", [None, "quick", "scripted"])
def test_suite_strategies_are_valid_configs(suite: str, preset: str | None) -> None:
    base = load_config(CONFIGS[suite], preset=preset if preset in _presets(suite) else None)
    for name in SUITE_STRATEGIES[suite]:
        config = strategy_config(base, name)
        again = parse_config(config.model_dump(mode="json", exclude={"presets"}), source=f"{suite}/{name}")
        assert again.teacher == config.teacher and again.task == config.task


def test_the_vqa_suite_teaches_the_vision_student_with_scene_generators() -> None:
    config = strategy_config(load_config(CONFIGS["vqa"]), "skill_tree_no_state")
    assert config.student.kind == "vision" and config.teacher.engine == "programs"
    assert not config.teacher.with_state and config.task.name == "shape_scenes"


def _presets(suite: str) -> set[str]:
    import yaml

    return set((yaml.safe_load(CONFIGS[suite].read_text()) or {}).get("presets", {}))
