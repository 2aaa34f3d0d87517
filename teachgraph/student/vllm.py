"""vLLM evaluation on a GPU (one engine, one ``LoRARequest`` per adapter); HF training.

``vllm`` is imported only when the first prediction is made, so this module can be imported
(and the student built) on a machine without it. vLLM cannot train, so :meth:`train` runs the
same child-process LoRA trainer as :class:`~teachgraph.student.hf.HFStudent`; the adapters it
writes are standard peft directories that vLLM loads directly.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from teachgraph.errors import MissingDependencyError, StudentError
from teachgraph.student.base import TrainingPair, TrainResult
from teachgraph.student.config import StudentConfig
from teachgraph.student.hf import check_adapter_dir
from teachgraph.student.training import train_in_child
from teachgraph.student.weights import resolve_base_dir


def import_vllm() -> Any:
    """``vllm``, or the clear MissingDependencyError telling how to install it."""
    try:
        import vllm
    except ImportError as err:
        raise MissingDependencyError("vLLM evaluation", "vllm", "gpu") from err
    return vllm


class VLLMStudent:
    """Greedy generation with vLLM; adapters are served per request with ``LoRARequest``.

    Prompts are rendered with the Hugging Face tokenizer's chat template (the same function
    the trainer uses), not with vLLM's chat API, so training and evaluation see identical text.
    """

    def __init__(self, config: StudentConfig) -> None:
        self.config = config
        self.name = f"vllm:{config.model}"
        self._base_dir: Path | None = None
        self._llm: Any = None
        self._tokenizer: Any = None
        self._lora: Any = None  # LoRARequest for the current adapter, None: base model
        self._adapter: Path | None = None
        # vLLM caches adapters by integer id: a retrained adapter in a reused directory needs a
        # fresh id or the stale weights would be served.
        self._lora_ids = itertools.count(1)

    @property
    def base_dir(self) -> Path:
        """The base checkpoint directory (converted/built on first access)."""
        if self._base_dir is None:
            self._base_dir = resolve_base_dir(self.config)
        return self._base_dir

    def _engine(self) -> Any:
        if self._llm is not None:
            return self._llm
        vllm = import_vllm()  # before any conversion work: fail fast where vLLM is missing
        import torch
        from transformers import AutoTokenizer

        if not torch.cuda.is_available():
            raise StudentError("vLLM evaluation needs a CUDA GPU; on CPU use student kind: hf")
        self._tokenizer = AutoTokenizer.from_pretrained(str(self.base_dir), local_files_only=True)
        self._llm = vllm.LLM(
            model=str(self.base_dir),
            tokenizer=str(self.base_dir),
            enable_lora=True,
            max_lora_rank=max(8, self.config.lora_r),
            max_loras=1,
            seed=self.config.seed,
            dtype=self.config.vllm_dtype,
            gpu_memory_utilization=self.config.vllm_gpu_memory_utilization,
        )
        if self._adapter is not None:
            self._lora = self._request(self._adapter)
        return self._llm

    def _request(self, adapter_dir: Path) -> Any:
        from vllm.lora.request import LoRARequest

        lora_id = next(self._lora_ids)
        return LoRARequest(f"adapter{lora_id}", lora_id, str(adapter_dir))

    def load_adapter(self, adapter_dir: Path | None) -> None:
        """Serve this peft adapter with later predictions; ``None``: the base model."""
        self._adapter = None if adapter_dir is None else check_adapter_dir(adapter_dir)
        if self._llm is not None:
            self._lora = None if self._adapter is None else self._request(self._adapter)

    def predict(self, prompts: list[str]) -> list[str]:
        """Greedy answers for ``prompts``, in order (vLLM batches internally)."""
        if not prompts:
            return []
        llm = self._engine()
        from vllm import SamplingParams

        from teachgraph.student.chat import render_prompt

        texts = [render_prompt(self._tokenizer, p) for p in prompts]
        params = SamplingParams(temperature=0.0, max_tokens=self.config.max_new_tokens, seed=self.config.seed)
        outputs = llm.generate(texts, params, lora_request=self._lora, use_tqdm=False)
        return [out.outputs[0].text.strip() for out in outputs]

    def train(self, pairs: list[TrainingPair], output_dir: Path, init_adapter: Path | None = None) -> TrainResult:
        """Train a LoRA with the HF child-process trainer (vLLM cannot train)."""
        return train_in_child(self.config, self.base_dir, pairs, output_dir, init_adapter)
