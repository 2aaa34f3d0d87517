"""The shape-scene side of the program engine: what a teacher's scene generator returns, how its
items become examples, what counts as a copy of an eval scene, and how prompts look to the teacher.

A generator for ``shape_scenes`` returns ``{"objects": [...], "question": "..."}``: a scene graph
and a question in the family's words; the writer starts from a complete one that asks the shown
questions' forms (:mod:`.skeleton`). :func:`item_from_draw` validates the scene (objects inside
the 128 px canvas, never overlapping), renders it and reads the objects back off the pixels
(:mod:`.pixels`: the picture must show exactly the objects the graph claims), parses the question
into its program (:mod:`.parsing`), checks it belongs to the skill's family and computes the
answer from the scene graph (:func:`~.programs.answer`). The model's own answer, if it gives one,
is never used. :class:`SceneIndex` flags a scene that copies a validation or test scene (the same
objects, each within a few pixels of its place), the VQA meaning of contamination.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from teachgraph.domain import TaskInstance
from teachgraph.tasks.base import GeneratorGuide, MalformedItem, RefusedItem
from teachgraph.tasks.vqa.images import EasyVQAImage, FileImage, SceneImage, attach_image, split_image
from teachgraph.tasks.vqa.parsing import FORMS, QuestionNotUnderstood, parse_question
from teachgraph.tasks.vqa.pixels import scene_mismatch
from teachgraph.tasks.vqa.programs import FAMILIES, SceneQuestion, Unanswerable, answer, question_text
from teachgraph.tasks.vqa.render import render_scene
from teachgraph.tasks.vqa.scene import CANVAS, COLORS, SHAPES, SIZES, Scene
from teachgraph.tasks.vqa.skeleton import helpers, starting_program

__all__ = ["NEAR_COPY_PX", "SceneIndex", "describe_image", "generator_guide", "item_from_draw", "teacher_text"]

#: A scene whose objects all lie within this many pixels of an eval scene's same objects is a copy.
NEAR_COPY_PX = 8
MAX_OBJECTS = 12
# One question per family for skeletons that have no shown question to follow.
_EXAMPLES: dict[str, str] = {
    "exist": "Is there a small red circle?",
    "count": "How many blue triangles are there?",
    "query_color": "What color is the large circle?",
    "query_shape": "What shape is the green shape to the left of the red circle?",
    "query_size": "What size is the yellow rectangle?",
    "compare_count": "Are there more circles than triangles?",
    "spatial": "Is the red circle to the left of the blue rectangle?",
    "and_or": "Is there a black triangle or a large gray shape?",
}
assert set(_EXAMPLES) == set(FAMILIES)

RETURNS = (
    '{{"objects": objects, "question": question}}: a scene and one question about it. objects is a list of '
    'at most {most} dicts {{"shape": {shapes}, "color": {colors}, "size": {sizes}, "x": ..., "y": ...}} '
    "(x, y: the centre in a {canvas}x{canvas} image; objects must not overlap: add them with place()). "
    "The question uses one of these forms: {forms}. Our code draws the image and computes the answer from "
    "the objects, so return no answer; a question the picture cannot answer (two objects fit "
    '"the red circle") is dropped'
)
START = """These are defined for your program; use them and do not define them yourself:
- SHAPES, COLORS, SIZES: the lists of shapes, colours and sizes; RADIUS: the size of each size
- place(rng, objects, shape, color, size): adds one object to objects where it overlaps no other
- pick(rng, objects): an object of the scene, or half the time any shape, colour and size
- unique(objects, keys, other=None): the objects no other object matches on keys (["color"], ...)
- refers(objects, target, keys, relation, anchor): whether "the <target> <relation> the <anchor>" is target alone

