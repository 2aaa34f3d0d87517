"""Arithmetic: a labelled math task built from reasoning-gym generators, one generator per skill.

Gold skills are ``"arithmetic/<generator>"`` (e.g. ``"arithmetic/gcd"``): the family name, a
``/``, and the reasoning-gym dataset name. Every instance records its generator, seed, index and
reasoning-gym's own metadata, and :meth:`ArithmeticTask.score` verifies answers with the
generator's own ``score_answer`` (correct means a reward of 1.0). ``basic_arithmetic`` answers
are recomputed from the expression, because reasoning-gym's easy ones ignore operator precedence
(:mod:`teachgraph.tasks.arithmetic_labels`; the upstream label stays in the metadata).

Difficulty defaults to ``"easy"``: small numbers and few terms, because the student is
SmolLM2-135M. ``"medium"`` widens the ranges and ``"hard"`` uses reasoning-gym's own defaults;
``knobs`` overrides single generator settings on top of the preset.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, JsonValue, field_validator, model_validator

from teachgraph.domain import Score, Split, TaskInstance
from teachgraph.errors import ConfigError
from teachgraph.tasks import answers
from teachgraph.tasks.arithmetic_labels import expression_value
from teachgraph.tasks.base import GoldSkill
from teachgraph.tasks.math_task import MathTask
from teachgraph.tasks.params import TaskParams, validate_params

if TYPE_CHECKING:
    from reasoning_gym.dataset import ProceduralDataset

__all__ = ["ARITHMETIC_SKILLS", "ArithmeticParams", "ArithmeticSkill", "ArithmeticTask"]

FAMILY = "arithmetic"
Difficulty = Literal["easy", "medium", "hard"]
AnswerKind = Literal["number", "fraction", "list"]


@dataclass(frozen=True)
class ArithmeticSkill:
    """One reasoning-gym generator used as a gold skill.

    Attributes:
        generator: The reasoning-gym dataset name (``reasoning_gym.create_dataset(generator)``).
        description: What the skill asks of the student, for people and the teacher.
        answer_kind: How answers are written: a number, a fraction ``p/q``, or a list.
        presets: Generator settings per difficulty; ``"hard"`` is reasoning-gym's defaults.
    """

    generator: str
    description: str
    answer_kind: AnswerKind
    presets: Mapping[Difficulty, Mapping[str, Any]]

    @property
    def gold_skill(self) -> str:
        """The skill label on instances: ``"arithmetic/<generator>"``."""
        return f"{FAMILY}/{self.generator}"


def _skill(
    generator: str,
    description: str,
    kind: AnswerKind,
    easy: dict[str, Any],
    medium: dict[str, Any],
) -> ArithmeticSkill:
    return ArithmeticSkill(generator, description, kind, {"easy": easy, "medium": medium, "hard": {}})


#: The skills this family offers, in their default order. Easy presets keep numbers small enough
#: for a 135M-parameter student and still leave each generator well over 100 distinct questions.
ARITHMETIC_SKILLS: dict[str, ArithmeticSkill] = {
    s.generator: s
    for s in (
        _skill(
            "basic_arithmetic",
            "Evaluate an integer expression with +, - and * (and / and parentheses when harder).",
            "number",
            easy=dict(
                min_terms=2,
                max_terms=3,
                min_digits=1,
                max_digits=1,
                operators=["+", "-", "*"],
                allow_parentheses=False,
                allow_negation=False,
            ),
            medium=dict(
                min_terms=2,
                max_terms=4,
                min_digits=1,
                max_digits=2,
                operators=["+", "-", "*", "/"],
                allow_parentheses=True,
                allow_negation=False,
            ),
        ),
        _skill(
            "chain_sum",
            "Add and subtract a chain of integers.",
            "number",
            easy=dict(min_terms=2, max_terms=3, min_digits=1, max_digits=2),
            medium=dict(min_terms=2, max_terms=4, min_digits=1, max_digits=3),
        ),
        _skill(
            "products",
            "Multiply integers.",
            "number",
            easy=dict(min_terms=2, max_terms=3, min_digits=1, max_digits=1),
            medium=dict(min_terms=2, max_terms=2, min_digits=1, max_digits=2),
        ),
        _skill(
            "gcd",
            "Find the greatest common divisor of two integers.",
            "number",
            easy=dict(min_numbers=2, max_numbers=2, min_value=2, max_value=50),
            medium=dict(min_numbers=2, max_numbers=2, min_value=2, max_value=200),
        ),
        _skill(
            "lcm",
            "Find the least common multiple of two integers.",
            "number",
            easy=dict(min_numbers=2, max_numbers=2, min_value=2, max_value=15),
            medium=dict(min_numbers=2, max_numbers=2, min_value=2, max_value=40),
        ),
        _skill(
            "fraction_simplification",
            "Reduce a fraction to lowest terms, answered as p/q.",
            "fraction",
            easy=dict(min_value=1, max_value=12, min_factor=2, max_factor=6, styles=["plain"]),
            medium=dict(
                min_value=1,
                max_value=50,
                min_factor=2,
                max_factor=20,
                styles=["plain", "latex_frac"],
            ),
        ),
        _skill(
            "simple_equations",
            "Solve a one-variable linear equation with an integer solution.",
            "number",
            easy=dict(min_terms=2, max_terms=2, min_value=1, max_value=10),
            medium=dict(min_terms=2, max_terms=3, min_value=1, max_value=30),
        ),
        _skill(
            "leg_counting",
            "Count the total legs of a list of animals (word problem with multiplication).",
            "number",
            easy=dict(min_animals=1, max_animals=2, min_instances=1, max_instances=3),
            medium=dict(min_animals=2, max_animals=4, min_instances=1, max_instances=8),
        ),
        _skill(
            "number_sorting",
            "Sort a list of numbers in ascending or descending order, answered as a list.",
            "list",
            easy=dict(
                min_numbers=3,
                max_numbers=5,
                min_decimals=0,
                max_decimals=0,
                min_value=-20.0,
                max_value=20.0,
            ),
            medium=dict(
                min_numbers=3,
                max_numbers=7,
                min_decimals=0,
                max_decimals=1,
                min_value=-100.0,
                max_value=100.0,
            ),
        ),
    )
}


class ArithmeticParams(TaskParams):
    """Parameters of the ``arithmetic`` task family.

    Attributes:
        skills: Generators to use (names from :data:`ARITHMETIC_SKILLS`); default all.
        train_size: Instances in the train split, spread evenly over the skills.
        validation_size: Instances in the validation split.
        test_size: Instances in the test split.
        seed: Base seed; every (split, skill) pair derives its own generator seed from it.
        difficulty: Preset of generator settings: ``easy`` (default), ``medium`` or ``hard``.
        knobs: Per-skill generator settings that override the preset, e.g.
            ``{"gcd": {"max_value": 100}}`` (reasoning-gym config field names).
    """

    skills: list[str] = Field(default_factory=lambda: list(ARITHMETIC_SKILLS))
    train_size: int = Field(default=270, ge=0)
    validation_size: int = Field(default=60, ge=0)
    test_size: int = Field(default=120, ge=0)
    seed: int = 0
    difficulty: Difficulty = "easy"
    knobs: dict[str, dict[str, JsonValue]] = Field(default_factory=dict)

    @field_validator("skills")
    @classmethod
    def _known_skills(cls, skills: list[str]) -> list[str]:
        if not skills:
            raise ValueError(f"choose at least one skill from: {', '.join(ARITHMETIC_SKILLS)}")
        unknown = [s for s in skills if s not in ARITHMETIC_SKILLS]
        if unknown:
            raise ValueError(f"unknown skill(s) {', '.join(map(repr, unknown))}; known: {', '.join(ARITHMETIC_SKILLS)}")
        if len(set(skills)) != len(skills):
            raise ValueError("skills must not repeat")
        return skills

    @model_validator(mode="after")
    def _knobs_for_chosen_skills(self) -> ArithmeticParams:
        stray = [k for k in self.knobs if k not in self.skills]
        if stray:
            raise ValueError(f"knobs given for skill(s) not in skills: {', '.join(map(repr, stray))}")
        return self


def _json_safe(value: Any) -> JsonValue:
    """``value`` as plain JSON data: tuples become lists, numpy scalars Python numbers.

    Values JSON cannot hold (sympy objects, sets, NaN) become their ``str``; none of the
    verifiers used here reads such a value.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item):
        try:
            return _json_safe(item())
        except (TypeError, ValueError):
            pass
    return str(value)


