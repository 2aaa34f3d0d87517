"""Question forms: how a templated task words its questions, and whether a new question fits.

Many tasks ask one template with different numbers ("Find the LCM of these numbers: 8, 2").
A generator written by a small model drifts from the template as it "explores": measured, a
subskill "LCM of three numbers" drew ``lcm(a, b, c)`` where the task asks two numbers, and its
skill fell from 23% to 8% on the test. A question's *frame* is its text with every integer
written ``N`` and every arithmetic operator written ``∘``, so "Calculate 6 - 1 + 2." and
"Calculate 3 * 2 * 8." share a frame and "… 8, 2, 5" does not share "… 8, 2"'s. A skill whose
questions fall into few frames is templated, and a question outside its frames is off-task.
On free-form tasks (GSM8K: every question its own frame) nothing is ever off-task.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["INTEGER", "TaskFrames", "form", "frame"]

#: An integer standing alone (not part of a decimal, a word or an identifier).
INTEGER = re.compile(r"(?<![\w.])\d{1,6}(?![\w.]*\d)")
_OPERATOR = re.compile(r"\s*(?:\*\*|[-+*/×÷])\s*")
#: A skill is templated when its questions fall into at most this share as many frames.
TEMPLATED_SHARE = 1 / 3
#: Fewest questions from which a skill's frames are trusted.
MIN_QUESTIONS = 4


def form(question: str) -> str:
    """``question`` with whitespace normalised and every integer written ``N`` (operators kept)."""
    return INTEGER.sub("N", " ".join(question.split()))


def frame(question: str) -> str:
    """:func:`form` with every arithmetic operator written ``∘`` as well."""
    return _OPERATOR.sub(" ∘ ", form(question)).strip()


@dataclass(frozen=True)
class TaskFrames:
    """The frames of a skill's questions, and whether they are few enough to hold new ones to."""

    frames: frozenset[str]
    templated: bool

    @classmethod
    def of(cls, questions: Iterable[str]) -> TaskFrames:
        """The frames of ``questions`` (templated when there are at least ``MIN_QUESTIONS`` of them
        and at most ``TEMPLATED_SHARE`` as many frames as questions)."""
        shown = [q for q in questions if q.strip()]
        frames = frozenset(frame(q) for q in shown)
        templated = len(shown) >= MIN_QUESTIONS and len(frames) <= len(shown) * TEMPLATED_SHARE
        return cls(frames, templated)

    def on_task(self, question: str) -> bool:
        """Whether ``question`` is worded like the skill's questions (always, when not templated)."""
        return not self.templated or frame(question) in self.frames

    def off_task(self, questions: Sequence[str]) -> list[str]:
        """The questions of ``questions`` that are not worded like the skill's."""
        return [q for q in questions if not self.on_task(q)]

    def describe(self, limit: int = 3) -> str:
        """The frames as the teacher is shown them (``N`` a number, ``∘`` an operator)."""
        return "; ".join(repr(f[:160]) for f in sorted(self.frames)[:limit])
