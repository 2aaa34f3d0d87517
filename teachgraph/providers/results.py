"""Building LangChain messages and chat results for teachgraph's own chat models (local, scripted)."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult


def ai_message(text: str, input_tokens: int, output_tokens: int, **response_metadata: Any) -> AIMessage:
    """An AI message with token usage, the shape LangChain's usage tracking reads."""
    return AIMessage(
        content=text,
        usage_metadata={
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        },
        response_metadata=response_metadata,
    )


def chat_result(text: str, input_tokens: int, output_tokens: int, **response_metadata: Any) -> ChatResult:
    """A chat result holding one :func:`ai_message`."""
    return ChatResult(
        generations=[ChatGeneration(message=ai_message(text, input_tokens, output_tokens, **response_metadata))]
    )
