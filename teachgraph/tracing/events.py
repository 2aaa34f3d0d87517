"""Decision events: what every node decided, and every LLM call it made.

Nodes emit events through LangGraph's custom stream (``runtime.stream_writer``); whoever runs the
graph (the CLI, :func:`teachgraph.tracing.rundir.stream_to_trace`, a notebook) decides where they
go. Outside a streaming run the writer is a no-op, so nodes never need to check.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any, Literal

from pydantic import BaseModel, Field, JsonValue

EventKind = Literal[
    "llm_start",  # an LLM call begins (progress display)
    "llm_call",  # one structured LLM call: model, tokens, latency, ok/error
    "failure",  # a step could not do its job (after retries); the graph went on
    "analysis",  # error analysis groups
    "skills",  # skills induced / assignments
    "decision",  # policy action with its reason
    "subskills",  # subskills proposed
    "quotas",  # data quota per (sub)skill
    "written",  # examples written for one (sub)skill
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


# --- secrets -----------------------------------------------------------------------------------

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.I)
_KEY_SHAPES = re.compile(
    r"(sk-[A-Za-z0-9_\-]{8,}|lsv2_[A-Za-z0-9_\-]{8,}|hf_[A-Za-z0-9]{16,}|(?<=://)[^/\s:@]+:[^/\s@]+(?=@))"
)


def secret_values() -> list[str]:
    """Values of environment variables whose names look secret (API keys, tokens, ...)."""
    return sorted(
        {v for k, v in os.environ.items() if _SECRET_NAME.search(k) and v and len(v) >= 6},
        key=len,
        reverse=True,
    )


def redact(text: str, secrets: list[str] | None = None) -> str:
    """Replace secret env values and key-shaped strings (``sk-...``, ``user:pass@``) with ``***``.

    Applied to everything teachgraph writes into a run directory, so a key that reaches a prompt,
    an error message or a config never lands on disk.
    """
    for value in secret_values() if secrets is None else secrets:
        text = text.replace(value, "***")
    return _KEY_SHAPES.sub("***", text)
