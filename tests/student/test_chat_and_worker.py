"""Prompt rendering, loss masking, batching and the learning-rate schedule of the trainer."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from teachgraph.student import StudentConfig
from teachgraph.student.chat import IGNORE_INDEX, encode_pair, render_prompt
from teachgraph.student.train_worker import collate, lr_factor
from teachgraph.student.weights import ensure_smollm2_tokenizer


@pytest.fixture(scope="module")
def tokenizer(tiny_config: StudentConfig) -> Any:
    from transformers import AutoTokenizer

    path: Path = ensure_smollm2_tokenizer(tiny_config.cache_dir)
    return AutoTokenizer.from_pretrained(str(path), local_files_only=True)


def test_render_prompt_is_chatml_with_generation_header(tokenizer: Any) -> None:
    text = render_prompt(tokenizer, "What is 2+3?")
    assert "<|im_start|>user\nWhat is 2+3?<|im_end|>\n" in text
    assert text.endswith("<|im_start|>assistant\n")


def test_encode_pair_masks_the_prompt(tokenizer: Any) -> None:
    pair = encode_pair(tokenizer, "What is 2+3?", "5", max_length=512)
    assert pair is not None
    prompt_ids = tokenizer(render_prompt(tokenizer, "What is 2+3?"), add_special_tokens=False)["input_ids"]
    n = len(prompt_ids)
    # The model sees exactly what generation will feed it, then the target and end-of-turn.
    assert pair.input_ids[:n] == prompt_ids
    assert pair.labels[:n] == [IGNORE_INDEX] * n
    assert tokenizer.decode(pair.labels[n:]) == "5<|im_end|>"
    assert pair.labels[n:] == pair.input_ids[n:]
    assert pair.target_tokens == len(pair.input_ids) - n


def test_encode_pair_truncates_and_drops(tokenizer: Any) -> None:
    full = encode_pair(tokenizer, "q", "a b c d e f", max_length=512)
    assert full is not None
    cut = encode_pair(tokenizer, "q", "a b c d e f", max_length=len(full.input_ids) - 2)
    assert cut is not None and cut.input_ids == full.input_ids[:-2]
    assert encode_pair(tokenizer, "q" * 400, "a", max_length=16) is None


def test_collate_pads_right_and_masks(tokenizer: Any) -> None:
    a = encode_pair(tokenizer, "q", "a", 512)
    b = encode_pair(tokenizer, "q", "a longer answer", 512)
    assert a is not None and b is not None
    batch = collate([a, b], pad_id=0)
    width = len(b.input_ids)
    assert batch["input_ids"].shape == (2, width)
    assert batch["attention_mask"][0].tolist() == [1] * len(a.input_ids) + [0] * (width - len(a.input_ids))
    assert batch["labels"][0, len(a.input_ids) :].tolist() == [IGNORE_INDEX] * (width - len(a.input_ids))


def test_lr_schedule_warms_up_then_decays_but_never_stops() -> None:
    assert lr_factor(0, total=1, warmup=0) == 1.0  # a one-step run trains at full rate
    factors = [lr_factor(s, total=20, warmup=2) for s in range(20)]
    assert factors[0] == pytest.approx(1 / 3) and factors[1] == pytest.approx(2 / 3)
    assert factors[2] == 1.0
    assert all(x > y for x, y in itertools.pairwise(factors[2:]))
    assert factors[-1] > 0
