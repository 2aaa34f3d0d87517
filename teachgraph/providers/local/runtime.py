"""In-process llama.cpp chat model (``local:NAME``).

``llama_cpp.Llama`` objects are cached per (model file, context size, threads) for the life of
the process: loading the 1.1 GB teacher takes seconds and ~2 GB of RAM, and every graph node
would otherwise load its own copy. A llama.cpp context is not re-entrant, so each cached object
carries a lock and calls are serialised (on 2 cores parallel generation would not be faster
anyway).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import time
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.outputs import ChatResult
from pydantic import Field

from teachgraph.errors import MissingDependencyError
from teachgraph.providers.messages import message_text
from teachgraph.providers.results import chat_result


def require_llama_cpp() -> Any:
    """Import ``llama_cpp`` or raise MissingDependencyError naming the ``local`` extra."""
    try:
        import llama_cpp
    except ImportError:
        raise MissingDependencyError("local models", "llama-cpp-python", "local") from None
    use_plain_cpu_buffers(llama_cpp)
    return llama_cpp


def use_plain_cpu_buffers(llama_cpp: Any) -> None:
    """Make every ``Llama`` load its weights into plain CPU buffers (process-wide, idempotent).

    By default llama.cpp repacks weights into "extra buffer types" for ISA-specific kernels (AMX
    on recent Xeons). Virtual machines may advertise AMX (``amx_tile`` in /proc/cpuinfo, and the
    kernel grants the tile permission) while the tile instructions still raise SIGILL: the first
    decode kills the process (seen on this project's machines with both the Qwen teacher and the
    SmolLM2 GGUF). Plain buffers use the AVX kernels, which work everywhere.
    ``llama-cpp-python`` exposes no argument for it, so its default-parameter factory is wrapped.
    ``TEACHGRAPH_LLAMA_EXTRA_BUFFERS=1`` keeps llama.cpp's default on machines where AMX works.
    """
    if os.environ.get("TEACHGRAPH_LLAMA_EXTRA_BUFFERS", "").strip() == "1":
        return
    low_level = llama_cpp.llama_cpp
    original = low_level.llama_model_default_params
    if getattr(original, "plain_cpu_buffers", False):
        return

    def plain_params() -> Any:
        params = original()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = False
        return params

    plain_params.plain_cpu_buffers = True  # type: ignore[attr-defined]
    low_level.llama_model_default_params = plain_params


def default_threads() -> int:
    """Threads for llama.cpp: ``$TEACHGRAPH_LLAMA_THREADS``, else the CPUs this process may use,
    capped at 8 (more rarely helps).

    The override exists for busy machines: llama.cpp's threads meet at a barrier after every
    operation, so when other processes compete for the cores each barrier can cost a scheduler
    time slice, and one thread beats two by a wide margin (measured on 2 cores at load ~3: a
    20-token call took 1.5 s with one thread, 11 s with two).
    """
    env = os.environ.get("TEACHGRAPH_LLAMA_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(available, 8))


_CacheKey = tuple[str, int, int, int]
_LLAMAS: dict[_CacheKey, tuple[Any, threading.Lock]] = {}
_LLAMAS_LOCK = threading.Lock()


def load_llama(
    model_path: str, *, n_ctx: int, n_threads: int, n_gpu_layers: int = 0, seed: int = 0
) -> tuple[Any, threading.Lock]:
    """The process-wide ``Llama`` for these settings and the lock that guards it."""
    key = (os.path.realpath(model_path), n_ctx, n_threads, n_gpu_layers)
    with _LLAMAS_LOCK:
        cached = _LLAMAS.get(key)
        if cached is None:
            llama_cpp = require_llama_cpp()
            llm = llama_cpp.Llama(
                model_path=model_path,
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_gpu_layers=n_gpu_layers,
                seed=seed,
                verbose=False,
            )
            cached = (llm, threading.Lock())
            _LLAMAS[key] = cached
        return cached


def unload_all() -> None:
    """Drop every cached ``Llama`` (frees their memory once no chat model references them)."""
    with _LLAMAS_LOCK:
        _LLAMAS.clear()


def _close_all() -> None:
    # Close models while the interpreter is intact: llama-cpp-python's __del__ at shutdown
    # otherwise prints "Exception ignored ... 'NoneType' object is not callable".
    with _LLAMAS_LOCK:
        for llm, _lock in _LLAMAS.values():
            with contextlib.suppress(Exception):
                llm.close()
        _LLAMAS.clear()


atexit.register(_close_all)


def to_llama_messages(messages: list[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages -> OpenAI-style dicts that ``create_chat_completion`` renders with the
    GGUF's own chat template."""
    out: list[dict[str, str]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            role = "system"
        elif isinstance(message, HumanMessage):
            role = "user"
        elif isinstance(message, AIMessage):
            role = "assistant"
        elif isinstance(message, ChatMessage):
            role = message.role
        else:  # tool results etc.: the embedded models have no tool role in their templates
            role = "user"
        out.append({"role": role, "content": message_text(message)})
    return out


class LocalLlamaChatModel(BaseChatModel):
    """A chat model over an in-process ``llama_cpp.Llama``.

    ``bind(response_format={"type": "json_object", "schema": {...}})`` makes llama.cpp constrain
    generation with a grammar built from the JSON schema, so even a 135M model emits
    schema-shaped JSON. Usage metadata carries llama.cpp's real token counts.
    """

    model_name: str
    model_path: str
    n_ctx: int = 4096
    n_threads: int = Field(default_factory=default_threads)
    n_gpu_layers: int = 0
    temperature: float = 0.0
    max_tokens: int = 1024
    seed: int = 0

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-local"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "n_ctx": self.n_ctx,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        llm, lock = load_llama(
            self.model_path,
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            n_gpu_layers=self.n_gpu_layers,
            seed=self.seed,
        )
        request: dict[str, Any] = {
            "messages": to_llama_messages(messages),
            "temperature": kwargs.get("temperature", self.temperature),
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "seed": self.seed,
            "stop": stop or [],
        }
        if kwargs.get("response_format") is not None:
            request["response_format"] = kwargs["response_format"]
        waiting = time.perf_counter()
        with lock:
            # Concurrent branches (data_writing fan-out) queue here; the time is reported apart
            # so a trace's latency is not mistaken for model speed.
            queued_s = time.perf_counter() - waiting
            completion = llm.create_chat_completion(**request)
        choice = completion["choices"][0]
        text = choice["message"].get("content") or ""
        usage = completion.get("usage") or {}
        input_tokens = int(usage.get("prompt_tokens", 0))
        output_tokens = int(usage.get("completion_tokens", 0))
        return chat_result(
            text,
            input_tokens,
            output_tokens,
            model_name=self.model_name,
            finish_reason=choice.get("finish_reason"),
            queued_s=round(queued_s, 3),
        )