def _derived_seed(base: int, split: Split, generator: str) -> int:
    """A stable per-(split, skill) seed (``hash()`` is salted per process, so sha256).

    reasoning-gym seeds item ``i`` with ``Random(seed + i)``, so neighbouring seeds would share
    items; hashing spreads the splits' seeds over 2**32 values. De-duplication by question text
    covers what remains.
    """
    digest = hashlib.sha256(f"teachgraph/{FAMILY}/{base}/{split}/{generator}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


class ArithmeticTask(MathTask):
    """The ``arithmetic`` task: reasoning-gym generators as gold skills, scored by their verifiers.

    Splits are generated test first, then validation, then train, each skipping questions already
    produced (in any split), so the splits are disjoint by question text and the test set does
    not change when the train or validation size does. Ids are
    ``"arithmetic/<split>/<generator>/<i>"``; instances of a split are grouped by skill in the
    order of ``params.skills``.
    """

    name = FAMILY

    def __init__(self, params: ArithmeticParams | Mapping[str, object] | None = None) -> None:
        """Validate ``params`` (a :class:`ArithmeticParams` or a plain mapping) and the knobs.

        Raises:
            ConfigError: unknown or ill-typed parameters, unknown skills, or generator settings
                reasoning-gym rejects.
        """
        self.params: ArithmeticParams = validate_params(ArithmeticParams, params, FAMILY)
        self._settings: dict[str, dict[str, Any]] = {g: self._resolve_settings(g) for g in self.params.skills}
        self._scorers: dict[str, ProceduralDataset] = {}
        # Build each generator once now, so bad knobs fail at load time, not mid-run.
        for generator in self.params.skills:
            self._scorers[generator] = self._make_dataset(generator, seed=0, size=1)

    # -- Task protocol -----------------------------------------------------------------------

    def score(self, instance: TaskInstance, prediction: str) -> Score:
        """Verify ``prediction`` with the instance's reasoning-gym verifier.

        The final answer is extracted with :func:`answers.extract_answer`. The verifier sees it
        as written and, where that differs, in canonical form (``"$18.00"`` → ``"18"``,
        ``"\\frac{3}{4}"`` → ``"3/4"``, ``"1, 2"`` → ``'["1", "2"]'``), because some
        reasoning-gym verifiers compare strings exactly. The best reward counts; the answer is
        correct only at reward 1.0 (partial credit stays in ``score``). Expressions are never
        evaluated, so copying the question's ``"4 - 5 * 3"`` does not pass for ``-11``.
        """
        extracted = answers.extract_answer(prediction)
        if extracted is None:
            return self.no_answer()
        generator = self._generator_of(instance)
        spec = ARITHMETIC_SKILLS[generator]
        entry = {
            "question": instance.prompt,
            "answer": instance.answer,
            "metadata": instance.metadata.get("reasoning_gym", {}),
        }
        scorer = self._scorer(generator)
        reward = 0.0
        for candidate in self._candidates(spec.answer_kind, extracted):
            try:
                value = float(scorer.score_answer(candidate, entry))
            except Exception:  # a verifier crash on odd input is a wrong answer, not our crash
                value = 0.0
            reward = max(reward, min(1.0, max(0.0, value)))
            if reward >= 1.0:
                break
        correct = reward >= 1.0
        return Score(
            correct=correct,
            score=reward,
            extracted_answer=extracted,
            feedback=None if correct else f"expected {instance.answer}, got {extracted}",
        )

    def answers_equal(self, a: str, b: str) -> bool:
        """Whether two final answers are the same in the sense :meth:`score` uses.

        Fractions compare as written (``"3/4"`` equals ``"\\frac{3}{4}"`` but not ``"6/8"`` or
        ``"0.75"``), because fraction_simplification asks for lowest terms; numbers and lists
        compare after normalisation (``"18.0"`` equals ``"18"``; ``"['1', '2']"`` equals
        ``"1, 2"``; order matters); expressions are not evaluated.
        """
        fa, fb = answers.parse_fraction_parts(a), answers.parse_fraction_parts(b)
        if fa is not None or fb is not None:
            return fa == fb
        return answers.answers_equal(a, b, symbolic=False)

    def gold_skills(self) -> list[GoldSkill]:
        """One skill per chosen generator, named like the instances' ``gold_skill``."""
        return [
            GoldSkill(name=ARITHMETIC_SKILLS[g].gold_skill, description=ARITHMETIC_SKILLS[g].description)
            for g in self.params.skills
        ]

    # -- helpers -----------------------------------------------------------------------------

    def split_sizes(self) -> dict[Split, int]:
        """Instances per split at these params (exact: generation fails rather than fall short)."""
        return {
            "train": self.params.train_size,
            "validation": self.params.validation_size,
            "test": self.params.test_size,
        }

    def _resolve_settings(self, generator: str) -> dict[str, Any]:
        """Preset for the difficulty, overridden by the user's knobs; validated by reasoning-gym."""
        settings = dict(ARITHMETIC_SKILLS[generator].presets[self.params.difficulty])
        knobs = self.params.knobs.get(generator, {})
        fields = self._config_fields(generator)
        bad = sorted(k for k in knobs if k not in fields)
        if bad:
            raise ConfigError(
                f"invalid knobs for arithmetic skill {generator!r}: unknown setting(s) "
                f"{', '.join(bad)}; valid: {', '.join(sorted(fields))}"
            )
        settings.update(knobs)
        return settings

    @staticmethod
    def _config_fields(generator: str) -> set[str]:
        from reasoning_gym.factory import DATASETS

        _, config_cls = DATASETS[generator]
        # seed and size are ours to set (per split), not generator knobs.
        return {f.name for f in dataclasses.fields(config_cls)} - {"seed", "size"}

    def _make_dataset(self, generator: str, *, seed: int, size: int) -> ProceduralDataset:
        from reasoning_gym import create_dataset

        settings = self._settings.get(generator) or dict(ARITHMETIC_SKILLS[generator].presets[self.params.difficulty])
        try:
            return create_dataset(generator, seed=seed, size=size, **settings)
        except (AssertionError, TypeError, ValueError) as err:
            detail = str(err) or type(err).__name__
            raise ConfigError(
                f"invalid settings for arithmetic skill {generator!r} "
                f"({json.dumps(_json_safe(settings), sort_keys=True)}): {detail}; "
                f"fix params.knobs.{generator} or choose another difficulty"
            ) from None

    def _scorer(self, generator: str) -> ProceduralDataset:
        # Verifiers read the entry, not the generator config, so one instance per generator
        # serves every split (and instances of skills this task was not configured with).
        if generator not in self._scorers:
            self._scorers[generator] = self._make_dataset(generator, seed=0, size=1)
        return self._scorers[generator]

    @staticmethod
    def _generator_of(instance: TaskInstance) -> str:
        generator = instance.metadata.get("generator")
        if not isinstance(generator, str) and instance.gold_skill:
            generator = instance.gold_skill.rsplit("/", 1)[-1]
        if not isinstance(generator, str) or generator not in ARITHMETIC_SKILLS:
            raise ValueError(f"instance {instance.id!r} is not an arithmetic instance")
        return generator

    @staticmethod
    def _candidates(kind: AnswerKind, extracted: str) -> list[str]:
        """The extracted answer as written, plus its canonical form for this answer kind."""
        out = [extracted]
        if kind == "fraction":
            parts = answers.parse_fraction_parts(extracted)
            if parts is not None:
                out.append(f"{parts[0]}/{parts[1]}")
        elif kind == "list":
            parsed = answers.split_list(answers.normalize_answer(extracted))
            if parsed is not None:
                out.append(json.dumps(parsed.items))
        # A number written as a fraction ("6/3") is not canonicalised: the question asks for the
        # value, and reasoning-gym's string comparison rightly refuses an unevaluated quotient.
        elif answers.parse_fraction_parts(extracted) is None:
            norm = answers.normalize_answer(extracted)
            if answers.parse_number(norm) is not None:
                out.append(norm)
        return list(dict.fromkeys(out))

    @cached_property
    def _splits(self) -> dict[Split, list[TaskInstance]]:
        seen: set[str] = set()
        out: dict[Split, list[TaskInstance]] = {}
        # Test first so that its items never depend on the other splits' sizes.
        for split in ("test", "validation", "train"):
            out[split] = self._generate_split(split, self.split_sizes()[split], seen)
        return out

    def _generate_split(self, split: Split, size: int, seen: set[str]) -> list[TaskInstance]:
        skills = self.params.skills
        per_skill = [size // len(skills) + (1 if k < size % len(skills) else 0) for k in range(len(skills))]
        result: list[TaskInstance] = []
        for generator, count in zip(skills, per_skill, strict=True):
            result.extend(self._generate_skill(split, generator, count, seen))
        return result

    def _generate_skill(self, split: Split, generator: str, count: int, seen: set[str]) -> list[TaskInstance]:
        if count == 0:
            return []
        seed = _derived_seed(self.params.seed, split, generator)
        # Small easy ranges repeat questions; allow generous retries before giving up.
        budget = 50 * count + 1000
        dataset = self._make_dataset(generator, seed=seed, size=budget)
        found: list[TaskInstance] = []
        for index in range(budget):
            try:
                entry = dataset[index]
            except Exception as err:  # e.g. a knob of the wrong type that validate() let through
                raise ConfigError(
                    f"arithmetic skill {generator!r} failed to generate with settings "
                    f"{json.dumps(_json_safe(self._settings.get(generator, {})), sort_keys=True)}: "
                    f"{type(err).__name__}: {err}; fix params.knobs.{generator}"
                ) from None
            question = entry["question"]
            key = " ".join(question.split())
            if key in seen:
                continue
            seen.add(key)
            rg_metadata = _json_safe(entry.get("metadata", {}))
            answer = str(entry["answer"])
            if generator == "basic_arithmetic":  # reasoning-gym's easy labels ignore precedence
                answer = str(expression_value(str(entry["metadata"]["expression"])))
            found.append(
                TaskInstance(
                    id=f"{FAMILY}/{split}/{generator}/{len(found)}",
                    prompt=question,
                    answer=answer,
                    gold_skill=ARITHMETIC_SKILLS[generator].gold_skill,
                    metadata={
                        "generator": generator,
                        "seed": seed,
                        "index": index,
                        "difficulty": self.params.difficulty,
                        "reasoning_gym": rg_metadata,
                        **({"reasoning_gym_answer": str(entry["answer"])} if answer != str(entry["answer"]) else {}),
                    },
                )
            )
            if len(found) == count:
                return found
        raise ConfigError(
            f"arithmetic skill {generator!r} yields only {len(found)} distinct new questions for "
            f"the {split} split (needed {count}) at difficulty {self.params.difficulty!r}; "
            f"lower the split sizes or widen its ranges with params.knobs.{generator}"
        )
