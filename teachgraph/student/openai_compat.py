"""Evaluation-only student behind an OpenAI-compatible chat endpoint (vLLM, llama.cpp, ...)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from teachgraph.errors import StudentError
from teachgraph.student.base import TrainingPair, TrainResult
from teachgraph.student.config import StudentConfig


class OpenAICompatibleStudent:
    """Asks ``config.served_model`` at ``config.base_url``; one chat request per prompt.

    Requests run on a small thread pool (``request_concurrency``) so a batching server sees
    several at once. Decoding is greedy (temperature 0, fixed seed where the server honours it).
    Such a student cannot be trained or given adapters from here: serve the adapter under its
    own model name and point ``served_model`` at it.
    """

    def __init__(self, config: StudentConfig) -> None:
        if not config.base_url or not config.served_model:
            raise StudentError("an openai-compatible student needs base_url and served_model")
        self.config = config
        self.name = f"openai-compatible:{config.served_model}"
        self._client: Any = None

    def _get_client(self) -> Any:
        if self._client is None:
            from openai import OpenAI

            # Local servers accept any key; the client library refuses an empty one.
            api_key = os.environ.get(self.config.api_key_env) or "not-needed"
            self._client = OpenAI(
                base_url=self.config.base_url,
                api_key=api_key,
                timeout=self.config.request_timeout_s,
                max_retries=2,
            )
        return self._client

    def _ask(self, prompt: str) -> str:
        from openai import OpenAIError

        try:
            response = self._get_client().chat.completions.create(
                model=self.config.served_model,
                messages=[{"role": "user", "content": prompt}],
                temperature=0.0,
                # Sent as `max_tokens` (not `max_completion_tokens`, which llama.cpp's server
                # silently ignores, generating up to the context size).
                max_tokens=self.config.max_new_tokens,
                seed=self.config.seed,
            )
        except OpenAIError as err:
            raise StudentError(
                f"the student endpoint {self.config.base_url} failed for model {self.config.served_model!r}: {err}"
            ) from err
        content = response.choices[0].message.content if response.choices else None
        return (content or "").strip()

    def predict(self, prompts: list[str]) -> list[str]:
        """Greedy answers for ``prompts``, in order."""
        if not prompts:
            return []
        with ThreadPoolExecutor(max_workers=self.config.request_concurrency) as pool:
            return list(pool.map(self._ask, prompts))

    def train(self, pairs: list[TrainingPair], output_dir: Path, init_adapter: Path | None = None) -> TrainResult:
        """Always raises: an endpoint cannot be fine-tuned from here."""
        raise StudentError(
            f"the openai-compatible student {self.config.served_model!r} cannot be trained; "
            "use kind: hf (or kind: vllm on a GPU) to train LoRA adapters"
        )

    def load_adapter(self, adapter_dir: Path | None) -> None:
        """Accepts only ``None`` (the served model as is)."""
        if adapter_dir is not None:
            raise StudentError(
                f"the openai-compatible student cannot load adapter {adapter_dir}; serve it "
                "under its own model name (e.g. vllm serve --lora-modules) and set served_model"
            )
