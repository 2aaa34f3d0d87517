"""Algorithmic code: reasoning-gym's algorithmic generators as "write the function" problems.

One problem asks for the function of one skill (:data:`ALGORITHMIC_SKILLS`, e.g.
``count_letter(text, letter)`` for ``letter_counting``); its unit tests are ``tests_per_problem``
of the generator's own items, each a call with the item's inputs that must return the item's
answer, and the first of them is shown in the problem as an example. Every generator item is used
by one problem only: splits are generated test first, then validation, then train, each skipping
items (by their call) already used, so the splits are disjoint by test and by problem text, and
the test split does not change with the other splits' sizes.

Ids are ``"algorithmic_code/<split>/<generator>/<i>"``; gold skill
``"algorithmic_code/<generator>"``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from pydantic import Field, field_validator

from teachgraph.domain import Split, TaskInstance
from teachgraph.errors import ConfigError
from teachgraph.tasks.base import GoldSkill
from teachgraph.tasks.code.algorithmic_skills import ALGORITHMIC_SKILLS, FAMILY, FunctionSkill
from teachgraph.tasks.code.humaneval import humaneval_instance, humaneval_problems
from teachgraph.tasks.code.task import CodeTask
from teachgraph.tasks.params import TaskParams, validate_params

__all__ = ["AlgorithmicCodeParams", "AlgorithmicCodeTask", "call_text", "unit_test"]

REPR_CHARS = 300  # a call's text in an assertion message


class AlgorithmicCodeParams(TaskParams):
    """Parameters of the ``algorithmic_code`` family.

    Attributes:
        skills: Generators to use (names from :data:`ALGORITHMIC_SKILLS`); default all.
        train_size: Problems in the train split, spread evenly over the skills.
        validation_size: Problems in the validation split.
        test_size: Problems in the test split.
        tests_per_problem: Unit tests (generator items) per problem; the first is the shown example.
        limit_s: CPU seconds per test.
        seed: Base seed; every (split, skill) pair derives its own generator seed from it.
        humaneval_in_test: Append HumanEval's 164 problems to the test split (gold skill
            ``humaneval``), so a run reports pass@1 on both, per skill.
    """

    skills: list[str] = Field(default_factory=lambda: list(ALGORITHMIC_SKILLS))
    train_size: int = Field(default=240, ge=0)
    validation_size: int = Field(default=48, ge=0)
    test_size: int = Field(default=120, ge=0)
    tests_per_problem: int = Field(default=5, ge=1, le=20)
    limit_s: float = Field(default=2.0, gt=0)
    seed: int = 0
    humaneval_in_test: bool = False

    @field_validator("skills")
    @classmethod
    def _known_skills(cls, skills: list[str]) -> list[str]:
        if not skills:
            raise ValueError(f"choose at least one skill from: {', '.join(ALGORITHMIC_SKILLS)}")
        unknown = [s for s in skills if s not in ALGORITHMIC_SKILLS]
        if unknown:
            raise ValueError(
                f"unknown skill(s) {', '.join(map(repr, unknown))}; known: {', '.join(ALGORITHMIC_SKILLS)}"
            )
        if len(set(skills)) != len(skills):
            raise ValueError("skills must not repeat")
        return skills


def call_text(skill: FunctionSkill, args: tuple[Any, ...]) -> str:
    """The call as Python source: ``count_letter('a b', 'a')``."""
    return f"{skill.function}({', '.join(map(repr, args))})"


def unit_test(call: str, expected: Any) -> str:
    """A test statement: the call must return ``expected``; the message says what it returned."""
    shown = call if len(call) <= REPR_CHARS else call[:REPR_CHARS] + "...)"
    expected_text = repr(expected)[:200]
    # The message is built by concatenation, not an f-string: the call may hold braces or quotes.
    return (
        f"_got = {call}\n"
        f"assert _got == {expected!r}, {shown!r} + ' returned ' + repr(_got)[:200] + ', expected ' + {expected_text!r}\n"
    )


def _derived_seed(base: int, split: Split, generator: str) -> int:
    digest = hashlib.sha256(f"teachgraph/{FAMILY}/{base}/{split}/{generator}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def problem_text(skill: FunctionSkill, example_call: str, example_answer: Any) -> str:
    """The problem: the function's stub with its docstring, and one example call."""
    return (
        "Write this Python function (standard library only).\n\n"
        f"{skill.signature}:\n"
        f'    """{skill.doc}"""\n\n'
        f"Example: {example_call} == {example_answer!r}"
    )


