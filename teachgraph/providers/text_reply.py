"""Replies a model writes as plain text (code in fenced blocks), never under a JSON grammar.

Code inside a JSON string is fragile where the provider constrains generation with a grammar:
llama.cpp's JSON grammar forbids a raw newline inside a string, and Qwen2.5-Coder writes the end
of a line such as ``x = '+'`` with a token that holds the quote *and* the newline. The grammar
masks that token, the model's next choice is the escaped ``\\n`` alone, and the closing quote is
lost: measured on the program engine benchmark, every generator the 1.5B teacher wrote failed
with "unterminated string literal". Asked for a fenced ``python`` block without a grammar, the
same model writes the quote.

A :class:`TextReply` schema is answered by :func:`teachgraph.providers.structured_call` with a
plain completion, parsed by :meth:`TextReply.from_text`; a reply that does not parse is re-asked
with the error, as for JSON schemas.
"""

from __future__ import annotations

import json
import re
from typing import ClassVar, Self

from pydantic import BaseModel

_CODE_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


class TextReply(BaseModel):
    """A pydantic reply parsed from free text by :meth:`from_text` (subclasses implement it).

    ``reply_format`` is appended to the prompt (say what the text must look like); it is also
    what a re-ask repeats after an unusable reply.
    """

    reply_format: ClassVar[str] = ""

    @classmethod
    def from_text(cls, text: str) -> Self:
        """Parse a reply; raise ``ValueError`` (or pydantic's ``ValidationError``) saying what is wrong."""
        raise NotImplementedError


def code_blocks(text: str, languages: tuple[str, ...] = ("python", "py", "python3", "")) -> list[str]:
    """The bodies of the fenced code blocks in ``text`` tagged with one of ``languages``, in order.

    A block left open at the end of the reply (cut off at max_tokens) counts: the program may
    still be whole, and if it is not, running it says so.
    """
    return [body.strip("\n") for tag, body in _CODE_FENCE_RE.findall(text) if tag.lower() in languages and body.strip()]


def json_field(text: str, name: str) -> object | None:
    """``name`` of the JSON object that is the whole of ``text`` (replies of JSON-era scripts), or None."""
    try:
        data = json.loads(text.strip(), strict=False)
    except (json.JSONDecodeError, ValueError):
        return None
    return data.get(name) if isinstance(data, dict) else None
