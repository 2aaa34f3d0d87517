"""The one way teacher nodes call an LLM: the node's own model, structured output, a trace event.

Every call goes through :func:`ask`, so every call is traced the same way (node, model, tokens,
latency, outcome, and the full prompt and response, which the run directory keeps in
``llm_calls.jsonl`` under the event's ``call_id``) and no node can forget to record a failure.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field, create_model

from teachgraph.providers import ResolvedModel, structured_call
from teachgraph.providers.faults import FailureLimit, status_code
from teachgraph.providers.messages import message_text
from teachgraph.redaction import describe_exception
from teachgraph.state import LLMUsage, NodeFailure, TeacherContext
from teachgraph.tracing.events import emit
from teachgraph.tracing.llm_calls import PREVIEW_CHARS, TRANSCRIPT_KEY, new_call_id, transcript

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
    Never raises for model misbehaviour or a failed call: the failure is traced and returned.
    Raises :class:`~teachgraph.providers.faults.ProviderStop` (after tracing) when the provider
    error is fatal (401, 403, 404, 400) or the model's failed calls reached the run's failure limit.
    """
    ctx = runtime.context
    model = with_sampling(ctx.models.for_node(node), sampling)
    where = {"node": node, "iteration": iteration, "skill": skill}
    purpose = purpose or schema.__name__
    # Announce the call: a local model can take a minute, and a silent terminal looks hung.
    trace(runtime, "llm_start", **where, model=model.label, purpose=purpose)

    def on_retry(exc: BaseException, delay_s: float, n: int) -> None:
        trace(
            runtime,
            "retry",
            **where,
            model=model.label,
            retry=n,
            delay_s=round(delay_s, 3),
            error=describe_exception(exc, 300),
            status=status_code(exc),
        )

    result = structured_call(
        model, schema, prompt, max_attempts=ctx.settings.max_attempts, retry=ctx.settings.retry, on_retry=on_retry
    )
    prompt_text = "\n".join(message_text(m) for m in prompt)
    trace(
        runtime,
        "llm_call",
        **where,
        model=result.model or model.label,
        purpose=purpose,
        ok=result.value is not None,
        error=result.error,
        failure_kind=result.failure,
        attempts=result.attempts,
        retries=result.retries,
        input_tokens=result.input_tokens,
        output_tokens=result.output_tokens,
        latency_s=round(result.latency_s, 3),
        queued_s=round(result.queued_s, 3),
        prompt_sha256=hashlib.sha256(prompt_text.encode()).hexdigest()[:16],
        response=(result.raw or "")[:PREVIEW_CHARS],
        call_id=new_call_id(),
        **{TRANSCRIPT_KEY: transcript(result.conversation or prompt, result.raw or "")},
    )
    failure = None
    if result.value is None:
        failure = NodeFailure(node=node, iteration=iteration, error=result.error or "no output", skill=skill)
        trace(runtime, "failure", **where, error=failure.error)
    # A dead provider or a revoked key stops the run here (after the failure is traced), with
    # the checkpoint left for --resume; malformed output never does.
    failure_limit(ctx).record(node, model.label, result.failure, result.error)
    usage = LLMUsage(node=node, model=model.label, input_tokens=result.input_tokens, output_tokens=result.output_tokens)
    return Answer(value=result.value, model=model.label, failure=failure, usage=usage)


@dataclass
class NodeCalls:
    """The LLM calls of one node run: :meth:`ask` keeps every call's usage and failure, and
    :meth:`update` returns them with the node's partial state update, so a node reads as its logic.

    ``failures`` and ``usage`` are the lists the teacher state appends (``operator.add``).
    """

    runtime: Runtime[TeacherContext]
    node: str
    iteration: int
    failures: list[NodeFailure] = field(default_factory=list)
    usage: list[LLMUsage] = field(default_factory=list)

    def ask(
        self,
        schema: type[T],
        prompt: list[BaseMessage],
        *,
        skill: str | None = None,
        purpose: str = "",
        sampling: dict[str, Any] | None = None,
    ) -> Answer[T]:
        """:func:`ask` as this node, recording the call's usage and (if it failed) its failure."""
        answer = ask(
            self.runtime,
            self.node,
            schema,
            prompt,
            iteration=self.iteration,
            skill=skill,
            purpose=purpose,
            sampling=sampling,
        )
        self.usage.append(answer.usage)
        if answer.failure is not None:
            self.failures.append(answer.failure)
        return answer

    def fail(self, error: str, *, skill: str | None = None) -> None:
        """Record a failure of this node that is not a failed call (e.g. an under-filled quota)."""
        self.failures.append(NodeFailure(node=self.node, iteration=self.iteration, error=error, skill=skill))

    def update(self, **fields: Any) -> dict[str, Any]:
        """The node's partial update: ``fields`` plus this run's ``failures`` and ``usage``."""
        return {**fields, "failures": self.failures, "usage": self.usage}


def failure_limit(ctx: TeacherContext) -> FailureLimit:
    """The run's :class:`FailureLimit` (one per context, i.e. per process running the graph)."""
    tracker = ctx.extras.get("_failure_limit")
    if tracker is None:
        tracker = ctx.extras.setdefault("_failure_limit", FailureLimit(ctx.settings.retry.failure_limit))
    return tracker


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


def bounded(schema: type[BaseModel], field_name: str, item: type[BaseModel], n: int) -> type[BaseModel]:
    """``schema`` with its list field capped at ``n`` items: for local models the cap becomes part
    of the grammar, so a small model cannot go on listing past the groups/questions it was shown."""
    return create_model(
        schema.__name__,
        __base__=schema,
        **{field_name: (list[item], Field(max_length=n))},  # type: ignore[call-overload]
    )
