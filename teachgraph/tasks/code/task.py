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
from teachgraph.tasks.code.extraction import REPLY_FORMAT, extract_code, format_solution, program
from teachgraph.tasks.code.harness import Suite, SuiteResult, run_suites

__all__ = ["CodeTask", "feedback", "suite_for"]

CODE_CHARS = 4000  # the extracted program kept on an evaluated instance
WHAT = {"fail": "assertion failed", "error": "raised an exception", "timeout": "timed out", "not_run": "not run"}


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


def feedback(result: SuiteResult) -> str | None:
    """What went wrong, for the teacher: which test failed and how (``None`` when all passed)."""
    if result.setup_error:
        return f"the code does not run: {result.setup_error}"
    first = result.first_failure()
    if first is None:
        return None if result.tests else "no tests"
    k, outcome = first
    others = len(result.tests) - result.passed - 1
    more = f"; {others} more test(s) failed" if others > 0 else ""
    return f"test {k + 1} of {len(result.tests)} {WHAT[outcome.status]}: {outcome.detail}{more}"


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

    def answers_equal(self, a: str, b: str) -> bool:
        """Whether two solutions are the same program (same syntax tree; comments and layout aside).

        Programs are not compared by behaviour here: that is what the tests are for. A solution
        that does not parse equals nothing, itself included.
        """
        try:
            return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
        except (SyntaxError, ValueError):
            return False
