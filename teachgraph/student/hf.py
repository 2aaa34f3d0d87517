"""The transformers + peft student (CPU or GPU): greedy batched generation, LoRA training."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

from teachgraph.errors import StudentError
from teachgraph.student import _env  # first: offline/OpenMP env before transformers
from teachgraph.student.base import TrainingPair, TrainResult
from teachgraph.student.chat import end_of_turn_id, render_prompt
from teachgraph.student.config import StudentConfig
from teachgraph.student.training import train_in_child
from teachgraph.student.weights import resolve_base_dir

logger = logging.getLogger(__name__)


def check_adapter_dir(adapter_dir: Path) -> Path:
    """``adapter_dir`` resolved, or a StudentError if it holds no peft adapter."""
    path = Path(adapter_dir).expanduser().resolve()
    if not (path / "adapter_config.json").is_file():
        raise StudentError(
            f"{path} is not a peft adapter directory (no adapter_config.json); "
            "pass the output_dir of a successful train() call"
        )
    return path


class HFStudent:
    """A causal LM run with transformers; adapters are peft LoRA directories.

    The base model and tokenizer are loaded once, on first use, and kept for the life of the
    object. Adapters are swapped inside one ``PeftModel`` wrapper (load the new one, drop the
    old one), so switching adapters reads only the few-MB adapter file, never the base again.
    Training never happens in this process: see :mod:`teachgraph.student.training`.
    """

    def __init__(self, config: StudentConfig) -> None:
        self.config = config
        self.name = f"hf:{config.model}"
        self._base_dir: Path | None = None
        self._tokenizer: Any = None
        self._base: Any = None  # the plain transformers model
        self._peft: Any = None  # PeftModel wrapping self._base once any adapter was loaded
        self._active: str | None = None  # adapter name inside self._peft, None: base model
        self._wanted: Path | None = None  # adapter to apply once the base is loaded
        self._names = itertools.count()
        self._device: str = "cpu"

    @property
    def base_dir(self) -> Path:
        """The base checkpoint directory (converted/built on first access)."""
        if self._base_dir is None:
            self._base_dir = resolve_base_dir(self.config)
        return self._base_dir

    @property
    def adapter(self) -> Path | None:
        """The adapter currently used for predictions (``None``: the base model)."""
        return self._wanted

    @property
    def tokenizer(self) -> Any:
        """The base model's tokenizer (loads the base model on first access)."""
        self._ensure_loaded()
        return self._tokenizer

    def _ensure_loaded(self) -> None:
        if self._base is not None:
            return
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = self.config.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self._device = device
        if device == "cpu" and _env.OMP_POLICY_TOO_LATE and torch.get_num_threads() > 1:
            logger.warning(
                "torch was imported before teachgraph.student with OMP_WAIT_POLICY unset; "
                "generation can be 10-20x slower while other processes use the CPU. Set "
                "OMP_WAIT_POLICY=PASSIVE in the environment or import teachgraph.student first."
            )
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(self.base_dir), local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(str(self.base_dir), dtype=torch.float32, local_files_only=True)
        except (OSError, ValueError) as err:
            raise StudentError(f"cannot load the student from {self.base_dir}: {err}") from err
        # Left padding: generation appends to the right end of every row, so all rows must end
        # at the same position.
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self._tokenizer = tokenizer
        self._base = model.to(device).eval()
        if self._wanted is not None:
            self._activate(self._wanted)

    def load_adapter(self, adapter_dir: Path | None) -> None:
        """Use this peft adapter for later predictions; ``None`` goes back to the base model."""
        wanted = None if adapter_dir is None else check_adapter_dir(adapter_dir)
        if self._base is not None:
            if wanted is None:
                self._active = None  # the wrapper stays; predictions run with adapters disabled
            else:
                self._activate(wanted)  # on failure the previous adapter stays in use
        self._wanted = wanted  # (before the base is loaded: applied when it is)

    def _activate(self, adapter_dir: Path) -> None:
        from peft import PeftModel

        name = f"adapter{next(self._names)}"
        previous = self._active
        try:
            with _env.quiet_peft():
                if self._peft is None:
                    self._peft = PeftModel.from_pretrained(
                        self._base, str(adapter_dir), adapter_name=name, is_trainable=False
                    )
                else:
                    self._peft.load_adapter(str(adapter_dir), adapter_name=name, is_trainable=False)
                    self._peft.set_adapter(name)
        except (OSError, ValueError, RuntimeError, KeyError) as err:
            if self._peft is not None and name in self._peft.peft_config:
                self._peft.delete_adapter(name)  # drop the half-loaded one
            raise StudentError(
                f"cannot load adapter {adapter_dir} onto {self.base_dir}: {err} (was it trained on this base model?)"
            ) from err
        self._peft.eval()
        self._active = name
        # Keep one adapter resident: each round's adapter is a few MB, but there are many rounds.
        if previous is not None and previous in self._peft.peft_config:
            self._peft.delete_adapter(previous)
        for stale in [n for n in self._peft.peft_config if n != name]:
            self._peft.delete_adapter(stale)

    def predict(self, prompts: list[str]) -> list[str]:
        """Greedy answers for ``prompts`` (user messages), in order.

        ``config.generation`` picks the decoder: ``"fast"`` (default) is
        :func:`teachgraph.student.generation.greedy_generate` (shared prompt prefix run once,
        output layer on the last position only, finished rows dropped); ``"hf-generate"`` is
        transformers' ``generate`` on length-sorted batches, the reference the fast path is
        tested against. Both are greedy and deterministic.
        """
        if not prompts:
            return []
        self._ensure_loaded()
        tokenizer = self._tokenizer
        ids = [tokenizer(render_prompt(tokenizer, p), add_special_tokens=False)["input_ids"] for p in prompts]
        if self.config.generation == "fast":
            from teachgraph.student.generation import greedy_generate

            with self._adapter_context():
                new_tokens = greedy_generate(
                    self._model.get_base_model() if self._peft is not None else self._base,
                    ids,
                    eos_id=end_of_turn_id(tokenizer),
                    pad_id=tokenizer.pad_token_id,
                    max_new_tokens=self.config.max_new_tokens,
                    batch_size=self.config.generation_batch_size,
                )
        else:
            new_tokens = self._generate_hf(ids)
        return [text.strip() for text in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]

    def _generate_hf(self, ids: list[list[int]]) -> list[list[int]]:
        """New token ids per prompt from ``model.generate`` on length-sorted, left-padded batches."""
        import torch

        tokenizer = self._tokenizer
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out: list[list[int]] = [[] for _ in ids]
        batch_size = self.config.generation_batch_size
        torch.manual_seed(self.config.seed)
        for first in range(0, len(order), batch_size):
            rows = order[first : first + batch_size]
            enc = tokenizer.pad({"input_ids": [ids[i] for i in rows]}, return_tensors="pt").to(self._device)
            with torch.inference_mode(), self._adapter_context():
                generated = self._model.generate(
                    **enc,
                    max_new_tokens=self.config.max_new_tokens,
                    do_sample=False,
                    eos_token_id=end_of_turn_id(tokenizer),
                    pad_token_id=tokenizer.pad_token_id,
                )
            for i, row in zip(rows, generated[:, enc["input_ids"].shape[1] :].tolist(), strict=True):
                out[i] = row
        return out

    @property
    def _model(self) -> Any:
        return self._peft if self._peft is not None else self._base

    def _adapter_context(self) -> Any:
        import contextlib

        if self._peft is not None and self._active is None:
            return self._peft.disable_adapter()
        return contextlib.nullcontext()

    def train(self, pairs: list[TrainingPair], output_dir: Path, init_adapter: Path | None = None) -> TrainResult:
        """Train a LoRA in a child process and save it under ``output_dir`` (peft format).

        In ``continue`` mode training starts from ``init_adapter`` (if given); in ``retrain``
        mode it is ignored and a fresh LoRA is trained from the base. Does not change the
        adapter used by ``predict``: call :meth:`load_adapter` with ``result.adapter_dir``.

        Raises:
            StudentError: bad input, or the child crashed/timed out (a
                :class:`~teachgraph.student.training.StudentTrainingError` with the log tail).
        """
        return train_in_child(self.config, self.base_dir, pairs, output_dir, init_adapter)
