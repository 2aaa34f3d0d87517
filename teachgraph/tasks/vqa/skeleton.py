"""The scene generator a teacher's writer starts from: the shown questions' forms as f-strings.

The arithmetic engine shows a 1.5B coder the task's own questions with their numbers turned into
variables, because such a model copies whatever program it is shown. The same holds for scenes:
shown a program ending in ``question = ...``, the local teacher left the line as it was or wrote
one constant question (measured: 17 of 20 draws refused). So the question is written for it, in
the forms of the questions shown (the student's failures first): each attribute word becomes the
attribute of an object the program draws, kept where the shown question names one, so
"How many black shapes are there?" becomes ``f"How many {thing['color']} shapes are there?"``.
Several forms become branches chosen by ``rng`` (one form per generator taught one pattern per
skill in arithmetic). Objects asked about by existence or number are drawn from the scene only
half the time (``pick``), or every answer would be "yes" or at least 1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from teachgraph.tasks.vqa.programs import RELATION_MARGIN, RELATION_WORDS, ObjectSet, Relation, SceneQuestion
from teachgraph.tasks.vqa.scene import CANVAS, COLORS, OBJECT_GAP, RADIUS, SHAPES, SIZES

__all__ = ["MAX_FORMS", "helpers", "starting_program"]

#: Most question forms one starting program asks (each a branch).
MAX_FORMS = 3
# When subject ``s`` is in this relation to anchor ``a`` (centres RELATION_MARGIN apart on the axis).
_HOLDS: dict[Relation, str] = {
    "left_of": "{a}['x'] - {s}['x'] >= " + str(RELATION_MARGIN),
    "right_of": "{s}['x'] - {a}['x'] >= " + str(RELATION_MARGIN),
    "above": "{a}['y'] - {s}['y'] >= " + str(RELATION_MARGIN),
    "below": "{s}['y'] - {a}['y'] >= " + str(RELATION_MARGIN),
}
HELPERS = """SHAPES = {shapes}
COLORS = {colors}
SIZES = {sizes}
RADIUS = {radius}


def place(rng, objects, shape, color, size):
    \"\"\"Add an object where it overlaps no other and stays inside the image; None if none fits.\"\"\"
    r = RADIUS[size]
    for _ in range(200):
        x, y = rng.randint(r, {last} - r), rng.randint(r, {last} - r)
        if all((x - o["x"]) ** 2 + (y - o["y"]) ** 2 >= (r + RADIUS[o["size"]] + {gap}) ** 2 for o in objects):
            objects.append({{"shape": shape, "color": color, "size": size, "x": x, "y": y}})
            return objects[-1]
    return None


def unique(objects, keys, other=None):
    \"\"\"The objects (but ``other``) that no other object matches on ``keys``: "the red shape" must be one.\"\"\"
    return [o for o in objects if o is not other and sum(all(p[k] == o[k] for k in keys) for p in objects) == 1]


def refers(objects, target, keys, relation, anchor):
    \"\"\"Whether "the <target's keys> <relation> the <anchor>" is target alone (none too close to call).\"\"\"
    found = []
    for p in objects:
        if p is anchor or any(p[k] != target[k] for k in keys):
            continue
        d = p["x"] - anchor["x"] if relation in ("left_of", "right_of") else p["y"] - anchor["y"]
        if abs(d) < {margin}:
            return False
        if (d < 0) == (relation in ("left_of", "above")):
            found.append(p)
    return found == [target]


def pick(rng, objects):
    \"\"\"An object of the scene, or half the time any shape, colour and size (which the scene may lack).\"\"\"
    if rng.random() < 0.5:
        return rng.choice(objects)
    return {{"shape": rng.choice(SHAPES), "color": rng.choice(COLORS), "size": rng.choice(SIZES)}}
"""
GENERATE = """def generate(rng):
    objects = []
    for _ in range(rng.randint({fewest}, {most})):
        place(rng, objects, rng.choice(SHAPES), rng.choice(COLORS), rng.choice(SIZES))
{body}
    return {{"objects": objects, "question": question}}"""


class _Names:
    """Fresh variable names for the objects one question form draws."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"o{self.count}"


