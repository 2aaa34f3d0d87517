"""easy-VQA: the ``easy-vqa`` package's images of one coloured shape, with its questions.

The package (1.0, MIT) ships 4,000 train and 1,000 test 64×64 images with 38,575 / 9,673 template
questions and no question-type field; the six types come from the templates by pattern
(:func:`question_type`) and are the gold skills ``easy_vqa/<type>``. The test split is a
deterministic subset of the package's test questions (``test_size``; the prefix of one seeded
shuffle, so a larger subset contains a smaller one). Validation and train come from the
package's train split, divided by image, so no image appears in both.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import defaultdict
from collections.abc import Mapping
from functools import cached_property
from typing import get_args

from pydantic import Field

from teachgraph.domain import Split, TaskInstance
from teachgraph.errors import ConfigError, DataNotFoundError
from teachgraph.tasks.base import GoldSkill
from teachgraph.tasks.params import TaskParams, validate_params
from teachgraph.tasks.vqa.images import EasyVQAImage, attach_image
from teachgraph.tasks.vqa.scene import Color, Shape
from teachgraph.tasks.vqa.task import VQATask

__all__ = ["EASY_VQA_TYPES", "EasyVQAParams", "EasyVQATask", "question_type"]

FAMILY = "easy_vqa"

#: Question type -> what it asks, in the order of :meth:`EasyVQATask.gold_skills`.
EASY_VQA_TYPES: dict[str, str] = {
    "what_shape": "Name the shape in the image (circle, rectangle or triangle).",
    "what_color": "Name the colour of the shape in the image.",
    "yesno_shape": "Answer yes or no: is a shape of this kind in the image?",
    "yesno_color": "Answer yes or no: is a shape of this colour in the image?",
    "yesno_shape_negated": "Answer yes or no to a negated question: is there not a shape of this kind?",
    "yesno_color_negated": "Answer yes or no to a negated question: is there not a shape of this colour?",
}

# The scene graph uses easy-VQA's vocabulary: one home for it.
_SHAPES: tuple[str, ...] = get_args(Shape)
_COLORS: tuple[str, ...] = get_args(Color)
_COLOR_RE = re.compile(rf"\b(?:{'|'.join(_COLORS)})\b")
_SHAPE_RE = re.compile(rf"\b(?:{'|'.join(_SHAPES)})\b")
_WHAT_COLOR_RE = re.compile(r"^what (?:is the )?colou?r\b")
_WHAT_SHAPE_RE = re.compile(r"^what (?:shape\b|is the \w+ shape\?$)")
_YES_NO_RE = re.compile(r"^(?:is|does)\b")
_NEGATED_RE = re.compile(r"\bnot\b|^is no\b")


def question_type(question: str) -> str:
    """The template type of an easy-VQA question (a key of :data:`EASY_VQA_TYPES`).

    Raises:
        ValueError: the question matches no template type.
    """
    q = question.strip().lower()
    if _WHAT_COLOR_RE.match(q):
        return "what_color"
    if _WHAT_SHAPE_RE.match(q):
        return "what_shape"
    if _YES_NO_RE.match(q):
        negated = "_negated" if _NEGATED_RE.search(q) else ""
        if _COLOR_RE.search(q):
            return f"yesno_color{negated}"
        if _SHAPE_RE.search(q):
            return f"yesno_shape{negated}"
    raise ValueError(f"not an easy-VQA template question: {question!r}")


class EasyVQAParams(TaskParams):
    """Parameters of the ``easy_vqa`` family.

    Attributes:
        test_size: Questions drawn from the package's test split (at most 9,673).
        validation_size: Questions from the package's train split, on images train never uses.
        train_size: Questions from the rest of the train split (at most what is left).
        types: Question types to keep (keys of :data:`EASY_VQA_TYPES`); default all.
        seed: Seed of the shuffles that choose the subsets.
    """

    test_size: int = Field(default=1000, ge=0, le=9673)
    validation_size: int = Field(default=200, ge=0)
    train_size: int = Field(default=2000, ge=0)
    types: list[str] = Field(default_factory=lambda: list(EASY_VQA_TYPES))
    seed: int = 0


def _shuffled(items: list[int], seed: int, split: str) -> list[int]:
    digest = hashlib.sha256(f"teachgraph/{FAMILY}/{seed}/{split}".encode()).digest()
    out = list(items)
    random.Random(int.from_bytes(digest[:8], "big")).shuffle(out)
    return out


class EasyVQATask(VQATask):
    """The ``easy_vqa`` task: one-shape images, template questions, question types as gold skills.

    Instance ids are ``"easy_vqa/<split>/<k>"``; metadata holds the package split, image id and
    question index (``source_split``, ``image_id``, ``question_index``) and the ``question_type``.
    """

    name = FAMILY

    def __init__(self, params: EasyVQAParams | Mapping[str, object] | None = None) -> None:
        """Validate ``params``.

        Raises:
            ConfigError: unknown parameters or question types.
        """
        self.params: EasyVQAParams = validate_params(EasyVQAParams, params, FAMILY)
        unknown = [t for t in self.params.types if t not in EASY_VQA_TYPES]
        if unknown or not self.params.types:
            raise ConfigError(
                f"invalid params for task {FAMILY!r}: types must be a non-empty subset of "
                f"{', '.join(EASY_VQA_TYPES)} (got {', '.join(map(repr, unknown)) or 'none'})"
            )

    def gold_skills(self) -> list[GoldSkill]:
        """One skill per chosen question type: ``easy_vqa/<type>``."""
        return [GoldSkill(name=f"{FAMILY}/{t}", description=EASY_VQA_TYPES[t]) for t in self.params.types]

    @staticmethod
    def _package_questions(split: str) -> list[tuple[str, str, int]]:
        try:
            import easy_vqa
        except ImportError as err:  # pragma: no cover - a declared dependency
            raise DataNotFoundError(
                f"the easy-vqa package is not installed ({err}); pip install easy-vqa==1.0"
            ) from None
        texts, answers, image_ids = (
            easy_vqa.get_train_questions() if split == "train" else easy_vqa.get_test_questions()
        )
        return list(zip(texts, answers, (int(i) for i in image_ids), strict=True))

    def _instance(self, split: Split, k: int, source: str, index: int, row: tuple[str, str, int]) -> TaskInstance:
        text, answer, image_id = row
        kind = question_type(text)
        return TaskInstance(
            id=f"{FAMILY}/{split}/{k}",
            prompt=attach_image(text, EasyVQAImage(split="train" if source == "train" else "test", id=image_id)),
            answer=answer,
            gold_skill=f"{FAMILY}/{kind}",
            metadata={"source_split": source, "image_id": image_id, "question_index": index, "question_type": kind},
        )

    @cached_property
    def _splits(self) -> dict[Split, list[TaskInstance]]:
        types = set(self.params.types)
        test_rows = self._package_questions("test")
        test_order = [
            i
            for i in _shuffled(list(range(len(test_rows))), self.params.seed, "test")
            if question_type(test_rows[i][0]) in types
        ][: self.params.test_size]
        test = [self._instance("test", k, "test", i, test_rows[i]) for k, i in enumerate(test_order)]

        # Validation and train divide the package's train images: all questions of an image go
        # to one split, so validation never shows the student an image it was trained on.
        train_rows = self._package_questions("train")
        by_image: dict[int, list[int]] = defaultdict(list)
        for i, row in enumerate(train_rows):
            if question_type(row[0]) in types:
                by_image[row[2]].append(i)
        sizes: dict[Split, int] = {"validation": self.params.validation_size, "train": self.params.train_size}
        chosen: dict[Split, list[int]] = {"validation": [], "train": []}
        for image_id in _shuffled(sorted(by_image), self.params.seed, "train"):
            open_splits: list[Split] = [s for s in ("validation", "train") if len(chosen[s]) < sizes[s]]
            if not open_splits:
                break
            target = open_splits[0]
            chosen[target].extend(by_image[image_id][: sizes[target] - len(chosen[target])])
        out: dict[Split, list[TaskInstance]] = {"test": test}
        for split, indices in chosen.items():
            out[split] = [self._instance(split, k, "train", i, train_rows[i]) for k, i in enumerate(indices)]
        return out
