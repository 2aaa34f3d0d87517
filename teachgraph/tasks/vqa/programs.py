"""Question programs over a scene graph: what a question asks, its answer, and its wording.

A question is a small program (:class:`SceneQuestion`) over referring expressions
(:class:`ObjectSet`: attribute filters, optionally related to a uniquely identified anchor
object). :func:`answer` runs it on a :class:`~teachgraph.tasks.vqa.scene.Scene`;
:func:`question_text` words it. A program that cannot be answered from the scene (an anchor that
is not unique, a relation too close to call) raises :class:`Unanswerable`: such questions are
never asked.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict

from teachgraph.tasks.vqa.scene import Color, Scene, SceneObject, Shape, Size

__all__ = [
    "FAMILIES",
    "RELATIONS",
    "RELATION_MARGIN",
    "RELATION_WORDS",
    "Family",
    "ObjectSet",
    "Relation",
    "SceneQuestion",
    "Unanswerable",
    "answer",
    "holds",
    "question_text",
    "select",
]

Relation = Literal["left_of", "right_of", "above", "below"]
RELATIONS: tuple[Relation, ...] = get_args(Relation)
Family = Literal["exist", "count", "query_color", "query_shape", "query_size", "compare_count", "spatial", "and_or"]
FAMILIES: tuple[Family, ...] = get_args(Family)

#: Centres closer than this on a relation's axis make the relation too close to call.
RELATION_MARGIN = 10

#: How a question words each relation (the questions and the starting programs share it).
RELATION_WORDS: dict[Relation, str] = {
    "left_of": "to the left of",
    "right_of": "to the right of",
    "above": "above",
    "below": "below",
}


class Unanswerable(ValueError):
    """The question has no well-defined answer on this scene."""


class ObjectSet(BaseModel):
    """A referring expression: the objects with these attributes (and this relation to the anchor).

    Attributes:
        color: Keep objects of this colour (``None``: any).
        shape: Keep objects of this shape (``None``: any).
        size: Keep objects of this size (``None``: any).
        relation: Keep objects in this relation to ``anchor`` (both or neither are set).
        anchor: An expression that must pick out exactly one object.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    color: Color | None = None
    shape: Shape | None = None
    size: Size | None = None
    relation: Relation | None = None
    anchor: ObjectSet | None = None

    @property
    def depth(self) -> int:
        """Relation depth: 0 for plain attributes, 1 + the anchor's depth otherwise."""
        return 0 if self.anchor is None else 1 + self.anchor.depth

    def matches(self, obj: SceneObject) -> bool:
        """Whether ``obj`` has this expression's attributes (the relation not considered)."""
        return (
            (self.color is None or obj.color == self.color)
            and (self.shape is None or obj.shape == self.shape)
            and (self.size is None or obj.size == self.size)
        )


