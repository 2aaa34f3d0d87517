"""The VQA families: reference answers score, perturbed ones do not, splits are disjoint and
deterministic, and every shape-scene answer is recomputed from the rendered pixels."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from teachgraph.domain import TaskInstance
from teachgraph.errors import ConfigError
from teachgraph.tasks import load_task
from teachgraph.tasks.vqa import (
    EasyVQAImage,
    EasyVQATask,
    SceneImage,
    ShapeScenesTask,
    attach_image,
    image_of,
    load_image,
    question_type,
    split_image,
)
from teachgraph.tasks.vqa.answer_words import canonical_answer
from teachgraph.tasks.vqa.scene import COLOR_RGB, Scene

COLORS = ["red", "green", "blue", "yellow", "teal", "brown", "black", "gray"]
SHAPES = ["circle", "rectangle", "triangle"]


@pytest.fixture(scope="module")
def scenes() -> ShapeScenesTask:
    return ShapeScenesTask({"test_size": 240, "validation_size": 80, "train_size": 240})


@pytest.fixture(scope="module")
def easy() -> EasyVQATask:
    return EasyVQATask({"test_size": 300, "validation_size": 100, "train_size": 300})


def _perturbed(answer: str) -> str:
    """A different answer of the same kind."""
    if answer in ("yes", "no"):
        return "no" if answer == "yes" else "yes"
    if answer.isdigit():
        return str(int(answer) + 1)
    for vocab in (COLORS, SHAPES, ["small", "large"]):
        if answer in vocab:
            return vocab[(vocab.index(answer) + 1) % len(vocab)]
    raise AssertionError(f"unexpected answer {answer!r}")


_NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight"]


def _spellings(answer: str) -> list[str]:
    """Ways a student may write the reference answer."""
    out = [answer, f"Answer: {answer}", f"  {answer.upper()}. ", f"The answer: {answer.capitalize()}"]
    if answer.isdigit():
        out.append(f"Answer: {_NUMBER_WORDS[int(answer)]}")
    elif answer in ("yes", "no"):
        out.append({"yes": "Yeah.", "no": "Answer: nope"}[answer])
    else:
        out.append(f"It is {answer}.")
    return out


@pytest.mark.parametrize("family", ["scenes", "easy"])
def test_references_score_and_perturbations_fail(family: str, request: pytest.FixtureRequest) -> None:
    task = request.getfixturevalue(family)
    items = task.instances("test")
    assert len(items) >= 200
    for k, inst in enumerate(items):
        spellings = _spellings(inst.answer)
        for reply in (task.format_target(inst.answer), spellings[k % len(spellings)]):
            assert task.score(inst, reply).correct, (inst.prompt, reply)
        wrong = _perturbed(inst.answer)
        verdict = task.score(inst, task.format_target(wrong))
        assert not verdict.correct and verdict.extracted_answer == wrong
        assert task.answers_equal(inst.answer, spellings[-1]) and not task.answers_equal(inst.answer, wrong)


@pytest.mark.parametrize("reply", ["red or blue", "not red", "Answer: I don't know", "", "red circle"])
def test_hedges_are_no_answer(easy: EasyVQATask, reply: str) -> None:
    inst = next(i for i in easy.instances("test") if i.answer == "red")
    score = easy.score(inst, reply)
    assert not score.correct and score.extracted_answer is None and score.feedback


def test_answer_words() -> None:
    assert [canonical_answer(s) for s in ("Three", "3.0", "grey", "Circles", "the shape is large", "yes")] == [
        "3",
        "3",
        "gray",
        "circle",
        "large",
        "yes",
    ]


def test_prompt_keeps_image_first(scenes: ShapeScenesTask) -> None:
    inst = scenes.instances("test")[0]
    prompt = scenes.student_prompt(inst.prompt)
    ref, text = split_image(prompt)
    assert isinstance(ref, SceneImage) and ref.scene.model_dump(mode="json") == inst.metadata["scene"]
    assert text.startswith(split_image(inst.prompt)[1]) and "Answer:" in text


def test_image_references_survive_json(scenes: ShapeScenesTask) -> None:
    inst = scenes.instances("validation")[3]
    again = TaskInstance.model_validate_json(inst.model_dump_json())
    assert load_image(image_of(again.prompt)).tobytes() == load_image(image_of(inst.prompt)).tobytes()
    prompt = attach_image("what shape is present?", EasyVQAImage(split="test", id=7))
    image = load_image(image_of(prompt))
    assert image.size == (64, 64) and image.mode == "RGB"
    assert split_image("no image here") == (None, "no image here")
    with pytest.raises(ValueError, match="malformed image reference"):
        split_image('<image>{"kind": "scene"}</image> How many?')


def _rebuilt(task_params: dict[str, Any], cls: type) -> dict[str, list[TaskInstance]]:
    task = cls(task_params)
    return {s: task.instances(s) for s in ("train", "validation", "test")}


@pytest.mark.parametrize(
    ("cls", "params"),
    [
        (ShapeScenesTask, {"test_size": 240, "validation_size": 80, "train_size": 240}),
        (EasyVQATask, {"test_size": 300, "validation_size": 100, "train_size": 300}),
    ],
)
def test_splits_are_deterministic_and_disjoint(cls: type, params: dict[str, Any]) -> None:
    first, second = _rebuilt(params, cls), _rebuilt(params, cls)
    assert first == second
    assert {s: len(v) for s, v in first.items()} == {
        "train": params["train_size"],
        "validation": params["validation_size"],
        "test": params["test_size"],
    }
    ids = [i.id for split in first.values() for i in split]
    assert len(ids) == len(set(ids))
    prompts = [{i.prompt for i in first[s]} for s in ("train", "validation", "test")]
    assert not (prompts[0] & prompts[1] or prompts[0] & prompts[2] or prompts[1] & prompts[2])
    if cls is ShapeScenesTask:  # no scene is shown twice, in or across splits
        digests = [i.metadata["scene_digest"] for split in first.values() for i in split]
        assert len(digests) == len(set(digests))
    else:  # validation and train divide the package's train images; test is its test split
        images = {s: {i.metadata["image_id"] for i in first[s]} for s in ("train", "validation")}
        assert not images["train"] & images["validation"]
        assert {i.metadata["source_split"] for i in first["test"]} == {"test"}
        assert len({i.metadata["question_index"] for i in first["test"]}) == params["test_size"]


def test_split_sizes_do_not_move_the_test_set() -> None:
    small = ShapeScenesTask({"test_size": 40, "validation_size": 8, "train_size": 8})
    other = ShapeScenesTask({"test_size": 40, "validation_size": 30, "train_size": 100})
    assert small.instances("test") == other.instances("test")
    prefix = EasyVQATask({"test_size": 50, "validation_size": 0, "train_size": 0}).instances("test")
    assert prefix == EasyVQATask({"test_size": 120, "validation_size": 5, "train_size": 5}).instances("test")[:50]
    assert ShapeScenesTask({"seed": 1, "test_size": 40, "validation_size": 0, "train_size": 0}).instances(
        "test"
    ) != small.instances("test")


def test_easy_vqa_question_types() -> None:
    import easy_vqa

    counts = Counter(question_type(q) for q in easy_vqa.get_test_questions()[0])
    assert counts == {
        "what_shape": 1257,
        "what_color": 1280,
        "yesno_shape": 974,
        "yesno_color": 2557,
        "yesno_shape_negated": 961,
        "yesno_color_negated": 2644,
    }
    task = EasyVQATask({"types": ["what_shape"], "test_size": 30, "validation_size": 3, "train_size": 3})
    assert {i.gold_skill for i in task.instances("test")} == {"easy_vqa/what_shape"}
    with pytest.raises(ValueError, match="template"):
        question_type("how many circles are there?")


# -- independent recomputation from the rendered image ----------------------------------------


def _objects_in_image(image: Any) -> list[dict[str, Any]]:
    """The scene graph read off the pixels: one connected region of a fill colour per object."""
    pixels = np.asarray(image)
    found = []
    for color in COLORS:
        mask = np.all(pixels == np.array(COLOR_RGB[color]), axis=-1)  # type: ignore[index]
        labels, n = ndimage.label(mask)
        for region in range(1, n + 1):
            ys, xs = np.nonzero(labels == region)
            top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
            fill = len(xs) / ((bottom - top + 1) * (right - left + 1))
            shape = "rectangle" if fill > 0.92 else "triangle" if fill < 0.65 else "circle"
            # A triangle's centre is two thirds of the way down from its apex.
            y = round(top + (bottom - top) * 2 / 3) if shape == "triangle" else round((top + bottom) / 2)
            size = "large" if right - left + 1 > 20 else "small"  # small: 13-19 px wide, large: 21-31
            found.append({"shape": shape, "color": color, "size": size, "x": round((left + right) / 2), "y": y})
    return found


def _members(objects: list[dict[str, Any]], ref: dict[str, Any]) -> list[int] | None:
    """Which objects a referring expression denotes; ``None`` if it is ambiguous."""
    out = [k for k, o in enumerate(objects) if all(ref.get(a) in (None, o[a]) for a in ("color", "shape", "size"))]
    if "anchor" not in ref:
        return out
    anchor = _members(objects, ref["anchor"])
    if anchor is None or len(anchor) != 1:
        return None
    a = objects[anchor[0]]
    kept = []
    for k in out:
        if k == anchor[0]:
            continue
        related = _related(ref["relation"], objects[k], a)
        if related is None:
            return None
        if related:
            kept.append(k)
    return kept


def _related(relation: str, o: dict[str, Any], a: dict[str, Any]) -> bool | None:
    axis = "x" if relation in ("left_of", "right_of") else "y"
    delta = o[axis] - a[axis]
    if abs(delta) < 10:
        return None
    return delta < 0 if relation in ("left_of", "above") else delta > 0


def _recomputed(objects: list[dict[str, Any]], q: dict[str, Any]) -> str:
    yn = {True: "yes", False: "no"}
    subject = _members(objects, q["subject"])
    assert subject is not None
    family = q["family"]
    if family == "exist":
        return yn[bool(subject)]
    if family == "count":
        return str(len(subject))
    if family.startswith("query_"):
        assert len(subject) == 1
        return str(objects[subject[0]][family.removeprefix("query_")])
    other = _members(objects, q["other"])
    assert other is not None
    if family == "compare_count":
        return yn[len(subject) > len(other)]
    if family == "spatial":
        assert len(subject) == len(other) == 1
        related = _related(q["relation"], objects[subject[0]], objects[other[0]])
        assert related is not None
        return yn[related]
    if q["connective"] == "and":
        return yn[bool(subject) and bool(other)]
    return yn[bool(subject) or bool(other)]


def test_every_scene_answer_is_recomputed_from_the_image(scenes: ShapeScenesTask) -> None:
    items = scenes.instances("test")
    families = Counter(i.metadata["family"] for i in items)
    assert len(families) == 8 and min(families.values()) == 30
    for inst in items:
        image = load_image(image_of(inst.prompt))
        objects = _objects_in_image(image)
        spec = Scene.model_validate(inst.metadata["scene"])
        key = lambda o: json.dumps(o, sort_keys=True)  # noqa: E731
        assert sorted(map(key, objects)) == sorted(key(o.model_dump()) for o in spec.objects), inst.id
        assert _recomputed(objects, inst.metadata["question"]) == inst.answer, (inst.id, inst.prompt)


def test_difficulty_knobs() -> None:
    flat = ShapeScenesTask(
        {
            "families": ["exist", "count", "query_color"],
            "max_relation_depth": 0,
            "test_size": 60,
            "validation_size": 0,
            "train_size": 0,
            "min_objects": 2,
            "max_objects": 3,
        }
    )
    items = flat.instances("test")
    assert {i.metadata["relation_depth"] for i in items} == {0}
    assert {i.metadata["num_objects"] for i in items} <= {2, 3}
    deep = ShapeScenesTask(
        {
            "max_relation_depth": 2,
            "min_objects": 6,
            "max_objects": 8,
            "test_size": 160,
            "validation_size": 0,
            "train_size": 0,
        }
    )
    depths = Counter(i.metadata["relation_depth"] for i in deep.instances("test"))
    assert depths[2] > 0 and max(depths) == 2
    answers = Counter(i.answer for i in deep.instances("test") if i.metadata["family"] in ("exist", "spatial"))
    assert answers["yes"] > 10 and answers["no"] > 10


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"families": ["exist", "zoom"]}, "families"),
        ({"max_relation_depth": 0}, "spatial"),
        ({"min_objects": 5, "max_objects": 3}, "min_objects"),
        ({"max_objects": 9}, "max_objects"),
    ],
)
def test_bad_scene_params(params: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_task({"name": "shape_scenes", "params": params})


def test_bad_easy_vqa_params() -> None:
    with pytest.raises(ConfigError, match="types"):
        load_task({"name": "easy_vqa", "params": {"types": ["what_size"]}})
    with pytest.raises(ConfigError, match="test_size"):
        load_task({"name": "easy_vqa", "params": {"test_size": 10000}})
