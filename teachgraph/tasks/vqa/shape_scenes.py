"""Shape scenes: our own CLEVR-like VQA family of rendered scenes with question programs.

Each instance is a fresh random scene graph (:mod:`~teachgraph.tasks.vqa.scene`: 3–6 coloured
shapes by default) and one question from a family (:mod:`~teachgraph.tasks.vqa.programs`: exist,
count, query colour/shape/size, compare counts, spatial left/right/above/below, and/or); the
answer is computed from the scene graph. Gold skills are ``shape_scenes/<family>``. Difficulty:
the number of objects (``min_objects``..``max_objects``) and the relation depth of the
referring expressions (``max_relation_depth``: 0 plain attributes, 1 "the circle left of the red
square", 2 a relation to an object that is itself described by a relation).

The prompt carries the scene (``<image>{"kind": "scene", ...}</image>``), rendered on demand by
:func:`teachgraph.tasks.vqa.images.load_image`; the metadata holds the scene, the question
program, the number of objects and the relation depth. Splits are generated test first, then
validation, then train, each from its own seed; no scene (hence no scene and question) appears
twice in or across splits.

For the teacher (the program engine), the task computes the answers of generated scenes itself
and says what copies an eval scene (:mod:`~teachgraph.tasks.vqa.teaching`).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from pydantic import Field, field_validator, model_validator

from teachgraph.domain import Split, TaskInstance
from teachgraph.errors import ConfigError
from teachgraph.tasks.base import GeneratorGuide, GoldSkill
from teachgraph.tasks.params import TaskParams, validate_params
from teachgraph.tasks.vqa.images import SceneImage, attach_image
from teachgraph.tasks.vqa.programs import FAMILIES, Family, question_text
from teachgraph.tasks.vqa.sampling import sample_question
from teachgraph.tasks.vqa.scene import sample_scene
from teachgraph.tasks.vqa.task import VQATask
from teachgraph.tasks.vqa.teaching import SceneIndex, generator_guide, item_from_draw

__all__ = ["SCENE_FAMILIES", "ShapeScenesParams", "ShapeScenesTask"]

FAMILY = "shape_scenes"

#: Question family -> what it asks, in the default order of the gold skills.
SCENE_FAMILIES: dict[Family, str] = {
    "exist": "Answer yes or no: is there an object with these attributes (and relation)?",
    "count": "Count the objects with these attributes (and relation).",
    "query_color": "Name the colour of the one object described.",
    "query_shape": "Name the shape of the one object described.",
    "query_size": "Say whether the one object described is small or large.",
    "compare_count": "Answer yes or no: are there more objects of the first kind than of the second?",
    "spatial": "Answer yes or no: is one object left of, right of, above or below another?",
    "and_or": "Answer yes or no: is there an object of one kind and/or one of another kind?",
}
assert tuple(SCENE_FAMILIES) == FAMILIES  # one list of families, described here


class ShapeScenesParams(TaskParams):
    """Parameters of the ``shape_scenes`` family.

    Attributes:
        families: Question families to ask (gold skills); default all.
        train_size: Instances in train, spread evenly over the families.
        validation_size: Instances in validation.
        test_size: Instances in test.
        min_objects: Fewest objects in a scene.
        max_objects: Most objects in a scene (at most 8: more do not fit the 128px canvas reliably).
        max_relation_depth: Deepest chain of relations in a question (0–2; spatial needs 1).
        seed: Base seed; each split derives its own.
    """

    families: list[Family] = Field(default_factory=lambda: list(FAMILIES))
    train_size: int = Field(default=1600, ge=0)
    validation_size: int = Field(default=160, ge=0)
    test_size: int = Field(default=320, ge=0)
    min_objects: int = Field(default=3, ge=1, le=8)
    max_objects: int = Field(default=6, ge=1, le=8)
    max_relation_depth: int = Field(default=1, ge=0, le=2)
    seed: int = 0

    @field_validator("families")
    @classmethod
    def _distinct(cls, families: list[Family]) -> list[Family]:
        if not families or len(set(families)) != len(families):
            raise ValueError(f"choose distinct families from: {', '.join(FAMILIES)}")
        return families

    @model_validator(mode="after")
    def _consistent(self) -> ShapeScenesParams:
        if self.min_objects > self.max_objects:
            raise ValueError("min_objects must not exceed max_objects")
        if "spatial" in self.families and (self.max_objects < 2 or self.max_relation_depth < 1):
            raise ValueError("the spatial family needs max_objects >= 2 and max_relation_depth >= 1")
        return self


def _split_rng(seed: int, split: Split) -> random.Random:
    digest = hashlib.sha256(f"teachgraph/{FAMILY}/{seed}/{split}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


class ShapeScenesTask(VQATask):
    """The ``shape_scenes`` task. Ids are ``"shape_scenes/<split>/<family>/<i>"``."""

    name = FAMILY

    def __init__(self, params: ShapeScenesParams | Mapping[str, object] | None = None) -> None:
        """Validate ``params``.

        Raises:
            ConfigError: unknown or inconsistent parameters.
        """
        self.params: ShapeScenesParams = validate_params(ShapeScenesParams, params, FAMILY)

    def gold_skills(self) -> list[GoldSkill]:
        """One skill per chosen family: ``shape_scenes/<family>``."""
        return [GoldSkill(name=f"{FAMILY}/{f}", description=SCENE_FAMILIES[f]) for f in self.params.families]

    def split_sizes(self) -> dict[Split, int]:
        """Instances per split (exact: generation fails rather than fall short)."""
        p = self.params
        return {"train": p.train_size, "validation": p.validation_size, "test": p.test_size}

    # -- the program engine's hooks (teachgraph.tasks.base.ComputesAnswers, IndexesEvalItems) --

    def generator_guide(self, skill: str, shown: Sequence[TaskInstance]) -> GeneratorGuide:
        """A scene generator's contract and a program to start from (:mod:`.teaching`)."""
        return generator_guide(skill, shown)

    def item_from_draw(self, item: Mapping[str, Any], skill: str) -> tuple[str, str]:
        """A generated scene and question as a prompt, with the answer computed from the scene graph.

        Raises:
            MalformedItem, RefusedItem: see :func:`teachgraph.tasks.vqa.teaching.item_from_draw`.
        """
        return item_from_draw(item, skill)

    def contamination_index(self) -> SceneIndex:
        """The validation and test scenes: a written scene that copies one is contaminated."""
        return SceneIndex([*self.instances("validation"), *self.instances("test")])

    @cached_property
    def _splits(self) -> dict[Split, list[TaskInstance]]:
        seen: set[str] = set()
        sizes = self.split_sizes()
        return {split: self._generate(split, sizes[split], seen) for split in ("test", "validation", "train")}

    def _generate(self, split: Split, size: int, seen: set[str]) -> list[TaskInstance]:
        p = self.params
        rng = _split_rng(p.seed, split)
        families = p.families
        out: list[TaskInstance] = []
        per_family = {f: 0 for f in families}
        for k in range(size):
            family = families[k % len(families)]  # round robin: even over families, mixed in order
            for _ in range(200):
                scene = sample_scene(rng, rng.randint(p.min_objects, p.max_objects))
                digest = scene.digest()
                if digest in seen:
                    continue
                found = sample_question(rng, scene, family, p.max_relation_depth)
                if found is not None:
                    break
            else:
                raise ConfigError(
                    f"{FAMILY}: no answerable {family} question found in 200 scenes for the {split} split; "
                    "allow more objects or a deeper max_relation_depth"
                )
            seen.add(digest)
            question, answer = found
            out.append(
                TaskInstance(
                    id=f"{FAMILY}/{split}/{family}/{per_family[family]}",
                    prompt=attach_image(question_text(question), SceneImage(scene=scene)),
                    answer=answer,
                    gold_skill=f"{FAMILY}/{family}",
                    metadata={
                        "family": family,
                        "scene": scene.model_dump(mode="json"),
                        "scene_digest": digest,
                        "question": question.model_dump(mode="json", exclude_none=True),
                        "num_objects": len(scene.objects),
                        "relation_depth": question.relation_depth,
                    },
                )
            )
            per_family[family] += 1
        return out
