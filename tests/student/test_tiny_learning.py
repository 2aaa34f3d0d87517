"""The student machinery end to end on a from-scratch tiny Llama: accuracy must rise."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from teachgraph.student import HFStudent, StudentConfig, TrainingPair, TrainResult, build_student

TARGET = "Answer: blue"
EPOCH_STEPS = 5  # 40 pairs / batch 8


def secret_word_prompt(n: int) -> str:
    """A prompt whose correct answer is always TARGET (a trivially learnable skill)."""
    return f"What is the secret word for {n}?"


TRAIN = [TrainingPair(prompt=secret_word_prompt(n), target=TARGET) for n in range(40)]
HELD_OUT = [secret_word_prompt(n) for n in range(100, 116)]  # numbers never trained on


def accuracy(student: HFStudent, prompts: list[str]) -> float:
    """Exact-match accuracy of the student's greedy answers against TARGET."""
    return sum(answer == TARGET for answer in student.predict(prompts)) / len(prompts)


def record(result: TrainResult) -> dict[str, Any]:
    """The trainer's full result file (losses, timings) next to the adapter."""
    return json.loads((result.adapter_dir / "train_result.json").read_text())


@dataclass
class Learned:
    student: HFStudent
    before: float
    after: float
    base_again: float
    adapter_again: float
    result: TrainResult


@pytest.fixture(scope="module")
def learned(tiny_config: StudentConfig, tmp_path_factory: pytest.TempPathFactory) -> Learned:
    """Accuracy before training, after training, and with the adapter removed again."""
    student = build_student(tiny_config)
    assert isinstance(student, HFStudent)
    before = accuracy(student, HELD_OUT)
    result = student.train(TRAIN, tmp_path_factory.mktemp("tiny") / "adapter")
    student.load_adapter(result.adapter_dir)
    after = accuracy(student, HELD_OUT)
    student.load_adapter(None)  # back to the base, without reloading it
    base_again = accuracy(student, HELD_OUT[:4])
    student.load_adapter(result.adapter_dir)  # and back to the adapter
    adapter_again = accuracy(student, HELD_OUT)
    return Learned(student, before, after, base_again, adapter_again, result)


def test_tiny_student_learns_secret_word(learned: Learned, tiny_config: StudentConfig) -> None:
    assert learned.before == 0.0
    assert learned.after >= 0.8, f"accuracy {learned.before} -> {learned.after}"
    assert learned.base_again == 0.0  # the skill lives in the adapter only
    assert learned.adapter_again == learned.after

    result = learned.result
    assert result.steps == tiny_config.epochs * EPOCH_STEPS
    assert result.examples == len(TRAIN)
    assert result.train_tokens > 0
    assert result.final_loss is not None and result.final_loss < 0.5
    assert (result.adapter_dir / "adapter_config.json").is_file()
    assert (result.adapter_dir / "adapter_model.safetensors").is_file()
    losses = record(result)["losses"]
    assert losses[0] > 5 * losses[-1]


def test_continue_and_retrain_modes(learned: Learned, tiny_config: StudentConfig) -> None:
    """Continue mode trains the given adapter further; retrain mode ignores it."""
    out = learned.result.adapter_dir.parent
    one_step = tiny_config.model_copy(update={"max_steps": 1})
    first_loss = record(learned.result)["losses"][0]

    continued = build_student(one_step.model_copy(update={"mode": "continue"})).train(
        TRAIN, out / "continued", init_adapter=learned.result.adapter_dir
    )
    assert record(continued)["continued_from"] == str(learned.result.adapter_dir)
    assert record(continued)["losses"][0] < 0.5 < first_loss  # it starts where training ended

    fresh = build_student(one_step.model_copy(update={"mode": "retrain"})).train(
        TRAIN, out / "retrained", init_adapter=learned.result.adapter_dir
    )
    assert record(fresh)["continued_from"] is None
    assert record(fresh)["losses"][0] == pytest.approx(first_loss)  # same seed, same fresh start


# Prompts of many lengths (so batches pad differently) and kinds: the trained skill, and
# others where the tiny model's answer is arbitrary text (any decoding slip changes it).
MIXED = [
    *HELD_OUT[:6],
    "What is 2 + 3?",
    "Name a colour.",
    "What is the secret word for 12345678? Please answer in one short line, nothing else.",
    "x",
    "Write the alphabet backwards, then forwards, then the first ten prime numbers.",
    *[f"Count to {n}." for n in range(5)],
]


def test_fast_decoder_answers_like_hf_generate(learned: Learned, tiny_config: StudentConfig) -> None:
    """generation: fast (the default) gives exactly generate()'s answers, adapter on and off."""
    reference = build_student(tiny_config.model_copy(update={"generation": "hf-generate", "generation_batch_size": 4}))
    assert isinstance(reference, HFStudent)
    fast = learned.student
    for adapter in (learned.result.adapter_dir, None):
        fast.load_adapter(adapter)
        reference.load_adapter(adapter)
        answers = fast.predict(MIXED)
        expected = reference.predict(MIXED)
        assert answers == expected
        assert [a == TARGET for a in answers] == [e == TARGET for e in expected]  # same correctness
    fast.load_adapter(learned.result.adapter_dir)
    assert sum(a == TARGET for a in fast.predict(MIXED[:6])) >= 5  # the skill is really there
