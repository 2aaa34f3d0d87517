"""Keys for questions: the tokens two questions are compared by, and a stable key of them.

Shared by the tasks (a train question that repeats a test question is not used) and the
teacher (exact-duplicate and contamination checks, the known questions of an episode).
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["question_key", "tokens"]

# Operators are tokens too: "4 - 5" and "4 + 5" are different questions.
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?|[-+*/^=<>%]")


def tokens(text: str) -> list[str]:
    """Lower-cased word, number and operator tokens (other punctuation and spacing ignored)."""
    return _WORD.findall(text.lower())


def question_key(text: str) -> str:
    """A stable hash of a question's tokens: equal for questions that differ only in case/spacing/punctuation."""
    return hashlib.sha256(" ".join(tokens(text)).encode()).hexdigest()[:24]