class AlgorithmicCodeTask(CodeTask):
    """The ``algorithmic_code`` task: functions whose tests are reasoning-gym items; gold skill = generator."""

    name = FAMILY

    def __init__(self, params: AlgorithmicCodeParams | Mapping[str, object] | None = None) -> None:
        """Validate ``params`` (problems are generated on first use).

        Raises:
            ConfigError: unknown or ill-typed parameters, or unknown skills.
        """
        self.params: AlgorithmicCodeParams = validate_params(AlgorithmicCodeParams, params, FAMILY)

    def gold_skills(self) -> list[GoldSkill]:
        """One skill per chosen generator."""
        return [
            GoldSkill(
                name=ALGORITHMIC_SKILLS[g].gold_skill,
                description=f"Write {ALGORITHMIC_SKILLS[g].signature}: {ALGORITHMIC_SKILLS[g].doc}",
            )
            for g in self.params.skills
        ]

    def contamination_items(self) -> list[tuple[str, str]]:
        """HumanEval's 164 prompts: written examples must never copy the recognisable held-out test."""
        return [(row["task_id"], row["prompt"]) for row in humaneval_problems()]

    def split_sizes(self) -> dict[Split, int]:
        """Problems per split (exact: generation fails rather than fall short)."""
        p = self.params
        extra = len(humaneval_problems()) if p.humaneval_in_test else 0
        return {"train": p.train_size, "validation": p.validation_size, "test": p.test_size + extra}

    @cached_property
    def _splits(self) -> dict[Split, list[TaskInstance]]:
        seen: set[str] = set()
        out: dict[Split, list[TaskInstance]] = {}
        sizes = {
            "train": self.params.train_size,
            "validation": self.params.validation_size,
            "test": self.params.test_size,
        }
        for split in ("test", "validation", "train"):  # test first: it never depends on the others
            size = sizes[split]
            skills = self.params.skills
            counts = [size // len(skills) + (1 if k < size % len(skills) else 0) for k in range(len(skills))]
            out[split] = [
                inst
                for generator, count in zip(skills, counts, strict=True)
                for inst in self._problems(split, ALGORITHMIC_SKILLS[generator], count, seen)
            ]
        if self.params.humaneval_in_test:
            out["test"] += [humaneval_instance(row, "test") for row in humaneval_problems()]
        return out

    def _problems(self, split: Split, skill: FunctionSkill, count: int, seen: set[str]) -> list[TaskInstance]:
        if count == 0:
            return []
        from reasoning_gym import create_dataset

        k = self.params.tests_per_problem
        seed = _derived_seed(self.params.seed, split, skill.generator)
        budget = 3 * count * k + 200
        dataset = create_dataset(skill.generator, seed=seed, size=budget, **skill.settings)
        found: list[TaskInstance] = []
        calls: list[tuple[str, Any]] = []
        for index in range(budget):
            entry = dataset[index]
            call = call_text(skill, skill.arguments(entry))
            if call in seen:
                continue
            seen.add(call)
            calls.append((call, skill.expected(entry)))
            if len(calls) < k:
                continue
            found.append(
                TaskInstance(
                    id=f"{FAMILY}/{split}/{skill.generator}/{len(found)}",
                    prompt=problem_text(skill, *calls[0]),
                    answer=skill.reference,
                    gold_skill=skill.gold_skill,
                    metadata={
                        "entry_point": skill.function,
                        "preamble": "",
                        "tests": [unit_test(c, e) for c, e in calls],
                        "limit_s": self.params.limit_s,
                        "generator": skill.generator,
                        "seed": seed,
                    },
                )
            )
            calls = []
            if len(found) == count:
                return found
        raise ConfigError(
            f"algorithmic_code skill {skill.generator!r} yields only {len(found)} problems for the {split} "
            f"split (needed {count}); lower the split sizes or tests_per_problem"
        )
