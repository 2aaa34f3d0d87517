"""Structured output that never raises for model misbehaviour or provider failure.

Teacher nodes ask for pydantic objects many times per iteration, from models ranging from GPT-4o
to a 135M llama.cpp model. :func:`structured_call` hides the differences:

* ``json_schema`` / ``function_calling``: LangChain's ``with_structured_output(schema,
  method=..., include_raw=True)``, which reports parse failures instead of raising.
* ``json_object``: ``bind(response_format={"type": "json_object", "schema": ...})`` (llama.cpp
  compiles the schema into a grammar) plus format instructions, then strict parsing.
* ``prompt``: format instructions appended to the conversation, then lenient extraction of the
  JSON from the reply (code fences and surrounding prose are tolerated) and strict validation.

A reply that is not valid is re-asked: the bad reply and the validation error are appended to
the conversation so the model can correct itself. Provider errors are a different matter, kept
apart (:mod:`teachgraph.providers.faults`): a transient one (429, 5xx, connection, timeout) sends
the *same* request again after a backoff; a fatal one (401, 403, 404, 400) is not retried. When
the retries are used up the call ends there (``failure="provider"`` or ``"fatal"``): re-asking a
model that cannot be reached is pointless. Either way the result carries ``value=None`` and a
one-line error, and nothing is raised.

Model output is redacted on the way in (:func:`teachgraph.redaction.redact`): a key that a
model echoes never reaches state, checkpoints or data files.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.output_parsers import PydanticOutputParser
from pydantic import BaseModel, ValidationError

from teachgraph.errors import ConfigError, describe_validation_error
from teachgraph.providers.faults import RetrySettings, call_with_retries, classify
from teachgraph.providers.messages import estimate_tokens, message_text, prompt_text
from teachgraph.providers.resolve import ResolvedModel
from teachgraph.providers.results import ai_message
from teachgraph.providers.text_reply import TextReply
from teachgraph.redaction import describe_exception, one_line, redact

T = TypeVar("T", bound=BaseModel)


@dataclass
class StructuredResult(Generic[T]):
    """Outcome of :func:`structured_call`.

    ``value`` is the validated object, or ``None`` with ``error`` set (one line). ``raw`` is the
    text of the last reply (tool-call arguments as JSON for tool calls). Token counts are summed
    over attempts; ``tokens_estimated`` is True when some attempt's provider reported no usage
    and ~4 characters/token was assumed instead. ``latency_s`` is wall time for all attempts;
    ``queued_s`` is the part of it spent waiting for a model that serves one call at a time (the
    embedded llama.cpp models report it). ``failure`` says why ``value`` is None: ``"output"``
    (no valid reply in ``attempts`` tries), ``"provider"`` (transient errors outlasted
    ``retries`` retries) or ``"fatal"`` (an error that retrying cannot fix).
    """

    value: T | None
    error: str | None
    raw: str | None
    attempts: int
    input_tokens: int
    output_tokens: int
    latency_s: float
    model: str
    method: str = ""
    tokens_estimated: bool = False
    queued_s: float = 0.0
    # What the last attempt sent: the prompt with format instructions and, after retries, the
    # earlier replies and repair requests. With ``raw`` it is the call's full transcript.
    conversation: list[BaseMessage] = field(default_factory=list)
    failure: Literal["output", "provider", "fatal"] | None = None
    retries: int = 0

    @property
    def ok(self) -> bool:
        """Whether a valid value was obtained."""
        return self.value is not None


@dataclass
class _Attempt:
    value: BaseModel | None
    error: str | None
    raw: str
    message: AIMessage | None


_FENCE_RE = re.compile(r"```[ \t]*(?:json|JSON|json5)?[ \t]*\r?\n?(.*?)```", re.DOTALL)


def extract_json(text: str) -> Any:
    """The JSON value in ``text``: the whole text, a fenced block, or an object embedded in prose.

    Raises ``ValueError`` with a short reason. A reply that starts with ``{`` but does not parse
    (typically cut off at max_tokens) is reported as invalid JSON: an object nested inside it is
    never mistaken for the answer, and truncated JSON is never "repaired".
    """
    stripped = text.strip()
    if not stripped:
        raise ValueError("empty reply")
    candidates = [m.group(1).strip() for m in _FENCE_RE.finditer(stripped)]
    candidates.append(stripped)
    # strict=False: small models often put a literal newline inside a string (a multi-line
    # "program"); the meaning is unambiguous, so it is accepted rather than burning a retry.
    decoder = json.JSONDecoder(strict=False)
    broken: str | None = None
    for candidate in candidates:
        try:
            return json.loads(candidate, strict=False)
        except json.JSONDecodeError as err:
            if candidate.startswith(("{", "[")):
                try:  # valid JSON followed by trailing prose
                    value, _end = decoder.raw_decode(candidate, 0)
                    return value
                except json.JSONDecodeError:
                    broken = broken or f"invalid JSON ({err.msg} at char {err.pos})"
                continue
        # Leading prose: decode from each '{' until an object parses.
        for match in re.finditer(r"\{", candidate):
            try:
                value, _end = decoder.raw_decode(candidate, match.start())
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    raise ValueError(broken or "no JSON object found in the reply")


def parse_text(text: str, schema: type[T]) -> tuple[T | None, str | None]:
    """Validate a text reply against ``schema``: ``(value, None)`` or ``(None, error)``."""
    try:
        data = extract_json(text)
    except ValueError as err:
        return None, str(err)
    try:
        return schema.model_validate(data), None
    except ValidationError as err:
        return None, f"JSON does not match {schema.__name__}: {describe_validation_error(err, limit=6)}"


def _raw_text(message: AIMessage | None) -> str:
    if message is None:
        return ""
    if message.tool_calls:
        return json.dumps([call["args"] for call in message.tool_calls], default=str)
    return message_text(message)


@functools.cache
def format_instructions(schema: type[BaseModel]) -> str:
    """LangChain's format instructions for ``schema`` (cached: building the JSON schema is slow)."""
    return PydanticOutputParser(pydantic_object=schema).get_format_instructions()


def _with_instructions(messages: list[BaseMessage], instructions: str) -> list[BaseMessage]:
    """Append format instructions to the last user message (or as a new one)."""
    if messages and isinstance(messages[-1], HumanMessage) and isinstance(messages[-1].content, str):
        last = messages[-1]
        return [
            *messages[:-1],
            last.model_copy(update={"content": f"{last.content}\n\n{instructions}"}),
        ]
    return [*messages, HumanMessage(content=instructions)]


def _was_truncated(message: AIMessage | None) -> bool:
    """Whether the provider stopped the reply at the token limit (OpenAI/llama.cpp: finish_reason
    "length"; Anthropic: stop_reason "max_tokens")."""
    if message is None:
        return False
    meta = message.response_metadata or {}
    return meta.get("finish_reason") == "length" or meta.get("stop_reason") == "max_tokens"


def _repair_message(error: str, method: str, truncated: bool, reply_format: str = "") -> HumanMessage:
    if method in ("json_schema", "function_calling"):
        ask = "Answer again, following the required output schema exactly."
    else:
        ask = (
            "Reply again with only one JSON object that conforms to the schema given above: "
            "no explanations and no code fences."
        )
    if truncated:
        ask += " Keep it much shorter so that it fits."
    if reply_format:
        ask = f"Reply again: {reply_format}" + (" Keep it much shorter so that it fits." if truncated else "")
    return HumanMessage(content=f"Your previous reply could not be used: {error}. {ask}")


def _run_native(model: ResolvedModel, schema: type[T], messages: list[BaseMessage]) -> _Attempt:
    runnable = model.chat_model.with_structured_output(schema, method=model.structured_method, include_raw=True)
    out = runnable.invoke(messages)
    raw_message = out.get("raw") if isinstance(out, dict) else None
    message = raw_message if isinstance(raw_message, AIMessage) else None
    raw = _raw_text(message)
    parsed = out.get("parsed") if isinstance(out, dict) else out
    parsing_error = out.get("parsing_error") if isinstance(out, dict) else None
    if parsed is not None:
        try:
            value = parsed if isinstance(parsed, schema) else schema.model_validate(parsed)
            return _Attempt(value, None, raw, message)
        except ValidationError as err:
            parsing_error = err
    if isinstance(parsing_error, ValidationError):
        error = f"output does not match {schema.__name__}: {describe_validation_error(parsing_error, limit=6)}"
    elif parsing_error is not None:
        error = f"output could not be parsed: {describe_exception(parsing_error, 300)}"
    elif not raw.strip():
        error = "empty reply"
    elif model.structured_method == "function_calling":
        error = f"the model answered in text instead of calling the {schema.__name__} tool"
    else:
        error = "no structured output in the reply"
    return _Attempt(None, error, raw, message)


def grammar_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema to turn into a llama.cpp grammar: string length limits removed.

    llama.cpp expands ``maxLength`` into nested optional rules (exponential in the limit), and
    rejects the grammar for limits in the hundreds; lengths are still checked by pydantic after
    parsing. List limits (``maxItems``) stay: they keep a small model from looping in a list.
    """

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("maxLength", "minLength")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(schema.model_json_schema())


def _run_text(model: ResolvedModel, schema: type[T], messages: list[BaseMessage]) -> _Attempt:
    runnable: Any = model.chat_model
    if model.structured_method == "json_object":
        runnable = runnable.bind(response_format={"type": "json_object", "schema": grammar_schema(schema)})
    reply = runnable.invoke(messages)
    message = reply if isinstance(reply, AIMessage) else None
    raw = _raw_text(message) if message is not None else str(getattr(reply, "content", reply))
    value, error = parse_text(raw, schema)
    return _Attempt(value, error, raw, message)


def _run_plain(model: ResolvedModel, schema: type[T], messages: list[BaseMessage]) -> _Attempt:
    """A :class:`TextReply`: a plain completion (no grammar, no response_format), parsed by the schema."""
    reply = model.chat_model.invoke(messages)
    message = reply if isinstance(reply, AIMessage) else None
    raw = _raw_text(message) if message is not None else str(getattr(reply, "content", reply))
    try:
        return _Attempt(schema.from_text(raw), None, raw, message)  # type: ignore[attr-defined]
    except ValidationError as err:
        return _Attempt(None, f"reply does not match {schema.__name__}: {describe_validation_error(err)}", raw, message)
    except ValueError as err:
        return _Attempt(None, one_line(str(err))[:300] or "unusable reply", raw, message)


def _from_length_error(exc: Exception, schema: type[BaseModel]) -> _Attempt | None:
    """Turn the OpenAI SDK's ``LengthFinishReasonError`` into an ordinary (truncated) reply.

    ``ChatOpenAI`` sends ``response_format`` requests through ``chat.completions.parse()``, which
    raises instead of returning when the reply hit max_tokens. That is model output, not a
    provider failure: keep its text and token counts, and let the retry ask for something shorter.
    """
    if type(exc).__name__ != "LengthFinishReasonError":
        return None
    completion = getattr(exc, "completion", None)
    try:
        raw = completion.choices[0].message.content or ""  # type: ignore[union-attr]
        usage = completion.usage  # type: ignore[union-attr]
        tokens_in, tokens_out = int(usage.prompt_tokens), int(usage.completion_tokens)
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    message = ai_message(raw, tokens_in, tokens_out, finish_reason="length")
    _value, error = parse_text(raw, schema)
    return _Attempt(None, error or "incomplete reply", raw, message)


def _usage(message: AIMessage | None, sent: list[BaseMessage], raw: str) -> tuple[int, int, bool]:
    usage = message.usage_metadata if message is not None else None
    if usage and (usage.get("input_tokens") or usage.get("output_tokens")):
        estimated = bool(message is not None and message.response_metadata.get("tokens_estimated"))
        return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0)), estimated
    return estimate_tokens(prompt_text(sent)), estimate_tokens(raw), True


def _redacted(value: T, schema: type[T]) -> T | None:
    """``value`` with credentials removed from every string (None if that breaks the schema)."""
    dumped = value.model_dump_json()
    clean = redact(dumped)
    if clean == dumped:
        return value
    try:
        return schema.model_validate_json(clean)
    except ValidationError:
        return None


def structured_call(
    model: ResolvedModel,
    schema: type[T],
    messages: Sequence[BaseMessage],
    *,
    max_attempts: int = 3,
    retry: RetrySettings | None = None,
    on_retry: Callable[[BaseException, float, int], None] | None = None,
) -> StructuredResult[T]:
    """Ask ``model`` for a ``schema`` instance; re-ask with the error on invalid output.

    ``max_attempts`` bounds the re-asks after malformed output; ``retry`` governs the retries of
    one request after transient provider errors (``on_retry(error, delay_s, n)`` is called before
    each wait). Never raises for model misbehaviour or provider failure: the result has
    ``value=None``, ``failure`` and ``error`` set. (A :class:`ConfigError` raised by the model,
    such as a scripted model running out of responses, does propagate: it is a setup bug.)
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    retry = retry or RetrySettings()
    method: str = model.structured_method
    conversation: list[BaseMessage] = list(messages)
    reply_format = ""
    if issubclass(schema, TextReply):  # code and other free text: no grammar (text_reply explains)
        method, reply_format = "text", schema.reply_format
        if reply_format:
            conversation = _with_instructions(conversation, reply_format)
        runner = _run_plain
    elif method in ("json_object", "prompt"):
        # json_object needs the instructions too: OpenAI-style servers require the word "JSON"
        # in the prompt, and field names/descriptions help content even under a grammar.
        instructions = format_instructions(schema)
        conversation = _with_instructions(conversation, instructions)
    if method != "text":
        runner = _run_native if method in ("json_schema", "function_calling") else _run_text

    started = time.perf_counter()
    input_tokens = output_tokens = retries = 0
    estimated = False
    queued_s = 0.0
    error: str | None = None
    failure: Literal["output", "provider", "fatal"] | None = None
    raw: str | None = None
    attempts = 0

    def count_retry(exc: BaseException, delay: float, n: int) -> None:
        nonlocal retries
        retries += 1
        if on_retry is not None:
            on_retry(exc, delay, n)

    def result(value: T | None) -> StructuredResult[T]:
        return StructuredResult(
            value=value,
            error=None
            if value is not None
            else one_line(f"no valid {schema.__name__} after {attempts} attempt(s): {error}"),
            raw=raw,
            attempts=attempts,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_s=time.perf_counter() - started,
            model=model.label,
            method=method,
            tokens_estimated=estimated,
            queued_s=queued_s,
            failure=None if value is not None else failure,
            retries=retries,
            conversation=conversation,
        )

    for attempt in range(1, max_attempts + 1):
        attempts = attempt
        try:
            outcome = call_with_retries(
                functools.partial(runner, model, schema, conversation), retry, on_retry=count_retry
            )
        except ConfigError:
            raise
        except Exception as exc:  # connection refused, HTTP 500 after the retries, HTTP 401, ...
            truncated_outcome = _from_length_error(exc, schema)
            if truncated_outcome is None:
                kind = classify(exc)
                if kind == "output":  # a refusal or a prompt beyond the context window
                    failure, error = "output", describe_exception(exc, 300)
                    break
                failure = "fatal" if kind == "fatal" else "provider"
                tried = "not retried" if kind == "fatal" else f"{retries} retries"
                error = f"provider error ({tried}): {describe_exception(exc, 300)}"
                break  # the provider, not the reply, is the problem: re-asking cannot help
            outcome = truncated_outcome
        used_in, used_out, was_estimated = _usage(outcome.message, conversation, outcome.raw)
        input_tokens += used_in
        output_tokens += used_out
        estimated = estimated or was_estimated
        if outcome.message is not None:
            queued_s += float(outcome.message.response_metadata.get("queued_s", 0.0))
        raw = redact(outcome.raw)
        value = _redacted(outcome.value, schema) if outcome.value is not None else None  # type: ignore[arg-type]
        if value is not None:
            return result(value)
        failure = "output"
        error = outcome.error or ("the reply held a credential" if outcome.value is not None else "invalid reply")
        truncated = _was_truncated(outcome.message)
        if truncated:
            # Say so: "invalid JSON" alone hides that max_tokens is the cause.
            error = f"reply cut off at the max_tokens limit: {error}"
        # Show the model its own reply (as plain text: a dangling tool call without a tool
        # result is rejected by OpenAI-style APIs) and what was wrong with it.
        conversation = [
            *conversation,
            AIMessage(content=raw if raw.strip() else "(empty reply)"),  # redacted: it is traced too
            _repair_message(error, method, truncated, reply_format),
        ]
    return result(None)
