"""The shape-scene side of the teacher: questions read back into their programs, generated items
answered by the task (never the model), refused when the picture cannot answer them, scenes
checked against their pixels, copies of eval scenes found, prompts described for the teacher."""

from __future__ import annotations

import random
from typing import Any

import pytest
from PIL import ImageDraw

from teachgraph.tasks.base import ComputesAnswers, IndexesEvalItems, MalformedItem, RefusedItem, teacher_text
from teachgraph.tasks.vqa import SceneImage, ShapeScenesTask, image_of, split_image
from teachgraph.tasks.vqa.parsing import QuestionNotUnderstood, parse_question
from teachgraph.tasks.vqa.pixels import scene_mismatch
from teachgraph.tasks.vqa.programs import SceneQuestion, answer, question_text
from teachgraph.tasks.vqa.render import render_scene
from teachgraph.tasks.vqa.scene import Scene
from teachgraph.tasks.vqa.shape_scenes import SCENE_FAMILIES
from teachgraph.tasks.vqa.teaching import NEAR_COPY_PX, SceneIndex
from teachgraph.testing import scene_generator_source


@pytest.fixture(scope="module")
def task() -> ShapeScenesTask:
    return ShapeScenesTask({"train_size": 80, "validation_size": 40, "test_size": 80})


def _objects(*spec: tuple[str, str, str, int, int]) -> list[dict[str, Any]]:
    return [{"shape": s, "color": c, "size": z, "x": x, "y": y} for s, c, z, x, y in spec]


TWO_RED_CIRCLES = _objects(("circle", "red", "small", 20, 20), ("circle", "red", "large", 80, 80))


def test_task_has_the_teacher_hooks(task: ShapeScenesTask) -> None:
    assert isinstance(task, ComputesAnswers) and isinstance(task, IndexesEvalItems)


@pytest.mark.parametrize("depth", [1, 2])
def test_every_question_reads_back_into_its_program(depth: int) -> None:
    scenes = ShapeScenesTask({"max_relation_depth": depth, "max_objects": 8, "train_size": 400})
    items = [i for split in ("train", "validation", "test") for i in scenes.instances(split)]
    assert len(items) == 880
    for inst in items:
        _, text = split_image(inst.prompt)
        assert parse_question(text) == SceneQuestion.model_validate(inst.metadata["question"]), inst.id


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("is there an Small RED circle", "exist"),
        ("How many large colour shapes are there?", None),  # "colour" is no colour: not a form
        ("What colour is the red small triangle?", "query_color"),
        ("Is the circle left of the blue square?", "spatial"),
        ("Are there more triangles than small shapes?", "compare_count"),
        ("Is there a circle or a gray rectangle?", "and_or"),
    ],
)
def test_tolerated_spellings(text: str, family: str | None) -> None:
    if family is None:
        with pytest.raises(QuestionNotUnderstood):
            parse_question(text)
    else:
        assert parse_question(text).family == family


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("What is 2 + 3?", "not a question of the task's forms"),
        ("How many purple circles are there?", "not a question of the task's forms"),
        ("Is the circle to the left of the square above the triangle?", "reads more than one way"),
        ("", "not a question"),
    ],
)
def test_questions_outside_the_grammar_are_not_understood(text: str, fragment: str) -> None:
    with pytest.raises(QuestionNotUnderstood, match=fragment):
        parse_question(text)


def test_a_drawn_item_is_answered_from_the_scene_not_the_model(task: ShapeScenesTask) -> None:
    objects = _objects(("circle", "red", "small", 20, 20), ("triangle", "blue", "large", 80, 80))
    prompt, reply = task.item_from_draw(
        {"objects": objects, "question": "how many RED circles are there", "answer": "7"}, "count"
    )
    ref, text = split_image(prompt)
    assert isinstance(ref, SceneImage) and [o.model_dump() for o in ref.scene.objects] == objects
    assert text == "How many red circles are there?" and reply == "1"  # canonical wording; the model's 7 ignored
    assert min(ref.scene.background) >= 228 and max(ref.scene.background) < 252  # pale: never an object's colour
    program = parse_question(text)
    assert reply == answer(ref.scene, program)
    # Subskills of a family root keep to the family.
    assert (
        task.item_from_draw({"objects": objects, "question": "Is there a blue triangle?"}, "exist/blue things")[1]
        == "yes"
    )


@pytest.mark.parametrize(
    ("item", "error", "fragment"),
    [
        ({"question": "How many circles are there?"}, MalformedItem, "no 'objects' list"),
        ({"objects": TWO_RED_CIRCLES}, MalformedItem, "no 'question' string"),
        ({"objects": TWO_RED_CIRCLES, "question": "What color is the red circle?"}, RefusedItem, "does not answer"),
        ({"objects": TWO_RED_CIRCLES, "question": "Is there a red circle?"}, RefusedItem, "is a exist question"),
        ({"objects": TWO_RED_CIRCLES, "question": "Count the red circles."}, RefusedItem, "not a question of"),
        ({"objects": _objects(("circle", "red", "large", 20, 20), ("circle", "blue", "large", 40, 20)),
          "question": "How many circles are there?"}, RefusedItem, "overlap"),
        ({"objects": _objects(("circle", "red", "large", 5, 20)), "question": "How many circles are there?"},
         RefusedItem, "leaves the 128px canvas"),
        ({"objects": _objects(("circle", "purple", "large", 50, 50)), "question": "How many circles are there?"},
         RefusedItem, "invalid scene"),
        ({"objects": [*TWO_RED_CIRCLES] * 7, "question": "How many circles are there?"}, RefusedItem, "at most 12"),
    ],
)  # fmt: skip
def test_items_the_task_cannot_use(task: ShapeScenesTask, item: dict, error: type, fragment: str) -> None:
    skill = "query_color" if "What color" in str(item.get("question")) else "count"
    with pytest.raises(error, match=fragment):
        task.item_from_draw(item, skill)


