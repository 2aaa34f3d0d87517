"""The Student protocol: predict, train on (prompt, target) pairs, save and load adapters."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel


class TrainingPair(BaseModel):
    """One supervised pair: the user prompt (already rendered by the task) and the target."""

    prompt: str
    target: str


class TrainResult(BaseModel):
    """What a training call produced."""

    adapter_dir: Path
    steps: int
    examples: int
    train_tokens: int
    seconds: float
    final_loss: float | None = None


@runtime_checkable
class Student(Protocol):
    """A model the teacher improves.

    ``prompts`` are user messages; the student applies its own chat template.
    """

    name: str

    def predict(self, prompts: list[str]) -> list[str]:
        """Greedy answers for a batch of user prompts, in order."""
        ...

    def train(self, pairs: list[TrainingPair], output_dir: Path, init_adapter: Path | None = None) -> TrainResult:
        """Fine-tune on ``pairs`` and save the adapter (peft format) under ``output_dir``.

        ``init_adapter`` is the previous round's adapter. A student configured to continue
        training starts from it (the caller then passes only the new pairs); a student
        configured to retrain from the base ignores it (the caller passes all pairs so far).
        """
        ...

    def load_adapter(self, adapter_dir: Path | None) -> None:
        """Use this adapter for later predictions (``None``: the base model)."""
        ...
