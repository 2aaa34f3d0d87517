"""GSM8K: grade-school math word problems from the original JSONL files, without skill labels.

Data: ``train.jsonl`` (7,473 items) and ``test.jsonl`` (1,319 items), each line
``{"question": ..., "answer": "<worked solution>\\n#### <final answer>"}``. The directory is, in
order of precedence: ``params.data_dir``, the ``TEACHGRAPH_GSM8K_DIR`` environment variable, or
``../shared/data/gsm8k`` (looked up relative to the current directory, then the repository root).

Splits:

* ``test``: the test file, or its first ``test_size`` items;
* ``validation``: ``validation_size`` items sampled from the train file with ``seed``;
* ``train``: the rest of the train file.

Train lines whose question also occurs in the test file, or repeats an earlier train question,
are left out of both train and validation, so the three splits are disjoint by question text.

Ids are ``"gsm8k/<split>/<line>"`` with the 0-based line number in the source file.
"""

from __future__ import annotations

import functools
import json
import os
import random
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

from pydantic import Field

from teachgraph.domain import Score, Split, TaskInstance
from teachgraph.errors import ConfigError, DataNotFoundError
from teachgraph.tasks import answers
from teachgraph.tasks.base import GoldSkill
from teachgraph.tasks.math_task import MathTask
from teachgraph.tasks.params import TaskParams, validate_params
from teachgraph.text import question_key

__all__ = ["DEFAULT_DATA_DIR", "ENV_VAR", "GSM8KParams", "GSM8KTask", "resolve_data_dir"]

FAMILY = "gsm8k"
#: Environment variable that points at the GSM8K directory when ``data_dir`` is not given.
ENV_VAR = "TEACHGRAPH_GSM8K_DIR"
#: Default location, relative to the working directory or the repository root.
DEFAULT_DATA_DIR = "../shared/data/gsm8k"
_FILES = ("train.jsonl", "test.jsonl")
_REPO_ROOT = Path(__file__).resolve().parents[2]


