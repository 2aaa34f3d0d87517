"""Chat messages as text: one message, a whole conversation, and a rough token count.

Every place that needs a message's text (the scripted model's hashes, the local runtime's
prompts, structured output's raw reply, transcripts, trace hashes) reads it through
:func:`message_text`, so multimodal content is handled one way everywhere.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from langchain_core.messages import BaseMessage

__all__ = ["estimate_tokens", "message_text", "prompt_text"]


def message_text(message: BaseMessage) -> str:
    """The text of a message: string content as is; of content blocks, the text blocks' text, and
    other blocks (images, ...) as JSON markers rather than silence, one block a line."""
    content = message.content
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        else:
            parts.append(json.dumps(block, sort_keys=True, default=str))
    return "\n".join(parts)


def prompt_text(messages: Sequence[BaseMessage]) -> str:
    """Canonical text of a conversation (role + content per message): what ``hash`` mode hashes."""
    return "\n".join(f"{m.type}: {message_text(m)}" for m in messages)


def estimate_tokens(text: str) -> int:
    """Rough token count (~4 characters per token) for models that report no usage."""
    return math.ceil(len(text) / 4) if text else 0
