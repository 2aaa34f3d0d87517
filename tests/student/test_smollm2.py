"""The real student: SmolLM2-135M-Instruct, offline, one LoRA step, adapter reload."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from teachgraph.student import HFStudent, StudentConfig, TrainingPair, build_student
from teachgraph.student._env import quiet_peft

ARITHMETIC = [
    ("What is 2 + 3?", "5"),
    ("What is 7 + 8?", "15"),
    ("What is 12 - 5?", "7"),
    ("What is 6 * 4?", "24"),
    ("What is 45 + 38?", "83"),
    ("What is 100 - 37?", "63"),
    ("What is 9 * 9?", "81"),
    ("What is 56 / 8?", "7"),
]


@pytest.mark.slow
def test_smollm2_offline_predict_train_reload(student_cache: Path, tmp_path: Path) -> None:
    config = StudentConfig(cache_dir=student_cache, max_steps=1, max_new_tokens=16)
    student = build_student(config)
    assert isinstance(student, HFStudent)

    answers = student.predict([q for q, _ in ARITHMETIC])
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert len(answers) == len(ARITHMETIC)
    assert all(isinstance(a, str) and a for a in answers), answers

    pairs = [TrainingPair(prompt=q, target=f"The answer is {a}.") for q, a in ARITHMETIC]
    result = student.train(pairs, tmp_path / "adapter")
    assert result.steps == 1
    assert result.examples == 8
    assert result.final_loss is not None and result.final_loss > 0
    assert (result.adapter_dir / "adapter_config.json").is_file()
    assert (result.adapter_dir / "adapter_model.safetensors").is_file()

    # The saved adapter is a standard peft adapter for the converted base.
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(student.base_dir), dtype=torch.float32, local_files_only=True)
    with quiet_peft():
        model = PeftModel.from_pretrained(base, str(result.adapter_dir))
    lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert len(lora_b) == 30 * 7  # every linear layer of the 30 blocks
    # LoRA's B starts at zero; one optimizer step must have moved it.
    assert any(p.abs().sum() > 0 for p in lora_b)

    # And the student itself swaps it in without reloading the base.
    base_model = student._base
    student.load_adapter(result.adapter_dir)
    assert student._base is base_model
    assert len(student.predict([q for q, _ in ARITHMETIC[:2]])) == 2

    # The fast decoder (the default) answers exactly as transformers' generate() does.
    reference = build_student(config.model_copy(update={"generation": "hf-generate"}))
    reference.load_adapter(result.adapter_dir)
    questions = [q for q, _ in ARITHMETIC]
    assert student.predict(questions) == reference.predict(questions)