class GSM8KParams(TaskParams):
    """Parameters of the ``gsm8k`` task family.

    Attributes:
        data_dir: Directory with ``train.jsonl`` and ``test.jsonl`` (default: see module doc).
        validation_size: Items sampled from the train file for validation.
        test_size: Use the first ``test_size`` test items; ``None`` for all 1,319.
        seed: Seed of the validation sample.
    """

    data_dir: str | None = None
    validation_size: int = Field(default=100, ge=0)
    test_size: int | None = Field(default=200, ge=0)
    seed: int = 0


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The GSM8K directory to use, or :class:`DataNotFoundError` naming every path tried.

    ``data_dir`` wins, then ``$TEACHGRAPH_GSM8K_DIR``, then :data:`DEFAULT_DATA_DIR`. A relative
    path is tried against the current directory first and the repository root second, so runs
    started from the repository root and from elsewhere both find ``../shared/data/gsm8k``.
    """
    if data_dir is not None:
        raw, source = str(data_dir), "params.data_dir"
    elif os.environ.get(ENV_VAR):
        raw, source = os.environ[ENV_VAR], f"${ENV_VAR}"
    else:
        raw, source = DEFAULT_DATA_DIR, "the default location"
    path = Path(raw).expanduser()
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, _REPO_ROOT / path]
    for candidate in candidates:
        if all((candidate / f).is_file() for f in _FILES):
            return candidate.resolve()
    tried = ", ".join(str(c.resolve()) for c in dict.fromkeys(candidates))
    raise DataNotFoundError(
        f"GSM8K data not found: expected {' and '.join(_FILES)} in {tried} (from {source}); "
        f"set task params data_dir or ${ENV_VAR} to the directory that holds them"
    )


def _read_jsonl(path: Path) -> tuple[dict[str, str], ...]:
    """The records of a GSM8K JSONL file (cached per path and file version)."""
    stat = path.stat()
    return _read_jsonl_cached(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_jsonl_cached(name: str, _mtime_ns: int, _size: int) -> tuple[dict[str, str], ...]:
    # Several tasks with different params (and the CLI's family listing) read the same files;
    # the mtime/size arguments make an edited file a new cache entry.
    path = Path(name)
    rows: list[dict[str, str]] = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                question, answer = row["question"], row["answer"]
            except (json.JSONDecodeError, KeyError, TypeError) as err:
                raise DataNotFoundError(
                    f"{path}:{line_no} is not a GSM8K record with 'question' and 'answer' "
                    f"({err}); point data_dir at the original GSM8K JSONL files"
                ) from None
            if "####" not in answer:
                raise DataNotFoundError(
                    f"{path}:{line_no}: the answer has no '#### <final answer>' line; "
                    f"point data_dir at the original GSM8K JSONL files"
                )
            rows.append({"question": question, "answer": answer})
    return tuple(rows)


@functools.lru_cache(maxsize=16384)
def _reference_answer(final: str) -> str:
    """Canonical reference answer: ``"1,080"`` → ``"1080"``."""
    return answers.normalize_answer(final.strip())


class GSM8KTask(MathTask):
    """The ``gsm8k`` task: real GSM8K questions, numeric answers, no gold skills."""

    name = FAMILY

    def __init__(self, params: GSM8KParams | Mapping[str, object] | None = None) -> None:
        """Validate ``params`` and locate the data (files are read on first use).

        Raises:
            ConfigError: invalid parameters.
            DataNotFoundError: the data directory or one of its files is missing.
        """
        self.params: GSM8KParams = validate_params(GSM8KParams, params, FAMILY)
        self.data_dir: Path = resolve_data_dir(self.params.data_dir)

    # -- Task protocol -----------------------------------------------------------------------

    def score(self, instance: TaskInstance, prediction: str) -> Score:
        """Extract the final answer and compare it numerically with the reference.

        ``"$1,080.00"`` and ``"1080 dollars"`` match ``1080``; an unevaluated expression such as
        ``"16 - 3 - 4"`` does not match ``9`` (see :meth:`answers_equal`).
        """
        extracted = answers.extract_answer(prediction)
        if extracted is None:
            return self.no_answer("number")
        correct = self.answers_equal(extracted, instance.answer)
        return Score(
            correct=correct,
            score=1.0 if correct else 0.0,
            extracted_answer=extracted,
            feedback=None if correct else f"expected {instance.answer}, got {extracted}",
        )

    def answers_equal(self, a: str, b: str) -> bool:
        """Numeric equality after normalisation, without symbolic evaluation.

        GSM8K answers are numbers: ``"$1,080"`` equals ``"1080"``, ``"16-3-4"`` is not ``"9"``.
        """
        return answers.answers_equal(a, b, symbolic=False)

    def gold_skills(self) -> list[GoldSkill] | None:
        """GSM8K has no skill labels."""
        return None

    # -- helpers -----------------------------------------------------------------------------

    def split_sizes(self) -> dict[Split, int]:
        """Instances per split at these params (reads the data)."""
        return {split: len(items) for split, items in self._splits.items()}

    @staticmethod
    def _instance(split: Split, line: int, row: Mapping[str, str], source: str) -> TaskInstance:
        solution, _, final = row["answer"].rpartition("####")
        return TaskInstance(
            id=f"{FAMILY}/{split}/{line}",
            prompt=row["question"].strip(),
            # Canonical form: "1,080" → "1080", so that comparisons and targets are uniform.
            answer=_reference_answer(final),
            gold_skill=None,
            metadata={"source": source, "line": line, "solution": solution.strip()},
        )

    @cached_property
    def _splits(self) -> dict[Split, list[TaskInstance]]:
        train_rows = _read_jsonl(self.data_dir / "train.jsonl")
        test_rows = _read_jsonl(self.data_dir / "test.jsonl")
        p = self.params
        test_count = len(test_rows) if p.test_size is None else min(p.test_size, len(test_rows))
        test = [self._instance("test", i, r, "test.jsonl") for i, r in enumerate(test_rows[:test_count])]
        # Train lines eligible for train/validation: not a question of the test file (the whole
        # file, not just the used prefix: matching text is contamination whatever test_size is)
        # and not a repeat of an earlier train question.
        seen = {question_key(r["question"]) for r in test_rows}
        eligible: list[int] = []
        for i, r in enumerate(train_rows):
            key = question_key(r["question"])
            if key not in seen:
                seen.add(key)
                eligible.append(i)
        if p.validation_size > len(eligible):
            raise ConfigError(
                f"gsm8k validation_size {p.validation_size} exceeds the {len(eligible)} usable "
                f"train items; choose a smaller validation_size"
            )
        val_lines = sorted(random.Random(p.seed).sample(eligible, p.validation_size))
        validation = [self._instance("validation", i, train_rows[i], "train.jsonl") for i in val_lines]
        chosen = set(val_lines)
        train = [self._instance("train", i, train_rows[i], "train.jsonl") for i in eligible if i not in chosen]
        return {"train": train, "validation": validation, "test": test}
