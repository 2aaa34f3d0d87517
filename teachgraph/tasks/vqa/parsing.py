"""Reading a question back into its program: the inverse of :func:`~.programs.question_text`.

A teacher's generator writes questions as text; their answers must come from the scene graph,
never from the model. So the text is parsed into a :class:`~.programs.SceneQuestion` (the
grammar :func:`~.programs.question_text` writes, with case, spacing, ``an``/``a``, ``colour``
and the order of size and colour words tolerated) and answered by
:func:`~.programs.answer`. A question outside the grammar, or one the grammar reads in two ways
("Is the circle left of the square above the triangle?": which object is above?), is refused
with :class:`QuestionNotUnderstood`.
"""

from __future__ import annotations

import re
from typing import get_args

from teachgraph.tasks.vqa.programs import RELATIONS, ObjectSet, Relation, SceneQuestion
from teachgraph.tasks.vqa.scene import COLORS, SIZES, Color, Shape, Size

__all__ = ["QuestionNotUnderstood", "parse_question"]

FORMS = (
    '"Is there a <thing>?", "How many <things> are there?", "What color|shape|size is the <thing>?", '
    '"Are there more <things> than <things>?", "Is the <thing> to the left of|to the right of|above|below '
    'the <thing>?", "Is there a <thing> and|or a <thing>?"; a <thing> is [small|large] [colour] '
    "circle|rectangle|triangle|shape, optionally followed by a relation to another: "
    '"to the left of the blue square"'
)

_RELATION_WORDS: dict[Relation, list[tuple[str, ...]]] = {
    "left_of": [("to", "the", "left", "of"), ("left", "of")],
    "right_of": [("to", "the", "right", "of"), ("right", "of")],
    "above": [("above",)],
    "below": [("below",)],
}
assert set(_RELATION_WORDS) == set(RELATIONS)
_NOUNS: dict[str, Shape | None] = {"shape": None, "object": None, "square": "rectangle"}
_NOUNS |= {s: s for s in get_args(Shape)}
_PLURAL_NOUNS = {f"{word}s": shape for word, shape in _NOUNS.items()}
_TOKEN = re.compile(r"[a-z]+")
_ATTRIBUTES = ("color", "shape", "size")


class QuestionNotUnderstood(ValueError):
    """The text is not a question of the task's forms, or it can be read in more than one way."""


def _tokens(text: str) -> list[str]:
    words = _TOKEN.findall(text.lower().replace("colour", "color"))
    return ["a" if w == "an" else w for w in words]


def _phrases(toks: list[str], i: int, *, plural: bool) -> list[tuple[ObjectSet, int]]:
    """Every noun phrase starting at ``toks[i]``, with the index after it (short ones first)."""
    size: Size | None = None
    color: Color | None = None
    j = i
    while j < len(toks) and ((toks[j] in SIZES and size is None) or (toks[j] in COLORS and color is None)):
        if toks[j] in SIZES:
            size = toks[j]  # type: ignore[assignment]
        else:
            color = toks[j]  # type: ignore[assignment]
        j += 1
    nouns = _PLURAL_NOUNS if plural else _NOUNS
    if j >= len(toks) or toks[j] not in nouns:
        return []
    plain = ObjectSet(color=color, shape=nouns[toks[j]], size=size)
    j += 1
    out = [(plain, j)]
    for relation, start in _relation_at(toks, j):
        for anchor, k in _phrases(toks, start, plural=False):
            out.append((plain.model_copy(update={"relation": relation, "anchor": anchor}), k))
    return out


def _relation_at(toks: list[str], j: int) -> list[tuple[Relation, int]]:
    """Relations spelled at ``toks[j]`` and followed by ``the``: (relation, index after ``the``)."""
    out = []
    for relation, spellings in _RELATION_WORDS.items():
        for words in spellings:
            end = j + len(words)
            if tuple(toks[j:end]) == words and end < len(toks) and toks[end] == "the":
                out.append((relation, end + 1))
    return out


def _whole(toks: list[str], i: int, *, plural: bool) -> list[ObjectSet]:
    """Noun phrases that run from ``toks[i]`` to the end."""
    return [ref for ref, end in _phrases(toks, i, plural=plural) if end == len(toks)]


def _readings(toks: list[str]) -> list[SceneQuestion]:
    out: list[SceneQuestion] = []
    if toks[:3] == ["is", "there", "a"]:
        for ref, end in _phrases(toks, 3, plural=False):
            if end == len(toks):
                out.append(SceneQuestion(family="exist", subject=ref))
            elif toks[end : end + 2] in (["and", "a"], ["or", "a"]):
                connective = toks[end]
                for other in _whole(toks, end + 2, plural=False):
                    out.append(SceneQuestion(family="and_or", subject=ref, other=other, connective=connective))  # type: ignore[arg-type]
    if toks[:2] == ["how", "many"] and toks[-2:] == ["are", "there"]:
        out += [SceneQuestion(family="count", subject=ref) for ref in _whole(toks[:-2], 2, plural=True)]
    if len(toks) > 4 and toks[0] == "what" and toks[1] in _ATTRIBUTES and toks[2:4] == ["is", "the"]:
        family = f"query_{toks[1]}"
        out += [SceneQuestion(family=family, subject=ref) for ref in _whole(toks, 4, plural=False)]  # type: ignore[arg-type]
    if toks[:3] == ["are", "there", "more"]:
        for ref, end in _phrases(toks, 3, plural=True):
            if end < len(toks) and toks[end] == "than":
                for other in _whole(toks, end + 1, plural=True):
                    out.append(SceneQuestion(family="compare_count", subject=ref, other=other))
    if toks[:2] == ["is", "the"]:
        for ref, end in _phrases(toks, 2, plural=False):
            for relation, start in _relation_at(toks, end):
                for other in _whole(toks, start, plural=False):
                    out.append(SceneQuestion(family="spatial", subject=ref, other=other, relation=relation))
    return out


def parse_question(text: str) -> SceneQuestion:
    """The question program ``text`` asks.

    Raises:
        QuestionNotUnderstood: not one of the forms (:data:`FORMS`), or more than one reading.
    """
    toks = _tokens(text)
    readings = list(dict.fromkeys(_readings(toks))) if toks else []
    if not readings:
        raise QuestionNotUnderstood(f"not a question of the task's forms: {text.strip()[:120]!r} (forms: {FORMS})")
    if len(readings) > 1:
        raise QuestionNotUnderstood(
            f"the question reads more than one way: {text.strip()[:120]!r} (which object does each relation describe?)"
        )
    return readings[0]