def test_an_image_that_hides_an_object_is_caught_by_its_pixels() -> None:
    scene = Scene.model_validate({"objects": TWO_RED_CIRCLES})
    image = render_scene(scene)
    assert scene_mismatch(scene, image) is None
    ImageDraw.Draw(image).ellipse((60, 60, 100, 100), fill=scene.background)  # paint the large circle out
    assert "not visible as drawn" in (scene_mismatch(scene, image) or "")


def test_copies_of_eval_scenes_are_found(task: ShapeScenesTask) -> None:
    index = task.contamination_index()
    evaluation = task.instances("validation")[3]
    scene = image_of(evaluation.prompt).scene  # type: ignore[union-attr]
    assert index.match(evaluation.prompt) == (evaluation.id, 1.0)

    def moved(dx: int, objects: Any = None) -> str:
        shifted = [o.model_copy(update={"x": o.x + dx}) for o in (objects or scene.objects)]
        return task.item_from_draw({"objects": [o.model_dump() for o in shifted], "question": "Is there a shape?"}, "")[
            0
        ]

    def safe(dx: int) -> bool:  # the shifted scene still fits the canvas
        return all(o.radius <= o.x + dx < 128 - o.radius for o in scene.objects)

    near = next(d for d in (NEAR_COPY_PX, -NEAR_COPY_PX) if safe(d))
    assert index.match(moved(near, list(reversed(scene.objects)))) == (evaluation.id, 1.0)  # order is no disguise
    far = next((d for d in (NEAR_COPY_PX + 4, -NEAR_COPY_PX - 4) if safe(d)), None)
    if far is not None:
        assert index.match(moved(far)) is None
    for inst in task.instances("train"):  # the task's own train scenes are fresh
        assert index.match(inst.prompt) is None
    assert index.match("What is 2 + 3?") is None


def test_near_copy_pairs_alike_objects_in_any_order() -> None:
    a = Scene.model_validate(
        {"objects": _objects(("circle", "red", "small", 20, 20), ("circle", "red", "small", 60, 60))}
    )
    b = Scene.model_validate(
        {"objects": _objects(("circle", "red", "small", 58, 63), ("circle", "red", "small", 23, 17))}
    )
    index = SceneIndex([])
    index._by_kinds = {(("circle", "red", "small"),) * 2: [("eval-1", a)]}
    prompt = f"<image>{SceneImage(scene=b).model_dump_json()}</image>\nIs there a circle?"
    assert index.match(prompt) == ("eval-1", 1.0)


def test_teacher_text_describes_the_scene(task: ShapeScenesTask) -> None:
    inst = task.instances("validation")[0]
    shown = teacher_text(task, inst.prompt)
    scene = image_of(inst.prompt).scene  # type: ignore[union-attr]
    assert "<image>" not in shown and shown.endswith(split_image(inst.prompt)[1].strip())
    first = scene.objects[0]
    assert f"{first.size} {first.color} {first.shape} ({first.x},{first.y})" in shown
    assert teacher_text(task, "no image here") == "no image here"


@pytest.mark.parametrize("family", list(SCENE_FAMILIES))
def test_the_starting_program_asks_the_shown_forms_and_gives_usable_items(task: ShapeScenesTask, family: str) -> None:
    shown = [i for i in task.instances("validation") if i.metadata["family"] == family][:3]
    guide = task.generator_guide(family, shown)
    counts = [len(image_of(i.prompt).scene.objects) for i in shown]  # type: ignore[union-attr]
    assert f"rng.randint({min(counts)}, {max(counts)})" in guide.start and '"objects"' in guide.returns
    namespace: dict[str, Any] = {}
    exec(guide.prelude + scene_generator_source(guide.start), namespace)  # as given: complete, with its helpers
    items, refused = [], 0
    for seed in range(60):
        try:
            items.append(task.item_from_draw(namespace["generate"](random.Random(seed)), family))
        except RefusedItem:
            refused += 1
    forms = {_form(parse_question(split_image(prompt)[1])) for prompt, _ in items}
    shown_forms = {_form(parse_question(split_image(i.prompt)[1])) for i in shown}
    assert refused <= 30 and len({reply for _, reply in items}) >= 2, (family, refused)
    assert forms <= shown_forms and len(forms) == len(shown_forms), (forms, shown_forms)  # every shown form, no other


def _form(question: SceneQuestion) -> str:
    """A question's form: its program with attribute values (not which attributes) and relations blanked."""

    def blank(ref: Any) -> Any:
        if ref is None:
            return None
        return {
            "attrs": [a for a in ("color", "shape", "size") if getattr(ref, a) is not None],
            "anchor": blank(ref.anchor),
        }

    return repr((question.family, blank(question.subject), blank(question.other), question.connective))


def test_without_shown_questions_the_family_example_is_the_form(task: ShapeScenesTask) -> None:
    guide = task.generator_guide("query_size/odd sizes", [])
    assert "What size is the" in guide.start and "rng.randint(3, 6)" in guide.start


def test_question_text_and_parse_agree_on_every_family(task: ShapeScenesTask) -> None:
    for inst in task.instances("test"):
        program = SceneQuestion.model_validate(inst.metadata["question"])
        assert parse_question(question_text(program)) == program