def _phrase(ref: ObjectSet, var: str, *, plural: bool, placed: bool, names: Callable[[], str], lines: list[str]) -> str:
    """f-string text for ``ref``'s words, taking attribute values from object ``var`` (``placed``:
    an object of the scene, whose anchor is then chosen so that the relation holds for it)."""
    words = [f"{{{var}['{attr}']}}" for attr in ("size", "color") if getattr(ref, attr) is not None]
    noun = f"{{{var}['shape']}}" if ref.shape is not None else "shape"
    text = " ".join([*words, noun + ("s" if plural else "")])
    if ref.anchor is not None and ref.relation is not None:
        anchor = names()
        condition = f" if {_HOLDS[ref.relation].format(a='o', s=var)}" if placed else ""
        candidates = f"[o for o in unique(objects, {_keys(ref.anchor)!r}, {var}){condition}]"
        lines.append(f"{anchor} = rng.choice({candidates} or objects)")
        phrase = _phrase(ref.anchor, anchor, plural=False, placed=True, names=names, lines=lines)
        text += f" {RELATION_WORDS[ref.relation]} the {phrase}"
    return text


def _keys(ref: ObjectSet) -> list[str]:
    """The attributes a phrase names (its noun names the shape when it is not "shape")."""
    return [attr for attr in ("shape", "color", "size") if getattr(ref, attr) is not None]


def _form(question: SceneQuestion) -> list[str]:
    """Lines that draw the objects of one question form and set ``question``."""
    names, lines = _Names(), []

    def thing(ref: ObjectSet, *, plural: bool = False, in_scene: bool = False, besides: str = "None") -> str:
        var = names()
        if not in_scene:
            lines.append(f"{var} = pick(rng, objects)")
            return _phrase(ref, var, plural=plural, placed=False, names=names, lines=lines)
        if ref.anchor is None or ref.relation is None:  # "the red circle" must be one object
            lines.append(f"{var} = rng.choice(unique(objects, {_keys(ref)!r}, {besides}) or objects)")
            return _phrase(ref, var, plural=plural, placed=True, names=names, lines=lines)
        # "the red circle left of the square" must be one object too: draw until it is.
        inner = [f"{var} = rng.choice(objects)"]
        text = _phrase(ref, var, plural=plural, placed=True, names=names, lines=inner)
        anchor = inner[1].split(" = ", 1)[0]
        lines.append("for _ in range(20):")
        lines.extend(f"    {line}" for line in inner)
        lines.extend([f"    if refers(objects, {var}, {_keys(ref)!r}, {ref.relation!r}, {anchor}):", "        break"])
        return text

    family, s, o = question.family, question.subject, question.other
    if family == "exist":
        text = f"Is there a {thing(s)}?"
    elif family == "count":
        text = f"How many {thing(s, plural=True)} are there?"
    elif family in ("query_color", "query_shape", "query_size"):
        text = f"What {family.removeprefix('query_')} is the {thing(s, in_scene=True)}?"
    elif family == "compare_count" and o is not None:
        text = f"Are there more {thing(s, plural=True)} than {thing(o, plural=True)}?"
    elif family == "spatial" and o is not None:
        first = thing(s, in_scene=True)
        lines.append('relation = rng.choice(["to the left of", "to the right of", "above", "below"])')
        text = f"Is the {first} {{relation}} the {thing(o, in_scene=True, besides='o1')}?"
    elif family == "and_or" and o is not None:
        text = f"Is there a {thing(s)} {question.connective} a {thing(o)}?"
    else:
        raise ValueError(f"a {family} question needs a second object set")
    return [*lines, f'question = f"{text}"']


def helpers() -> str:
    """The vocabulary and helper functions every scene generator runs with. The engine appends
    them to the model's program, so they win over the model's own: shown them, the 1.5B teacher
    wrote them all back (700 output tokens, cut off inside ``generate``); told of them, it wrote
    its own, wrongly (a ``place`` that never returned)."""
    return HELPERS.format(
        shapes=list(SHAPES),
        colors=list(COLORS),
        sizes=list(SIZES),
        radius=dict(RADIUS),
        last=CANVAS - 1,
        gap=OBJECT_GAP,
        margin=RELATION_MARGIN,
    )


def starting_program(shown: Sequence[SceneQuestion], fewest: int, most: int) -> str:
    """A complete ``generate(rng)`` (using :func:`helpers`) asking the forms of ``shown`` (first
    ones first, up to :data:`MAX_FORMS`) about scenes of ``fewest``..``most`` objects."""
    forms: list[list[str]] = []
    for question in shown:
        lines = _form(question)
        if lines not in forms:
            forms.append(lines)
    forms = forms[:MAX_FORMS]
    if len(forms) == 1:
        body = [f"    {line}" for line in forms[0]]
    else:
        body = [f"    form = rng.randrange({len(forms)})  # the skill's questions come in several forms"]
        for n, lines in enumerate(forms):
            test = "else:" if n == len(forms) - 1 else f"{'if' if n == 0 else 'elif'} form == {n}:"
            body += [f"    {test}", *(f"        {line}" for line in lines)]
    return GENERATE.format(fewest=fewest, most=most, body="\n".join(body))
