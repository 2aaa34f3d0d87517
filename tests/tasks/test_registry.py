"""load_task and task_families: building tasks by name, with one-line errors for bad configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from teachgraph.errors import ConfigError, DataNotFoundError, UnknownNameError
from teachgraph.tasks import (
    ArithmeticTask,
    GSM8KTask,
    Task,
    TaskConfig,
    TaskFamilyInfo,
    load_task,
    task_families,
    task_family_names,
)
from teachgraph.tasks.gsm8k import ENV_VAR

GSM8K_PRESENT = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "gsm8k").is_dir()


def test_families_registered() -> None:
    assert task_family_names() == ["algorithmic_code", "arithmetic", "easy_vqa", "gsm8k", "humaneval", "shape_scenes"]


@pytest.mark.parametrize(
    "config",
    [
        "arithmetic",
        {"name": "arithmetic"},
        {"name": "arithmetic", "params": {"test_size": 9, "skills": ["gcd", "lcm", "products"]}},
        TaskConfig(name="arithmetic", params={"validation_size": 3}),
    ],
)
def test_load_arithmetic(config: object) -> None:
    task = load_task(config)  # type: ignore[arg-type]
    assert isinstance(task, ArithmeticTask) and isinstance(task, Task)


def test_params_reach_the_task() -> None:
    task = load_task({"name": "arithmetic", "params": {"test_size": 9, "skills": ["gcd", "lcm"]}})
    assert len(task.instances("test")) == 9
    assert [s.name for s in task.gold_skills() or []] == ["arithmetic/gcd", "arithmetic/lcm"]


@pytest.mark.skipif(not GSM8K_PRESENT, reason="GSM8K data not present")
def test_load_gsm8k() -> None:
    task = load_task({"name": "gsm8k", "params": {"test_size": 10, "validation_size": 5}})
    assert isinstance(task, GSM8KTask)
    assert len(task.instances("test")) == 10


def test_unknown_task_lists_known_names() -> None:
    with pytest.raises(UnknownNameError) as err:
        load_task({"name": "mathh"})
    assert err.value.kind == "task" and err.value.name == "mathh"
    assert "arithmetic" in str(err.value) and "gsm8k" in str(err.value)


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"name": "arithmetic", "params": {"bogus": 1}}, "bogus: unknown parameter"),
        ({"name": "arithmetic", "params": {"test_size": "many"}}, "test_size"),
        ({"name": "arithmetic", "params": {"test_size": "60"}}, "test_size"),  # no silent coercion
        ({"name": "arithmetic", "params": {"test_size": 1.5}}, "test_size"),
        ({"name": "arithmetic", "params": {"validation_size": -3}}, "validation_size"),
        ({"name": "arithmetic", "params": {"skills": ["gcd", "calculus"]}}, "calculus"),
        ({"name": "arithmetic", "params": {"skills": "gcd"}}, "skills"),
        ({"name": "gsm8k", "params": {"test_size": -1}}, "test_size"),
        ({"name": "gsm8k", "params": {"data_dir": 5}}, "data_dir"),
        ({"name": "gsm8k", "params": {"skills": ["gcd"]}}, "skills: unknown parameter"),
        ({"name": "arithmetic", "params": [1, 2]}, "params"),
        ({"params": {}}, "name"),
        ({"name": "arithmetic", "extra": 1}, "extra"),
    ],
)
def test_malformed_config_is_a_one_line_config_error(config: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_task(config)
    message = str(err.value)
    assert fragment in message
    assert "\n" not in message


def test_non_mapping_config() -> None:
    with pytest.raises(ConfigError, match="mapping"):
        load_task(42)  # type: ignore[arg-type]


def test_missing_gsm8k_data(tmp_path: Path) -> None:
    missing = tmp_path / "no-gsm8k"
    with pytest.raises(DataNotFoundError) as err:
        load_task({"name": "gsm8k", "params": {"data_dir": str(missing)}})
    assert str(missing) in str(err.value)


def test_task_families_info() -> None:
    infos = {i.name: i for i in task_families()}
    assert set(infos) == {"algorithmic_code", "arithmetic", "easy_vqa", "gsm8k", "humaneval", "shape_scenes"}
    assert infos["humaneval"].split_sizes == {"train": 0, "validation": 0, "test": 164}
    code = infos["algorithmic_code"]
    assert code.split_sizes == {"train": 240, "validation": 48, "test": 120}
    assert code.skills is not None and len(code.skills) == 12
    assert all(s.name.startswith("algorithmic_code/") and s.description for s in code.skills)
    arithmetic = infos["arithmetic"]
    assert isinstance(arithmetic, TaskFamilyInfo)
    assert arithmetic.split_sizes == {"train": 270, "validation": 60, "test": 120}
    assert arithmetic.skills is not None and len(arithmetic.skills) >= 6
    assert all(s.name.startswith("arithmetic/") and s.description for s in arithmetic.skills)
    assert arithmetic.default_params["difficulty"] == "easy"
    gsm8k = infos["gsm8k"]
    assert gsm8k.skills is None
    assert gsm8k.description
    if GSM8K_PRESENT:
        assert gsm8k.split_sizes == {"train": 7373, "validation": 100, "test": 200}
        assert gsm8k.note is None
    # The info is plain JSON for the CLI.
    assert TaskFamilyInfo.model_validate_json(gsm8k.model_dump_json()) == gsm8k


def test_task_families_survives_missing_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "absent"))
    gsm8k = next(i for i in task_families() if i.name == "gsm8k")
    assert gsm8k.split_sizes == {"train": None, "validation": None, "test": None}
    assert gsm8k.note is not None and str(tmp_path / "absent") in gsm8k.note
