"""Building a LangChain chat result for teachgraph's own chat models (local, scripted)."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult


def chat_result(text: str, input_tokens: int, output_tokens: int, **response_metadata: Any) -> ChatResult:
    """One AI message with token usage, the shape LangChain's usage tracking reads."""
    message = AIMessage(
        content=text,
        usage_metadata={
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        },
        response_metadata=response_metadata,
    )
    return ChatResult(generations=[ChatGeneration(message=message)])
