"""Short closed-vocabulary answers: reading one word (or number) out of a reply, canonically.

VQA answers here are one word: ``yes``/``no``, a count, a colour, a shape or a size. A reply is
read as its final answer when it marks one (``Answer: red``), else as a whole; then case,
punctuation, articles and filler words (``"the shape is red."`` → ``red``) are dropped and
synonyms, plurals and number words are mapped (``"Yeah"`` → ``yes``, ``"three"`` → ``3``,
``"grey"`` → ``gray``). What is left must be exactly one word: a hedge such as ``"red or blue"``
or ``"not red"`` is no answer.
"""

from __future__ import annotations

import re

from teachgraph.tasks.answers import extract_answer

__all__ = ["canonical_answer", "reply_answer"]

_NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
_SYNONYMS: dict[str, str] = {
    **{w: str(k) for k, w in enumerate(_NUMBER_WORDS)},
    "none": "0",
    "y": "yes",
    "yeah": "yes",
    "yep": "yes",
    "true": "yes",
    "correct": "yes",
    "n": "no",
    "nope": "no",
    "false": "no",
    "incorrect": "no",
    "grey": "gray",
    "big": "large",
    "huge": "large",
    "little": "small",
    "tiny": "small",
}
# Words that carry no answer: "It is a red shape." reads as "red". "not", "or", "and" are kept,
# so that negations and hedges are not mistaken for answers.
_FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "it",
        "its",
        "is",
        "are",
        "there",
        "this",
        "that",
        "these",
        "those",
        "answer",
        "final",
        "shape",
        "shapes",
        "object",
        "objects",
        "thing",
        "color",
        "colour",
        "size",
        "image",
        "picture",
        "in",
        "of",
        "i",
        "think",
    ]
)
# Plurals we undo ("circles" → "circle"); a plain trailing-s rule would turn "yes" into "ye".
_PLURALS = {"circles": "circle", "rectangles": "rectangle", "triangles": "triangle", "squares": "square"}
_TOKEN_RE = re.compile(r"[a-z]+|\d+(?:\.0+)?")


def canonical_answer(text: str) -> str | None:
    """The one canonical answer word in ``text``, or ``None`` when there is not exactly one."""
    words = []
    for token in _TOKEN_RE.findall(text.lower()):
        if token[0].isdigit():
            token = str(int(float(token)))
        token = _SYNONYMS.get(token, _PLURALS.get(token, token))
        if token not in _FILLER:
            words.append(token)
    return words[0] if len(words) == 1 else None


def reply_answer(reply: str) -> str | None:
    """The answer a reply gives, reduced to one canonical word (:func:`canonical_answer`): the
    final answer the math extractor finds (an ``Answer:`` line, a bare number), else the whole reply."""
    extracted = extract_answer(reply)
    return canonical_answer(reply if extracted is None else extracted)
