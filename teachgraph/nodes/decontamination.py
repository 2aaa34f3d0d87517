"""Near-copy detection: normalised questions, exact duplicates, and n-gram overlap with eval data."""

from __future__ import annotations

from collections.abc import Iterable

from teachgraph.text import question_key as question_key  # re-exported: the nodes' old import path
from teachgraph.text import tokens


class NgramIndex:
    """n-grams of evaluation questions, to flag written examples that copy them.

    A candidate is contaminated by an eval question when it contains at least ``threshold`` of
    that question's n-grams *and* that question's numbers, in their order and side by side. Numbers matter because
    templated questions share almost all their n-grams: "Find the LCM of these numbers: 9, 4"
    held 75% of the 8-grams of the test item "... 9, 6", so every question a correct LCM
    generator drew was flagged (measured on the program engine benchmark). A different number
    is a different problem; a copy keeps the numbers. So is a reordering: "4 - 7 - 2" is not a copy
    of "4 - 2 - 7", nor "7 - 6 - 0" of "7 - 0"; counting numbers as a set flagged 30% of a one-digit
    chain-sum generator's draws. Eval questions shorter than ``n`` tokens count as one n-gram (the
    whole question), so short items are caught when copied verbatim inside a candidate.
    """

    def __init__(self, items: Iterable[tuple[str, str]], *, n: int = 8, threshold: float = 0.5) -> None:
        self.n, self.threshold = n, threshold
        self._grams: dict[tuple[str, ...], set[str]] = {}
        self._count: dict[str, int] = {}
        self._numbers: dict[str, tuple[str, ...]] = {}
        for item_id, text in items:
            toks = tokens(text)
            grams = self._ngrams(toks)
            self._count[item_id] = len(grams)
            self._numbers[item_id] = _numbers(toks)
            for g in grams:
                self._grams.setdefault(g, set()).add(item_id)
        self._short_lengths = sorted({len(g) for g in self._grams if len(g) < n})

    def _ngrams(self, toks: list[str]) -> set[tuple[str, ...]]:
        if not toks:
            return set()
        if len(toks) < self.n:
            return {tuple(toks)}
        return {tuple(toks[i : i + self.n]) for i in range(len(toks) - self.n + 1)}

    def match(self, text: str) -> tuple[str, float] | None:
        """The most-overlapped eval item id and its overlap share, if above the threshold."""
        toks = tokens(text)
        hits: dict[str, int] = {}
        grams = {tuple(toks[i : i + self.n]) for i in range(max(len(toks) - self.n + 1, 0))}
        # Short eval questions are single n-grams of their own length: look for them as sub-sequences.
        for length in self._short_lengths:
            grams |= {tuple(toks[i : i + length]) for i in range(max(len(toks) - length + 1, 0))}
        for g in grams:
            for item_id in self._grams.get(g, ()):
                hits[item_id] = hits.get(item_id, 0) + 1
        numbers = _numbers(toks)
        copied = [
            (item_id, count / self._count[item_id])
            for item_id, count in hits.items()
            if count / self._count[item_id] >= self.threshold and _in_order(self._numbers[item_id], numbers)
        ]
        return max(copied, key=lambda hit: hit[1], default=None)


def _numbers(toks: list[str]) -> tuple[str, ...]:
    return tuple(t for t in toks if t[0].isdigit())


def _in_order(needle: tuple[str, ...], haystack: tuple[str, ...]) -> bool:
    """Whether ``needle``'s numbers occur in ``haystack`` as one run, in the same order."""
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))
