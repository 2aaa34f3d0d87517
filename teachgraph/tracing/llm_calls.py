"""Full LLM transcripts: every call's whole prompt and whole response, beside the trace.

``trace.jsonl`` keeps one small ``llm_call`` event per call (model, tokens, latency, outcome, a
short preview of the reply and a ``call_id``). The event as emitted also carries the call's
transcript under :data:`TRANSCRIPT_KEY`; the run directory moves it into ``llm_calls.jsonl``
(redacted like everything else it writes), so the trace stays small and readable while every
decision can still be checked word for word: ``teachgraph trace DIR --node policy --full``.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from langchain_core.messages import BaseMessage
from pydantic import BaseModel, Field
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from teachgraph.providers.messages import message_text
from teachgraph.redaction import redact

TRANSCRIPT_KEY = "transcript"
"""Key of an ``llm_call`` event's data that holds the full transcript while it is in flight."""

PREVIEW_CHARS = 300
"""How much of a reply ``trace.jsonl`` itself keeps (the full text is in ``llm_calls.jsonl``)."""


class TranscriptMessage(BaseModel):
    """One message of a conversation sent to a model."""

    role: str
    content: str


class LLMCallRecord(BaseModel):
    """One line of ``llm_calls.jsonl``: a call's full prompt and full response."""

    call_id: str
    ts: float = Field(default_factory=time.time)
    run_id: str = ""
    iteration: int = 0
    node: str
    skill: str | None = None
    model: str = ""
    purpose: str = ""
    ok: bool = True
    attempts: int = 1
    messages: list[TranscriptMessage] = Field(description="Everything the last attempt sent, in order.")
    response: str = Field(description="The model's last reply, in full.")


def new_call_id() -> str:
    """A fresh id linking an ``llm_call`` event to its transcript."""
    return uuid.uuid4().hex[:16]


def transcript(conversation: list[BaseMessage], response: str) -> dict[str, Any]:
    """The JSON form of a transcript, as carried in the event under :data:`TRANSCRIPT_KEY`.

    Redacted here, where it is made: the event reaches stream consumers (the CLI, LangSmith)
    before the run directory's writer redacts what it stores.
    """
    messages = [
        {"role": m.type, "content": redact(message_text(m))}
        for m in conversation
    ]
    return {"messages": messages, "response": redact(response)}


def split_transcript(event: dict[str, Any]) -> tuple[dict[str, Any], LLMCallRecord | None]:
    """Separate an emitted event from its transcript: ``(event for trace.jsonl, record or None)``.

    The input is not changed. Events without a transcript come back as they are.
    """
    data = event.get("data") or {}
    if TRANSCRIPT_KEY not in data:
        return event, None
    data = dict(data)
    full = data.pop(TRANSCRIPT_KEY) or {}
    record = LLMCallRecord(
        call_id=str(data.get("call_id") or new_call_id()),
        ts=float(event.get("ts") or time.time()),
        run_id=str(event.get("run_id") or ""),
        iteration=int(event.get("iteration") or 0),
        node=str(event.get("node") or ""),
        skill=event.get("skill"),
        model=str(data.get("model") or ""),
        purpose=str(data.get("purpose") or ""),
        ok=bool(data.get("ok", True)),
        attempts=int(data.get("attempts") or 1),
        messages=full.get("messages", []),
        response=str(full.get("response") or ""),
    )
    data["call_id"] = record.call_id
    return {**event, "data": data}, record


def select_calls(
    calls: list[LLMCallRecord], *, iteration: int | None = None, node: str | None = None, skill: str | None = None
) -> list[LLMCallRecord]:
    """Calls matching every given filter (``skill`` matches by substring, like the timeline's)."""
    return [
        c
        for c in calls
        if (iteration is None or c.iteration == iteration)
        and (node is None or c.node == node)
        and (skill is None or (c.skill is not None and skill.lower() in c.skill.lower()))
    ]


def print_calls(console: Console, calls: list[LLMCallRecord]) -> None:
    """Print each call's full prompt and response, one panel per message."""
    if not calls:
        console.print("no full LLM transcripts match (runs before transcripts were kept have none)")
    for c in calls:
        where = f"iteration {c.iteration} · {c.node}" + (f" · {c.skill}" if c.skill else "")
        status = "ok" if c.ok else "FAILED"
        console.rule(f"[bold]{escape(where)}[/] — {escape(c.model)} {escape(c.purpose)} ({status}, call {c.call_id})")
        for m in c.messages:
            console.print(Panel(escape(m.content), title=m.role, title_align="left", expand=True))
        console.print(Panel(escape(c.response), title="response", title_align="left", border_style="green"))
