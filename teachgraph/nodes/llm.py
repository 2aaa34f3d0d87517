"""The one way teacher nodes call an LLM: the node's own model, structured output, a trace event.

Every call goes through :func:`ask`, so every call is traced the same way (node, model, tokens,
latency, outcome) and no node can forget to record a failure.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel

from teachgraph.graphs.state import LLMUsage, NodeFailure, TeacherContext
from teachgraph.providers import ResolvedModel, structured_call
from teachgraph.tracing.events import emit

T = TypeVar("T", bound=BaseModel)


@dataclass
class Answer(Generic[T]):
    """The outcome of :func:`ask`: ``value`` is None when every attempt failed."""

    value: T | None
    model: str
    failure: NodeFailure | None
    usage: LLMUsage


def messages(system: str, user: str) -> list[BaseMessage]:
    """A system + user message pair."""
    return [SystemMessage(system), HumanMessage(user)]


def ask(
    runtime: Runtime[TeacherContext],
    node: str,
    schema: type[T],
    prompt: list[BaseMessage],
    *,
    iteration: int,
    skill: str | None = None,
    purpose: str = "",
    sampling: dict[str, Any] | None = None,
) -> Answer[T]:
    """Call ``node``'s configured model for a ``schema`` object, with bounded retries.

    ``sampling`` (e.g. ``{"temperature": 0.7, "seed": 12}``) overrides those settings of the
    model for this call, where the model has them (others ignore what they do not support).
    Never raises for model misbehaviour or provider failure: the failure is traced and returned.
    """
    ctx = runtime.context
    model = with_sampling(ctx.models.for_node(node), sampling)
    where = {"node": node, "iteration": iteration, "skill": skill}
    purpose = purpose or schema.__name__
    # Announce the call: a local model can take a minute, and a silent terminal looks hung.
    trace(runtime, "llm_start", **where, model=model.label, purpose=purpose)
    result = structured_call(model, schema, prompt, max_attempts=ctx.settings.max_attempts)
    prompt_text = "\n".join(str(m.content) for m in prompt)
    trace(
        runtime,
        "llm_call",
        **where,
        model=result.model or model.label,
        purpose=purpose,
        ok=result.value is not None,
        error=result.error,
        attempts=result.attempts,
        input_tokens=result.input_tokens,
        output_tokens=result.output_tokens,
        latency_s=round(result.latency_s, 3),
        queued_s=round(result.queued_s, 3),
        prompt_sha256=hashlib.sha256(prompt_text.encode()).hexdigest()[:16],
        response=(result.raw or "")[:4000],
    )
    failure = None
    if result.value is None:
        failure = NodeFailure(node=node, iteration=iteration, error=result.error or "no output", skill=skill)
        trace(runtime, "failure", **where, error=failure.error)
    usage = LLMUsage(node=node, model=model.label, input_tokens=result.input_tokens, output_tokens=result.output_tokens)
    return Answer(value=result.value, model=model.label, failure=failure, usage=usage)


def with_sampling(model: ResolvedModel, sampling: dict[str, Any] | None) -> ResolvedModel:
    """``model`` with some of its chat model's fields (temperature, seed) replaced for one call."""
    fields = type(model.chat_model).model_fields
    update = {k: v for k, v in (sampling or {}).items() if k in fields}
    if not update:
        return model
    return replace(model, chat_model=model.chat_model.model_copy(update=update))


def trace(
    runtime: Runtime[TeacherContext], kind: str, *, node: str, iteration: int, skill: str | None = None, **data: Any
) -> None:
    """Emit a decision event from a node (thin wrapper that fills in the run id)."""
    emit(
        runtime.stream_writer, kind, node=node, iteration=iteration, run_id=runtime.context.run_id, skill=skill, **data
    )
