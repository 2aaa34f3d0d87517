"""The mix of a skill's answers, when they repeat: how often each value may fill a quota.

Some tasks answer from a small set of values (a GCD, yes/no, a choice letter), and *how often*
each value comes up is part of the task. A generator with uniform random numbers gets that mix
wrong in ways a student learns: measured, uniform GCD pairs answer 1 in about 60% of draws, the
task's generator (which picks pairs sharing a factor) in 16%, and 2 in 33%; a student taught
the generator's mix learned to answer 1. When the answers the teacher sees repeat, drawing
keeps each value near its share of them: a value may fill at most ``SLACK`` times its
(smoothed) share of a quota, and values never seen together at most ``UNSEEN`` of it.
When the answers hardly repeat (sums, products, LCMs) there is no mix to follow, and only the
generic cap on any one answer applies (``programs.max_answer_share``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["AnswerMix"]

#: Fewest shown answers a mix is read from.
MIN_ANSWERS = 8
#: The answers repeat when there are at most this share as many distinct values as answers.
REPEATING_SHARE = 1 / 3
#: A value may fill this many times its share of a quota (draws vary around the mix).
SLACK = 1.25
#: Share of a quota that values never shown may fill together.
UNSEEN = 0.1


@dataclass(frozen=True)
class AnswerMix:
    """Each shown answer value's share, or nothing to follow (``shares`` empty)."""

    shares: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, answers: Iterable[str]) -> AnswerMix:
        """The mix of ``answers`` when they repeat (see the module docstring), else an empty one."""
        counts = Counter(" ".join(a.split()) for a in answers if a.strip())
        n = sum(counts.values())
        if n < MIN_ANSWERS or len(counts) > n * REPEATING_SHARE:
            return cls()
        return cls({value: count / n for value, count in counts.items()})

    @property
    def followed(self) -> bool:
        """Whether there is a mix to follow."""
        return bool(self.shares)

    def cap(self, answer: str, quota: int) -> int:
        """Most of a ``quota`` that ``answer`` may fill on its own (values never shown: the
        whole unseen allowance, which :meth:`unseen_cap` bounds together)."""
        share = self.shares.get(" ".join(answer.split()))
        if share is None:
            return self.unseen_cap(quota)
        return max(1, math.ceil(SLACK * share * quota))

    def unseen_cap(self, quota: int) -> int:
        """Most of a ``quota`` that values never shown may fill together."""
        return max(1, math.ceil(UNSEEN * quota))

    def seen(self, answer: str) -> bool:
        return " ".join(answer.split()) in self.shares
