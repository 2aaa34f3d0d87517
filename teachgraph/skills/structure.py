"""Group questions by their structure: the wording that stays when the numbers change.

Generated tasks phrase every instance of a skill through a few fixed frames ("Find the Greatest
Common Divisor (GCD) of these numbers: 12, 18 ..."), so the words of a question without its
numbers, operators and one-letter variables (its *frame*) say which kind of question it is far
more reliably than a small model reading the questions one by one. Questions with the same frame
form one group; when there are more frames than the caller can use, frames are merged
agglomeratively by word overlap. No model is involved: the grouping is deterministic, so the same
questions always fall into the same groups, which is what keeps induced skills stable across
iterations. Word problems (GSM8K) have a frame per question; the grouping then degrades to word
overlap, which is weak, and an LLM-only method suits them better.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

# Words of two letters or more: numbers, operators, punctuation and one-letter variables
# (the "x" of "Solve for x: 3*x = 12") are what changes between instances of one frame.
_WORD = re.compile(r"[^\W\d_]{2,}")


def question_frame(question: str) -> str:
    """The frame of a question: its lower-cased words of two letters or more, in order."""
    return " ".join(_WORD.findall(question.casefold()))


def frame_similarity(a: str, b: str) -> float:
    """Jaccard overlap of two frames' word sets (1.0 for identical frames, 0.0 for disjoint)."""
    wa, wb = set(a.split()), set(b.split())
    if not wa and not wb:
        return 1.0
    return len(wa & wb) / len(wa | wb)


def group_frames(frames: Sequence[str], max_groups: int) -> list[int]:
    """Group index per frame: identical frames share a group; at most ``max_groups`` groups.

    When there are more distinct frames than ``max_groups``, the most similar frames are merged
    (average-linkage agglomerative clustering on Jaccard distance) until ``max_groups`` remain.
    Group indices follow the order in which each group's first frame appears.
    """
    if max_groups < 1:
        raise ValueError(f"max_groups must be at least 1, got {max_groups}")
    distinct = list(dict.fromkeys(frames))
    if len(distinct) <= max_groups:
        label_of = {f: i for i, f in enumerate(distinct)}
    else:
        from sklearn.cluster import AgglomerativeClustering

        n = len(distinct)
        distance = np.array([[1.0 - frame_similarity(a, b) for b in distinct] for a in distinct])
        labels = AgglomerativeClustering(n_clusters=max_groups, metric="precomputed", linkage="average").fit_predict(
            distance
        )
        # Renumber by first appearance so results do not depend on sklearn's label order.
        order = {lab: k for k, lab in enumerate(dict.fromkeys(int(x) for x in labels))}
        label_of = {distinct[i]: order[int(labels[i])] for i in range(n)}
    return [label_of[f] for f in frames]


def nearest_frame(frame: str, known: Sequence[str]) -> tuple[int, float]:
    """Index of the known frame most similar to ``frame``, and that similarity (``(-1, 0.0)`` if none)."""
    best, score = -1, 0.0
    for i, other in enumerate(known):
        s = frame_similarity(frame, other)
        if s > score:
            best, score = i, s
    return best, score
