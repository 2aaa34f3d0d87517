"""Sampling answerable questions of one family for a scene, with balanced yes/no answers.

Referring expressions are built from a target object (a random subset of its attributes, plus a
relation to an anchor that is itself uniquely described), so that most expressions denote
something; questions whose answer is not well defined (:class:`Unanswerable`), and questions
whose wording reads two ways (:func:`~.parsing.parse_question`: "Is the circle left of the square
above the triangle?" at relation depth 2), are resampled.
"""

from __future__ import annotations

import itertools
import random

from teachgraph.tasks.vqa.parsing import QuestionNotUnderstood, parse_question
from teachgraph.tasks.vqa.programs import (
    RELATIONS,
    Family,
    ObjectSet,
    SceneQuestion,
    Unanswerable,
    answer,
    holds,
    question_text,
    select,
)
from teachgraph.tasks.vqa.scene import COLORS, SHAPES, SIZES, Scene

__all__ = ["sample_question"]

_ATTRIBUTES = ("color", "shape", "size")
_VALUES = {"color": COLORS, "shape": SHAPES, "size": SIZES}
_YES_NO_FAMILIES = ("exist", "compare_count", "spatial", "and_or")


def _subsets(rng: random.Random, allowed: list[str], *, allow_empty: bool) -> list[tuple[str, ...]]:
    """Attribute subsets, smaller ones first (short descriptions), shuffled within a size."""
    out: list[tuple[str, ...]] = []
    for n in range(0 if allow_empty else 1, len(allowed) + 1):
        group = list(itertools.combinations(allowed, n))
        rng.shuffle(group)
        out.extend(group)
    return out


def _describe(
    rng: random.Random,
    scene: Scene,
    target: int,
    depth: int,
    *,
    unique: bool,
    exclude: str | None = None,
    allow_empty: bool = False,
) -> ObjectSet | None:
    """An expression of relation depth ``depth`` that includes object ``target`` (only it if ``unique``)."""
    obj = scene.objects[target]
    relation, anchor = None, None
    if depth > 0:
        pairs = [
            (rel, a)
            for a in range(len(scene.objects))
            if a != target
            for rel in RELATIONS
            if holds(rel, obj, scene.objects[a])
        ]
        if not pairs:
            return None
        relation, a = rng.choice(pairs)
        anchor = _describe(rng, scene, a, depth - 1, unique=True)
        if anchor is None:
            return None
    allowed = [k for k in _ATTRIBUTES if k != exclude]
    for subset in _subsets(rng, allowed, allow_empty=allow_empty or anchor is not None):
        ref = ObjectSet(**{k: getattr(obj, k) for k in subset}, relation=relation, anchor=anchor)
        try:
            found = select(scene, ref)
        except Unanswerable:
            continue
        if found == [target] or (not unique and target in found):
            return ref
    return None


def _random_set(rng: random.Random, scene: Scene, depth: int) -> ObjectSet | None:
    """An expression from random attribute values: often denotes nothing (for "no" answers)."""
    attrs = rng.sample(_ATTRIBUTES, rng.randint(1, 2))
    values = {k: rng.choice(_VALUES[k]) for k in attrs}
    if depth == 0:
        return ObjectSet(**values)
    a = rng.randrange(len(scene.objects))
    anchor = _describe(rng, scene, a, depth - 1, unique=True)
    return None if anchor is None else ObjectSet(**values, relation=rng.choice(RELATIONS), anchor=anchor)


def _some_set(rng: random.Random, scene: Scene, depth: int) -> ObjectSet | None:
    """Half the time an expression built from an object of the scene, else from random values."""
    if rng.random() < 0.5:
        return _describe(rng, scene, rng.randrange(len(scene.objects)), depth, unique=False)
    return _random_set(rng, scene, depth)


def _candidate(rng: random.Random, scene: Scene, family: Family, max_depth: int) -> SceneQuestion | None:
    depth = rng.randint(0, max_depth)
    n = len(scene.objects)
    if family in ("exist", "count"):
        ref = _some_set(rng, scene, depth)
        if family == "count" and ref is not None and ref.anchor is None and rng.random() < 0.15:
            ref = ObjectSet()  # "How many shapes are there?"
        return None if ref is None else SceneQuestion(family=family, subject=ref)
    if family in ("query_color", "query_shape", "query_size"):
        attr = family.removeprefix("query_")
        ref = _describe(rng, scene, rng.randrange(n), depth, unique=True, exclude=attr, allow_empty=True)
        return None if ref is None else SceneQuestion(family=family, subject=ref)
    if family == "spatial":
        if n < 2:
            return None
        a, b = rng.sample(range(n), 2)
        relations = [r for r in RELATIONS if holds(r, scene.objects[a], scene.objects[b]) is not None]
        if not relations:
            return None
        inner = max(0, max_depth - 1)
        subject = _describe(rng, scene, a, rng.randint(0, inner), unique=True)
        other = _describe(rng, scene, b, rng.randint(0, inner), unique=True)
        if subject is None or other is None:
            return None
        return SceneQuestion(family=family, subject=subject, other=other, relation=rng.choice(relations))
    first, second = _some_set(rng, scene, depth), _some_set(rng, scene, 0)
    if first is None or second is None or first == second:
        return None
    if family == "compare_count":
        return SceneQuestion(family=family, subject=first, other=second)
    return SceneQuestion(family=family, subject=first, other=second, connective=rng.choice(("and", "or")))


def sample_question(
    rng: random.Random, scene: Scene, family: Family, max_depth: int, *, attempts: int = 60
) -> tuple[SceneQuestion, str] | None:
    """A question of ``family`` (relation depth at most ``max_depth``) and its answer on ``scene``.

    Yes/no families aim at a "yes" or "no" drawn first, so the answers are balanced; ``None``
    when no fitting question turned up in ``attempts`` tries (the caller draws another scene).
    """
    wanted = rng.choice(("yes", "no")) if family in _YES_NO_FAMILIES else None
    for _ in range(attempts):
        question = _candidate(rng, scene, family, max_depth)
        if question is None or question.relation_depth > max_depth:
            continue
        try:
            reply = answer(scene, question)
            if question.relation_depth > 1 and parse_question(question_text(question)) != question:
                continue  # the words say something else than the program (only deep relations can)
        except (Unanswerable, QuestionNotUnderstood):
            continue
        if wanted is None or reply == wanted:
            return question, reply
    return None
