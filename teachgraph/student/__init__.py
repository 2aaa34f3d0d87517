"""The student: the model the teacher improves.

Public API::

    from teachgraph.student import StudentConfig, build_student, TrainingPair

    student = build_student(StudentConfig(model="smollm2-135m-instruct"))
    student.predict(["What is 2+3?"])
    result = student.train(pairs, Path("runs/x/adapters/round1"))
    student.load_adapter(result.adapter_dir)

Backends (``StudentConfig.kind``): :class:`HFStudent` (transformers + peft, CPU/GPU),
:class:`VLLMStudent` (vLLM evaluation on a GPU, HF training) and
:class:`OpenAICompatibleStudent` (evaluation only). Backends are imported lazily, so importing
this package does not import torch. The vision student (image prompts of the VQA tasks) lives in
:mod:`teachgraph.student.vision` and is built by ``build_student`` for ``kind: vision`` (or directly: ``VisionStudent(config, options)``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# First: the offline / OpenMP environment must be in place before anything imports torch.
from teachgraph.student import _env  # noqa: F401
from teachgraph.student.base import Student, TrainingPair, TrainResult
from teachgraph.student.config import (
    KNOWN_MODELS,
    SMOLLM2,
    TINY_LLAMA,
    StudentConfig,
    VisionOptions,
    build_student,
)
from teachgraph.student.training import StudentTrainingError

if TYPE_CHECKING:
    from teachgraph.student.hf import HFStudent
    from teachgraph.student.openai_compat import OpenAICompatibleStudent
    from teachgraph.student.vllm import VLLMStudent
    from teachgraph.student.weights import (
        ensure_smollm2,
        ensure_tiny_llama,
        resolve_base_dir,
        smollm2_gguf_path,
    )

_LAZY = {
    "HFStudent": "teachgraph.student.hf",
    "VLLMStudent": "teachgraph.student.vllm",
    "OpenAICompatibleStudent": "teachgraph.student.openai_compat",
    "ensure_smollm2": "teachgraph.student.weights",
    "ensure_tiny_llama": "teachgraph.student.weights",
    "resolve_base_dir": "teachgraph.student.weights",
    "smollm2_gguf_path": "teachgraph.student.weights",
}

__all__ = [
    "KNOWN_MODELS",
    "SMOLLM2",
    "TINY_LLAMA",
    "HFStudent",
    "OpenAICompatibleStudent",
    "Student",
    "StudentConfig",
    "StudentTrainingError",
    "TrainResult",
    "TrainingPair",
    "VLLMStudent",
    "VisionOptions",
    "build_student",
    "ensure_smollm2",
    "ensure_tiny_llama",
    "resolve_base_dir",
    "smollm2_gguf_path",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
