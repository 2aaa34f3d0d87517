"""Decision events: what every node decided, and every LLM call it made.

Nodes emit events through LangGraph's custom stream (``runtime.stream_writer``); whoever runs the
graph (the CLI, :func:`teachgraph.tracing.rundir.stream_to_trace`, a notebook) decides where they
go. Outside a streaming run the writer is a no-op, so nodes never need to check.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, Field, JsonValue

from teachgraph.redaction import redact  # re-exported: older imports read it from here

__all__ = ["EventKind", "TraceEvent", "emit", "redact"]

EventKind = Literal[
    "llm_start",  # an LLM call begins (progress display)
    "llm_call",  # one structured LLM call: model, tokens, latency, ok/error
    "retry",  # a transient provider error; the same request is sent again after delay_s
    "failure",  # a step could not do its job (after retries); the graph went on
    "analysis",  # error analysis groups
    "skills",  # skills induced / assignments
    "decision",  # policy action with its reason
    "subskills",  # subskills proposed
    "quotas",  # data quota per (sub)skill
    "written",  # examples written for one (sub)skill
    "top_up",  # program engine: a step's shortfall drawn from the generators that worked
    "verdict",  # one example's validation verdict
    "review",  # what a person changed about one example at review (teacher.review)
    "reviewed",  # one review's summary: approved, rejected, edited
    "evaluation",  # student evaluation summary
    "training",  # student training summary
    "iteration",  # iteration boundaries and stop decisions
    "custom",  # user nodes
]


class TraceEvent(BaseModel):
    """One line of ``trace.jsonl``."""

    ts: float = Field(default_factory=time.time)
    run_id: str = ""
    iteration: int = 0
    node: str
    kind: str
    skill: str | None = None
    data: dict[str, JsonValue] = Field(default_factory=dict)


def emit(
    writer: Any,
    kind: str,
    *,
    node: str,
    iteration: int,
    run_id: str = "",
    skill: str | None = None,
    **data: Any,
) -> TraceEvent:
    """Build an event and send it to ``writer`` (a LangGraph stream writer, or None)."""
    event = TraceEvent(run_id=run_id, iteration=iteration, node=node, kind=kind, skill=skill, data=data)
    if writer is not None:
        writer({"teachgraph_event": event.model_dump(mode="json")})
    return event