Start from this program, which draws scenes and asks questions like the task's. Change the
scene (how many objects, which shapes, colours and sizes, where) or the questions where the skill
needs it, and write only generate(rng):
```python
{program}
```"""


def _family(skill: str) -> str | None:
    """The question family a skill path belongs to, when its root is one (gold skills are)."""
    root = skill.split("/", 1)[0].strip().lower().replace(" ", "_")
    return root if root in FAMILIES else None


def generator_guide(skill: str, shown: Sequence[TaskInstance]) -> GeneratorGuide:
    """What a scene generator returns, and a program to start from (:mod:`.skeleton`) whose scenes
    have as many objects as the shown ones and whose questions take the shown questions' forms
    (the family's example question when none is shown)."""
    programs: list[SceneQuestion] = []
    counts: list[int] = []
    for inst in shown:
        ref, text = split_image(inst.prompt)
        if isinstance(ref, SceneImage):
            counts.append(len(ref.scene.objects))
            try:
                programs.append(parse_question(text))
            except QuestionNotUnderstood:
                continue  # not one of the forms: nothing to follow
    family = _family(skill)
    if not programs:
        programs = [parse_question(_EXAMPLES[family or "count"])]
    fewest, most = (min(counts), max(counts)) if counts else (3, 6)
    returns = RETURNS.format(
        most=MAX_OBJECTS,
        shapes="|".join(SHAPES),
        colors="|".join(COLORS),
        sizes="|".join(SIZES),
        canvas=CANVAS,
        forms=FORMS,
    )
    # The helpers are described, not shown: shown their code, the 1.5B teacher wrote it all back
    # (700 output tokens, cut off before generate was done).
    start = START.format(program=starting_program(programs, fewest, most))
    return GeneratorGuide(returns=returns, start=start, prelude=helpers())


def _background(objects: list[Any]) -> tuple[int, int, int]:
    """A pale background that follows from the objects (the task's scenes vary theirs too)."""
    digest = hashlib.sha256(repr(objects).encode()).digest()
    return (228 + digest[0] % 24, 228 + digest[1] % 24, 228 + digest[2] % 24)


def item_from_draw(item: Mapping[str, Any], skill: str) -> tuple[str, str]:
    """The instance prompt (scene image first, then the question in the family's words) and the
    answer computed from the scene graph.

    Raises:
        MalformedItem: no ``objects`` list or no ``question`` string.
        RefusedItem: the scene is invalid or does not show its objects, the question is not of the
            family's forms (or of the skill's family), or it has no answer on this scene.
    """
    objects, question = item.get("objects"), item.get("question")
    if not isinstance(objects, list) or not objects:
        raise MalformedItem("no 'objects' list (of object dicts) in the returned dict")
    if not isinstance(question, str) or not question.strip():
        raise MalformedItem("no 'question' string in the returned dict")
    if len(objects) > MAX_OBJECTS:
        raise RefusedItem(f"{len(objects)} objects; at most {MAX_OBJECTS} fit a scene")
    try:
        scene = Scene.model_validate({"objects": objects, "background": _background(objects)})
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RefusedItem(f"invalid scene: {where}: {first['msg']}") from None
    mismatch = scene_mismatch(scene, render_scene(scene))
    if mismatch:
        raise RefusedItem(mismatch)
    try:
        program = parse_question(question)
    except QuestionNotUnderstood as err:
        raise RefusedItem(str(err)) from None
    family = _family(skill)
    if family is not None and program.family != family:
        raise RefusedItem(f"{question.strip()[:80]!r} is a {program.family} question, the skill asks {family}")
    try:
        reply = answer(scene, program)
    except Unanswerable as err:
        raise RefusedItem(f"the picture does not answer {question.strip()[:80]!r}: {err}") from None
    return attach_image(question_text(program), SceneImage(scene=scene)), reply


def describe_image(ref: EasyVQAImage | SceneImage | FileImage) -> str:
    """A short text for a referenced image: a scene's objects with their centres."""
    if isinstance(ref, SceneImage):
        objects = "; ".join(f"{o.size} {o.color} {o.shape} ({o.x},{o.y})" for o in ref.scene.objects)
        return f"[image {CANVAS}x{CANVAS}, {len(ref.scene.objects)} objects: {objects}]"
    if isinstance(ref, EasyVQAImage):
        return f"[image: easy-VQA {ref.split} image {ref.id}]"
    return f"[image: {ref.path.name}]"


def teacher_text(prompt: str) -> str:
    """``prompt`` with its image reference replaced by :func:`describe_image`."""
    ref, text = split_image(prompt)
    return prompt if ref is None else f"{describe_image(ref)} {' '.join(text.split())}"


class SceneIndex:
    """The scenes of eval items, to flag a written scene that copies one.

    A copy has the same objects (shape, colour, size) with every centre within
    :data:`NEAR_COPY_PX` pixels of its counterpart's; the background and the question do not
    matter (the eval items' questions are templates that every honest question repeats).
    """

    def __init__(self, items: Sequence[TaskInstance]) -> None:
        self._by_kinds: dict[tuple[tuple[str, str, str], ...], list[tuple[str, Scene]]] = {}
        for inst in items:
            ref, _ = split_image(inst.prompt)
            if isinstance(ref, SceneImage):
                self._by_kinds.setdefault(_kinds(ref.scene), []).append((inst.id, ref.scene))

    def match(self, text: str) -> tuple[str, float] | None:
        """The id of the eval item whose scene ``text``'s scene copies (share 1.0), or ``None``."""
        try:
            ref, _ = split_image(text)
        except ValueError:
            return None
        if not isinstance(ref, SceneImage):
            return None
        for item_id, scene in self._by_kinds.get(_kinds(ref.scene), []):
            if _near(ref.scene, scene):
                return item_id, 1.0
        return None


def _kinds(scene: Scene) -> tuple[tuple[str, str, str], ...]:
    return tuple(sorted((o.shape, o.color, o.size) for o in scene.objects))


def _near(a: Scene, b: Scene) -> bool:
    """Whether each object of ``a`` can be paired with one of ``b`` of its kind within the margin."""
    groups: dict[tuple[str, str, str], tuple[list[tuple[int, int]], list[tuple[int, int]]]] = {}
    for scene, side in ((a, 0), (b, 1)):
        for o in scene.objects:
            groups.setdefault((o.shape, o.color, o.size), ([], []))[side].append((o.x, o.y))
    for mine, theirs in groups.values():
        if len(mine) > 6:  # 720 pairings at most; more alike objects than that are no scene of ours
            return False
        if not any(
            all(max(abs(p[0] - q[0]), abs(p[1] - q[1])) <= NEAR_COPY_PX for p, q in zip(mine, perm, strict=True))
            for perm in itertools.permutations(theirs)
        ):
            return False
    return True
