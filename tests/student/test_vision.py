"""The vision student on the tiny random Llama: trains LoRA + projector, saves them together,
reloads them exactly, and batches generation without changing answers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from teachgraph.errors import StudentError
from teachgraph.student import Student, StudentConfig, TrainingPair
from teachgraph.student.vision import FEATURE_DIM, ImageEncoder, VisionOptions, VisionStudent
from teachgraph.tasks.vqa import ShapeScenesTask, image_of, load_image

OPTIONS = VisionOptions(image_size=64, grid=2)


@pytest.fixture(scope="module")
def pairs() -> list[TrainingPair]:
    task = ShapeScenesTask({"test_size": 8, "validation_size": 0, "train_size": 0})
    return [
        TrainingPair(prompt=task.student_prompt(i.prompt), target=task.format_target(i.answer))
        for i in task.instances("test")
    ]


@pytest.fixture(scope="module")
def trained(tiny_config: StudentConfig, pairs: list[TrainingPair], tmp_path_factory: pytest.TempPathFactory) -> Path:
    student = VisionStudent(tiny_config.model_copy(update={"max_steps": 3, "batch_size": 4}), OPTIONS)
    result = student.train(pairs, tmp_path_factory.mktemp("vision") / "adapter")
    assert result.steps == 3 and result.examples == len(pairs) and result.final_loss is not None
    return result.adapter_dir


def test_adapter_and_projector_saved_together(trained: Path) -> None:
    names = {p.name for p in trained.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "projector.json", "projector.safetensors"} <= names


def test_reload_gives_the_same_answers_at_any_batch_size(
    tiny_config: StudentConfig, trained: Path, pairs: list[TrainingPair]
) -> None:
    prompts = [p.prompt for p in pairs[:5]] + ["What is 2 + 2? (no image)"]
    first = VisionStudent(tiny_config, OPTIONS)
    assert isinstance(first, Student)
    first.load_adapter(trained)
    batched = first.predict(prompts)
    one_by_one = VisionStudent(tiny_config.model_copy(update={"generation_batch_size": 1}), OPTIONS)
    one_by_one.load_adapter(trained)
    assert one_by_one.predict(prompts) == batched
    first.load_adapter(None)  # back to the base LM with a fresh projector
    assert first.adapter is None and len(first.predict(prompts[:2])) == 2


def test_bad_adapters_are_refused(tiny_config: StudentConfig, trained: Path, tmp_path: Path) -> None:
    student = VisionStudent(tiny_config, OPTIONS)
    text_only = tmp_path / "text-only"
    shutil.copytree(trained, text_only)
    (text_only / "projector.safetensors").unlink()
    with pytest.raises(StudentError, match="projector"):
        student.load_adapter(text_only)
    with pytest.raises(StudentError, match="adapter"):
        student.load_adapter(tmp_path)
    other_grid = VisionStudent(tiny_config, VisionOptions(image_size=64, grid=3))
    other_grid.load_adapter(trained)
    with pytest.raises(StudentError, match="trained for"):
        other_grid.predict(
            ["<image>" + '{"kind":"easy_vqa","split":"test","id":1}' + "</image>\nwhat shape is present?"]
        )


def test_overlong_pairs_are_an_error(tiny_config: StudentConfig, pairs: list[TrainingPair], tmp_path: Path) -> None:
    student = VisionStudent(tiny_config.model_copy(update={"max_length": 16, "max_steps": 1}), OPTIONS)
    with pytest.raises(StudentError, match="max_length"):
        student.train(pairs[:2], tmp_path / "x")


def test_encoder_features(pairs: list[TrainingPair]) -> None:
    encoder = ImageEncoder(image_size=64, grid=2)
    images = [load_image(image_of(p.prompt)) for p in pairs[:3]]
    features = encoder.encode(images)
    assert tuple(features.shape) == (3, 4, FEATURE_DIM)
    keys = ["a", "b", "a"]
    cached = encoder.encode_cached(keys, {"a": images[0], "b": images[1]}.__getitem__)
    assert (cached[0] == cached[2]).all() and (cached[0] - features[0]).abs().max() < 1e-4
    assert not (features[0] == features[1]).all()


def test_vision_is_a_student_kind(tiny_config: StudentConfig) -> None:
    from teachgraph.student import build_student

    config = tiny_config.model_copy(update={"kind": "vision", "vision": VisionOptions(image_size=96, grid=3)})
    student = build_student(config)
    assert isinstance(student, VisionStudent) and isinstance(student, Student)
    assert student.options == VisionOptions(image_size=96, grid=3) and student.encoder.tokens == 9
    with pytest.raises(ValueError, match="grid"):
        StudentConfig(kind="vision", vision={"grid": 9})
