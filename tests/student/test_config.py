"""StudentConfig validation, defaults and build_student dispatch (no model is loaded)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from teachgraph.cache import cache_root
from teachgraph.errors import ConfigError
from teachgraph.student import (
    HFStudent,
    Student,
    StudentConfig,
    build_student,
)


def test_defaults() -> None:
    config = StudentConfig()
    assert (config.kind, config.model, config.mode) == ("hf", "smollm2-135m-instruct", "continue")
    assert (config.lora_r, config.lora_alpha, config.lora_dropout) == (8, 16, 0.05)
    assert config.lora_target_modules == "all-linear"
    assert config.max_new_tokens == 32
    assert config.effective_learning_rate == 1e-4
    assert StudentConfig(model="tiny-llama").effective_learning_rate == 3e-3
    assert StudentConfig(learning_rate=5e-4).effective_learning_rate == 5e-4


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError):
        StudentConfig(lora_rank=4)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        StudentConfig(mode="finetune")  # type: ignore[arg-type]


def test_cache_dir_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEACHGRAPH_CACHE", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"
    assert StudentConfig().cache_dir == tmp_path / "c"
    monkeypatch.delenv("TEACHGRAPH_CACHE")
    assert cache_root() == Path.home() / ".cache" / "teachgraph"
    assert StudentConfig(cache_dir=Path("~/x")).cache_dir == Path.home() / "x"


def test_round_trips_through_json() -> None:
    config = StudentConfig(model="tiny-llama", mode="retrain", max_steps=3)
    assert StudentConfig.model_validate_json(config.model_dump_json()) == config


def test_build_student_is_lazy_and_checks_names(tmp_path: Path) -> None:
    student = build_student(StudentConfig(cache_dir=tmp_path / "never-created"))
    assert isinstance(student, HFStudent)
    assert isinstance(student, Student)
    assert student.name == "hf:smollm2-135m-instruct"
    assert not (tmp_path / "never-created").exists()  # nothing converted yet

    with pytest.raises(ConfigError, match="neither a known name"):
        build_student(StudentConfig(model="gpt-17"))

    local = tmp_path / "my-model"
    local.mkdir()
    (local / "config.json").write_text("{}")
    assert build_student(StudentConfig(model=str(local))).name == f"hf:{local}"
