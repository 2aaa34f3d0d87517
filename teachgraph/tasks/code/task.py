"""What every code task shares: problems with unit tests, scored by running the student's code.

An instance's ``answer`` is a reference solution (the training target of the task's own data);
its metadata holds what scoring needs: ``entry_point`` (the function the tests call),
``tests`` (statements that call it and ``assert``), ``preamble`` (code that runs before the
student's: a HumanEval prompt, else empty) and ``limit_s`` (CPU seconds per test).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import ClassVar

from teachgraph.domain import SPLITS, Score, Split, TaskInstance
from teachgraph.sandbox import Sandbox
from teachgraph.tasks.code.checks import CodeVerdict, WrittenCode, check_written
from teachgraph.tasks.code.extraction import REPLY_FORMAT, extract_code, format_solution, program
from teachgraph.tasks.code.harness import Suite, feedback, run_suites

__all__ = ["CodeTask", "suite_for"]

CODE_CHARS = 4000  # the extracted program kept on an evaluated instance


def suite_for(instance: TaskInstance, code: str) -> Suite:
    """The suite that scores ``code`` on ``instance``: preamble + code, then the instance's tests."""
    meta = instance.metadata
    entry = str(meta.get("entry_point", ""))
    tests = [str(t) for t in meta.get("tests", [])]  # type: ignore[union-attr]
    limit = meta.get("limit_s", 3.0)
    return Suite(
        program(code, str(meta.get("preamble", "")), entry),
        tests,
        float(limit) if isinstance(limit, int | float) else 3.0,
    )


class CodeTask:
    """Base of the code task families.

    Subclasses provide ``name``, ``_splits`` (split -> instances) and ``gold_skills``; this class
    scores by running every test of every instance in the run's sandbox, many instances per
    sandbox process (:func:`teachgraph.tasks.code.harness.run_suites`).

    Attributes:
        sandbox: Runs the student's code (isolated unless the run's config says otherwise;
            :meth:`use_sandbox` sets the run's).
    """

    name: str
    executes_code: ClassVar[bool] = True
    _splits: dict[Split, list[TaskInstance]]
    sandbox: Sandbox = Sandbox()

    def use_sandbox(self, sandbox: Sandbox) -> None:
        """Run code with the run's sandbox (the config's ``sandbox:`` mode)."""
        self.sandbox = sandbox

    def instances(self, split: Split) -> list[TaskInstance]:
        """All instances of ``split``."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        return list(self._splits[split])

    def student_prompt(self, question: str) -> str:
        """The problem, then the reply format :meth:`format_target` follows."""
        return f"{question.rstrip()}\n\n{REPLY_FORMAT}"

    def format_target(self, answer: str, rationale: str | None = None) -> str:
        """The solution in one fenced ``python`` block (a rationale is not part of a code answer)."""
        if not answer.strip():
            raise ValueError("a code training target needs a solution")
        return format_solution(answer)

    def score(self, instance: TaskInstance, prediction: str) -> Score:
        """pass@1 of one reply: every test must pass (see :meth:`score_many`)."""
        return self.score_many([instance], [prediction])[0]

    def score_many(self, instances: Sequence[TaskInstance], predictions: Sequence[str]) -> list[Score]:
        """Run each reply's code against its instance's tests, in as few sandbox processes as it takes.

        ``correct`` is pass@1 (every test passed); ``score`` the share of tests passed;
        ``feedback`` names the first failing test and how it failed.
        """
        if len(instances) != len(predictions):
            raise ValueError(f"{len(instances)} instances but {len(predictions)} predictions")
        scores: list[Score | None] = [None] * len(instances)
        runs: list[tuple[int, str, Suite]] = []
        for k, (inst, pred) in enumerate(zip(instances, predictions, strict=True)):
            code = extract_code(pred, str(inst.metadata.get("entry_point", "")) or None)
            if code is None:
                scores[k] = Score(
                    correct=False, score=0.0, extracted_answer=None, feedback=f"no code found; {REPLY_FORMAT}"
                )
            else:
                runs.append((k, code, suite_for(inst, code)))
        results = run_suites([s for _, _, s in runs], self.sandbox)
        for (k, code, _), result in zip(runs, results, strict=True):
            n = len(result.tests)
            scores[k] = Score(
                correct=result.ok,
                score=result.passed / n if n else 0.0,
                extracted_answer=code[:CODE_CHARS],
                feedback=feedback(result),
            )
        return [s for s in scores if s is not None]

    def check_examples(
        self,
        items: Sequence[WrittenCode],
        sandbox: Sandbox | None = None,
        *,
        mutant_count: int = 8,
        min_killed: float = 0.5,
    ) -> list[CodeVerdict]:
        """Check teacher-written (solution, tests) pairs: the solution passes its tests; the tests fail a
        wrong stub and most mutants (:func:`teachgraph.tasks.code.checks.check_written`)."""
        return check_written(
            items, sandbox or self.sandbox, limit_s=self.limit_s, mutant_count=mutant_count, min_killed=min_killed
        )

    def contamination_items(self) -> list[tuple[str, str]]:
        """(id, text) of problems written examples must not copy besides validation and test (none here)."""
        return []

    @property
    def limit_s(self) -> float:
        """CPU seconds per test for teacher-written examples (the family's own limit)."""
        limit = getattr(getattr(self, "params", None), "limit_s", 3.0)
        return float(limit)

    def answers_equal(self, a: str, b: str) -> bool:
        """Whether two solutions are the same program (same syntax tree; comments and layout aside).

        Programs are not compared by behaviour here: that is what the tests are for. A solution
        that does not parse equals nothing, itself included.
        """
        try:
            return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
        except (SyntaxError, ValueError):
            return False
