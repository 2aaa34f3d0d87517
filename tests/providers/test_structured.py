"""structured_call: retries, parsing, failures (scripted models and a fake OpenAI server)."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from teachgraph.errors import ConfigError
from teachgraph.providers import (
    ModelSpec,
    ResolvedModel,
    ScriptedChatModel,
    extract_json,
    resolve_model,
    structured_call,
)
from teachgraph.providers.faults import RetrySettings, classify
from teachgraph.providers.scripted import ScriptedProviderError

from .conftest import FakeOpenAIServer, completion


class Problem(BaseModel):
    question: str
    answer: int = Field(description="the numeric answer")


class ProblemSet(BaseModel):
    problems: list[Problem]


MESSAGES = [SystemMessage("You write arithmetic problems."), HumanMessage("Write one problem.")]
VALID = '{"question": "2+3?", "answer": 5}'


def scripted(*responses: object, method: str = "prompt") -> ResolvedModel:
    model = ScriptedChatModel(list(responses))
    spec = ModelSpec.parse("scripted:test.yaml")
    return ResolvedModel(spec, model, method)  # type: ignore[arg-type]


def test_valid_json() -> None:
    resolved = scripted(VALID)
    result = structured_call(resolved, Problem, MESSAGES)
    assert result.ok and result.value == Problem(question="2+3?", answer=5)
    assert (result.error, result.attempts, result.raw) == (None, 1, VALID)
    assert result.model == "scripted:test.yaml" and result.method == "prompt"
    assert result.input_tokens > 0 and result.output_tokens > 0 and result.tokens_estimated
    assert result.latency_s >= 0
    # the prompt method appended format instructions (with the schema) to the last user turn
    sent = resolved.chat_model.calls[0]  # type: ignore[attr-defined]
    assert len(sent) == 2 and sent[-1].content.startswith("Write one problem.")
    assert '"answer"' in sent[-1].content and "JSON" in sent[-1].content


@pytest.mark.parametrize(
    "reply",
    [
        f"```json\n{VALID}\n```",
        f"```\n{VALID}\n```",
        f"Sure! Here is the problem:\n\n```json\n{VALID}\n```\nHope that helps.",
        f"Here you go: {VALID} -- enjoy",
        f"  {VALID}  ",
    ],
)
def test_fenced_and_wrapped_json(reply: str) -> None:
    result = structured_call(scripted(reply), Problem, MESSAGES)
    assert result.value == Problem(question="2+3?", answer=5)
    assert result.attempts == 1


def test_invalid_then_valid_retries_with_the_error() -> None:
    resolved = scripted('{"question": "2+3?", "answer": "five"}', VALID)
    result = structured_call(resolved, Problem, MESSAGES)
    assert result.value == Problem(question="2+3?", answer=5)
    assert result.attempts == 2 and result.error is None
    second_call = resolved.chat_model.calls[1]  # type: ignore[attr-defined]
    # conversation = original + bad reply + repair request naming the problem
    assert isinstance(second_call[-2], AIMessage) and "five" in second_call[-2].content
    assert "answer: Input should be a valid integer" in second_call[-1].content
    # tokens are summed over both attempts
    single = structured_call(scripted(VALID), Problem, MESSAGES)
    assert result.input_tokens > 2 * single.input_tokens - 5


def test_wrong_schema_every_time_returns_error_without_raising() -> None:
    resolved = scripted('{"name": "x"}', '{"name": "y"}', '{"name": "z"}')
    result = structured_call(resolved, Problem, MESSAGES, max_attempts=3)
    assert result.value is None and not result.ok
    assert result.attempts == 3
    assert result.error is not None and "\n" not in result.error
    assert "no valid Problem after 3 attempt(s)" in result.error
    assert "question: Field required" in result.error
    assert result.raw == '{"name": "z"}'
    assert len(resolved.chat_model.calls) == 3  # type: ignore[attr-defined]


def test_empty_output() -> None:
    result = structured_call(scripted("", "   ", ""), Problem, MESSAGES)
    assert result.value is None and result.attempts == 3
    assert result.error is not None and "empty reply" in result.error
    # the empty reply is shown back to the model as a placeholder, not as an empty turn
    assert result.raw == ""


def test_prose_without_json() -> None:
    result = structured_call(scripted("I cannot do that.", "Nope."), Problem, MESSAGES, max_attempts=2)
    assert result.value is None and "no JSON object found" in (result.error or "")


FAST = RetrySettings(max_retries=2, initial_delay_s=0.001, max_delay_s=0.01, jitter_s=0.0)


def test_transient_provider_error_resends_the_same_request() -> None:
    resolved = scripted(ConnectionRefusedError(111, "Connection refused"), VALID)
    retried: list[tuple[str, int]] = []
    result = structured_call(
        resolved, Problem, MESSAGES, retry=FAST, on_retry=lambda e, delay, n: retried.append((type(e).__name__, n))
    )
    assert result.value == Problem(question="2+3?", answer=5)
    # a provider retry is not a repair attempt: same conversation, no repair message
    assert (result.attempts, result.retries, result.failure) == (1, 1, None)
    assert retried == [("ConnectionRefusedError", 1)]
    calls = resolved.chat_model.calls  # type: ignore[attr-defined]
    assert calls[0] == calls[1]


def test_transient_provider_error_every_time() -> None:
    resolved = scripted(*(ScriptedProviderError("HTTP 500 internal error") for _ in range(3)))
    result = structured_call(resolved, Problem, MESSAGES, retry=FAST)
    assert result.value is None and result.attempts == 1 and result.raw is None
    assert (result.failure, result.retries) == ("provider", 2)
    assert result.error == (
        "no valid Problem after 1 attempt(s): provider error (2 retries): ScriptedProviderError: HTTP 500 internal error"
    )
    assert result.input_tokens == 0 and result.output_tokens == 0
    assert len(resolved.chat_model.calls) == 3  # type: ignore[attr-defined]


def test_malformed_output_and_provider_errors_have_separate_budgets() -> None:
    # two bad replies (two repair attempts), each reached through a transient error first
    resolved = scripted(TimeoutError("read timed out"), "not json", TimeoutError("again"), "{}", VALID)
    result = structured_call(resolved, Problem, MESSAGES, max_attempts=3, retry=FAST)
    assert result.value == Problem(question="2+3?", answer=5)
    assert (result.attempts, result.retries) == (3, 2)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ConnectionResetError(), "transient"),
        (TimeoutError(), "transient"),
        (ScriptedProviderError("boom"), "transient"),
        (ConfigError("bad script"), "setup"),
    ],
)
def test_classify_plain_exceptions(exc: BaseException, kind: str) -> None:
    assert classify(exc) == kind


def test_config_errors_propagate() -> None:
    # A script that is too short is a setup bug, not model misbehaviour.
    with pytest.raises(ConfigError, match="ran out of responses"):
        structured_call(scripted("not json"), Problem, MESSAGES, max_attempts=2)


def test_nested_schema_and_max_attempts_one() -> None:
    reply = json.dumps({"problems": [{"question": "1+1?", "answer": 2}, {"question": "3*3?", "answer": 9}]})
    result = structured_call(scripted(reply), ProblemSet, MESSAGES, max_attempts=1)
    assert result.value is not None and [p.answer for p in result.value.problems] == [2, 9]
    with pytest.raises(ValueError):
        structured_call(scripted(reply), ProblemSet, MESSAGES, max_attempts=0)


def test_extract_json_edge_cases() -> None:
    assert extract_json('{"a": {"b": [1, 2]}}') == {"a": {"b": [1, 2]}}
    assert extract_json('prefix {not json} then {"a": 1} suffix') == {"a": 1}
    with pytest.raises(ValueError, match="empty reply"):
        extract_json("  \n")
    assert extract_json('{"a": 1} and some trailing words') == {"a": 1}
    assert extract_json("[1, 2]") == [1, 2]
    # A literal newline inside a string (a multi-line program) is what small models write.
    assert extract_json('{"program": "x = 6\nprint(x)"}') == {"program": "x = 6\nprint(x)"}
    with pytest.raises(ValueError, match="no JSON object"):
        extract_json("no braces at all")
    # truncated output is rejected (not "repaired"), and a nested object is not taken instead
    with pytest.raises(ValueError, match="invalid JSON"):
        extract_json('{"problems": [{"question": "1+1?", "answer": 2}, {"quest')


# --- through a real HTTP client (ChatOpenAI) against a fake OpenAI-compatible server ------------


def _compatible(server: FakeOpenAIServer, max_tokens: int = 64) -> ResolvedModel:
    return resolve_model(
        ModelSpec.parse({"spec": f"openai-compatible:{server.base_url}#fake-model", "max_tokens": max_tokens})
    )


def test_openai_compatible_function_calling_and_payload(
    fake_openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    fake_openai_server.replies = [
        (200, completion("I think the answer is five.")),  # no tool call -> re-ask
        (200, completion(tool_call=("Problem", {"question": "2+3?", "answer": 5}))),
    ]
    resolved = _compatible(fake_openai_server, max_tokens=64)
    assert resolved.structured_method == "function_calling"
    result = structured_call(resolved, Problem, MESSAGES)
    assert result.value == Problem(question="2+3?", answer=5), result.error
    assert result.attempts == 2
    # real usage from the server, summed over attempts
    assert (result.input_tokens, result.output_tokens, result.tokens_estimated) == (22, 14, False)
    first, second = fake_openai_server.requests
    # the generation cap is sent as max_tokens (llama.cpp ignores max_completion_tokens)
    assert first["max_tokens"] == 64 and "max_completion_tokens" not in first
    assert first["model"] == "fake-model" and first["temperature"] == 0.0
    assert first["tools"][0]["function"]["name"] == "Problem"
    assert "calling the Problem tool" in second["messages"][-1]["content"]
    assert fake_openai_server.headers[0]["authorization"] == "Bearer not-needed"


def test_openai_compatible_http_500_is_retried_then_a_provider_failure(
    fake_openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET123")
    fake_openai_server.replies = [(500, {"error": {"message": "model crashed"}})] * 10
    result = structured_call(_compatible(fake_openai_server), Problem, MESSAGES, max_attempts=2, retry=FAST)
    assert result.value is None and result.attempts == 1 and result.failure == "provider"
    assert len(fake_openai_server.requests) == 3  # the first try and two retries; no SDK retries on top
    assert result.error is not None and "provider error (2 retries): OpenAIAPIError: Error code: 500" in result.error
    assert "500" in result.error and "model crashed" in result.error
    assert "sk-test-SECRET123" not in result.error


@pytest.mark.parametrize(
    ("status", "name"),
    [(401, "AuthenticationError"), (403, "PermissionDenied"), (404, "NotFoundError"), (400, "InvalidRequestError")],
)
def test_fatal_http_errors_are_not_retried(
    fake_openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, status: int, name: str
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    fake_openai_server.replies = [(status, {"error": {"message": "no"}})] * 5
    result = structured_call(_compatible(fake_openai_server), Problem, MESSAGES, retry=FAST)
    assert result.value is None and result.failure == "fatal" and result.retries == 0
    assert len(fake_openai_server.requests) == 1
    assert "provider error (not retried): " in (result.error or "") and name in (result.error or "")


def test_429_honours_retry_after(fake_openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    fake_openai_server.replies = [
        (429, {"error": {"message": "slow down"}}, {"Retry-After": "0.4"}),
        (200, completion(tool_call=("Problem", {"question": "2+3?", "answer": 5}))),
    ]
    waits: list[float] = []
    retry = RetrySettings(max_retries=2, initial_delay_s=0.001, max_delay_s=5.0, jitter_s=0.0)
    result = structured_call(
        _compatible(fake_openai_server), Problem, MESSAGES, retry=retry, on_retry=lambda e, d, n: waits.append(d)
    )
    assert result.value == Problem(question="2+3?", answer=5) and result.retries == 1
    assert waits == [pytest.approx(0.4)]
    assert result.latency_s >= 0.4


def test_connection_refused_is_a_failed_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    from teachgraph.providers.local.server import free_port

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    port = free_port()  # nothing listens there
    resolved = resolve_model(
        ModelSpec.parse({"spec": f"openai-compatible:http://127.0.0.1:{port}/v1#m", "timeout_s": 5})
    )
    result = structured_call(resolved, Problem, MESSAGES, max_attempts=2, retry=FAST)
    assert result.value is None and result.attempts == 1 and result.failure == "provider"
    assert "provider error (2 retries): OpenAIConnectionError: Connection error" in (result.error or "")


def test_truncated_reply_is_reported_as_max_tokens(
    fake_openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cut = '{"problems": [{"question": "1+1?", "answer": 2}, {"quest'
    fake_openai_server.replies = [(200, completion(cut, finish_reason="length"))] * 2
    resolved = resolve_model(
        ModelSpec.parse(
            {
                "spec": f"openai-compatible:{fake_openai_server.base_url}#m",
                "structured_method": "json_object",
            }
        )
    )
    result = structured_call(resolved, ProblemSet, MESSAGES, max_attempts=2)
    assert result.value is None
    assert "reply cut off at the max_tokens limit: invalid JSON" in (result.error or "")
    assert result.raw == cut  # the SDK raised LengthFinishReasonError; the text is still kept
    assert (result.input_tokens, result.output_tokens, result.tokens_estimated) == (22, 14, False)
    repair = fake_openai_server.requests[1]["messages"][-1]["content"]
    assert "Keep it much shorter" in repair


def test_json_object_method_sends_schema_response_format(
    fake_openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    fake_openai_server.replies = [(200, completion(VALID))]
    resolved = resolve_model(
        ModelSpec.parse(
            {
                "spec": f"openai-compatible:{fake_openai_server.base_url}#m",
                "structured_method": "json_object",
            }
        )
    )
    result = structured_call(resolved, Problem, MESSAGES)
    assert result.value == Problem(question="2+3?", answer=5), result.error
    body = fake_openai_server.requests[0]
    assert body["response_format"]["type"] == "json_object"
    assert body["response_format"]["schema"]["required"] == ["question", "answer"]
    assert "JSON" in body["messages"][-1]["content"]