class SceneQuestion(BaseModel):
    """One question as a program.

    Attributes:
        family: Which question family (the gold skill).
        subject: The objects asked about.
        other: The second set of ``compare_count``, ``spatial`` and ``and_or``.
        relation: The relation ``spatial`` asks about.
        connective: ``and`` / ``or`` for ``and_or``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Family
    subject: ObjectSet
    other: ObjectSet | None = None
    relation: Relation | None = None
    connective: Literal["and", "or"] | None = None

    @property
    def relation_depth(self) -> int:
        """The deepest chain of relations in the question (``spatial`` adds one)."""
        depth = max(self.subject.depth, self.other.depth if self.other else 0)
        return depth + (1 if self.family == "spatial" else 0)


def holds(relation: Relation, obj: SceneObject, anchor: SceneObject) -> bool | None:
    """Whether ``obj`` is in ``relation`` to ``anchor``; ``None`` when too close to call."""
    horizontal = relation in ("left_of", "right_of")
    delta = (obj.x - anchor.x) if horizontal else (obj.y - anchor.y)
    if abs(delta) < RELATION_MARGIN:
        return None
    return delta < 0 if relation in ("left_of", "above") else delta > 0


def select(scene: Scene, ref: ObjectSet) -> list[int]:
    """Indices of the objects ``ref`` denotes.

    Raises:
        Unanswerable: the anchor does not pick out exactly one object, or a candidate is too
            close to the anchor to say whether the relation holds.
    """
    candidates = [k for k, obj in enumerate(scene.objects) if ref.matches(obj)]
    if ref.anchor is None or ref.relation is None:
        if (ref.anchor is None) != (ref.relation is None):
            raise Unanswerable("a relation needs an anchor and an anchor a relation")
        return candidates
    anchor = _unique(scene, ref.anchor)
    kept = []
    for k in candidates:
        if k == anchor:
            continue
        verdict = holds(ref.relation, scene.objects[k], scene.objects[anchor])
        if verdict is None:
            raise Unanswerable(f"object {k} is too close to the anchor to call {ref.relation}")
        if verdict:
            kept.append(k)
    return kept


def _unique(scene: Scene, ref: ObjectSet) -> int:
    found = select(scene, ref)
    if len(found) != 1:
        raise Unanswerable(f"expected exactly one object, found {len(found)}")
    return found[0]


def answer(scene: Scene, question: SceneQuestion) -> str:
    """The answer to ``question`` on ``scene``: ``yes``/``no``, a count, or an attribute word.

    Raises:
        Unanswerable: the question has no well-defined answer on this scene.
    """
    family = question.family
    if family == "exist":
        return _yes_no(bool(select(scene, question.subject)))
    if family == "count":
        return str(len(select(scene, question.subject)))
    if family in ("query_color", "query_shape", "query_size"):
        obj = scene.objects[_unique(scene, question.subject)]
        return str(getattr(obj, family.removeprefix("query_")))
    other = question.other
    if other is None:
        raise Unanswerable(f"a {family} question needs a second object set")
    if family == "compare_count":
        return _yes_no(len(select(scene, question.subject)) > len(select(scene, other)))
    if family == "spatial":
        a, b = _unique(scene, question.subject), _unique(scene, other)
        if a == b or question.relation is None:
            raise Unanswerable("a spatial question relates two different objects")
        verdict = holds(question.relation, scene.objects[a], scene.objects[b])
        if verdict is None:
            raise Unanswerable("the two objects are too close to call")
        return _yes_no(verdict)
    first, second = bool(select(scene, question.subject)), bool(select(scene, other))
    if question.connective == "and":
        return _yes_no(first and second)
    if question.connective == "or":
        return _yes_no(first or second)
    raise Unanswerable("an and_or question needs a connective")


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def noun_phrase(ref: ObjectSet, *, plural: bool = False) -> str:
    """``"small red circles to the left of the blue triangle"`` (no article)."""
    noun = ref.shape or "shape"
    words = [w for w in (ref.size, ref.color) if w] + [noun + ("s" if plural else "")]
    phrase = " ".join(words)
    if ref.anchor is not None and ref.relation is not None:
        phrase += f" {RELATION_WORDS[ref.relation]} the {noun_phrase(ref.anchor)}"
    return phrase


def question_text(question: SceneQuestion) -> str:
    """The question in English, e.g. ``"How many circles are there?"``."""
    s, o = question.subject, question.other
    family = question.family
    if family == "exist":
        return f"Is there a {noun_phrase(s)}?"
    if family == "count":
        return f"How many {noun_phrase(s, plural=True)} are there?"
    if family in ("query_color", "query_shape", "query_size"):
        return f"What {family.removeprefix('query_')} is the {noun_phrase(s)}?"
    if o is None:
        raise ValueError(f"a {family} question needs a second object set")
    if family == "compare_count":
        return f"Are there more {noun_phrase(s, plural=True)} than {noun_phrase(o, plural=True)}?"
    if family == "spatial":
        if question.relation is None:
            raise ValueError("a spatial question needs a relation")
        return f"Is the {noun_phrase(s)} {RELATION_WORDS[question.relation]} the {noun_phrase(o)}?"
    return f"Is there a {noun_phrase(s)} {question.connective} a {noun_phrase(o)}?"
