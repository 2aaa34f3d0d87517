"""Settle a code example's disputed expected values with an independently written solution.

The direct writer's 1.5B teacher loses most code examples to ``fails_own_tests``: its solution is
often right and its hand-computed expected values wrong (``caesar_decrypt('VGDQD GZUD', 3) ==
'YKHEV GZUB'``). When the reference solution fails only ``assert CALL == VALUE`` tests by assertion,
the writer's model is asked once more, for a solution written from the problem alone (it sees
neither the reference nor the tests). Both run on every test input in the sandbox; when they
return the same everywhere, the failing tests are restated with that value and the example goes on
to validation (stub, mutants, duplicates, contamination) like any other; a worked example in the
problem text that shows a disputed value is corrected as well (or, when that value cannot be found
exactly once, the example is left as written). When the solutions disagree, the example is left as
written and validation rejects it. Either way the example's provenance says
what happened (``expectations``).
"""

from __future__ import annotations

import ast
from typing import ClassVar

from teachgraph.domain import TrainingExample
from teachgraph.nodes.llm import NodeCalls, messages, trace
from teachgraph.providers.text_reply import TextReply, code_blocks
from teachgraph.state import TeacherContext
from teachgraph.tasks.base import teacher_text
from teachgraph.tasks.code import CodeTask, Suite, run_suites
from teachgraph.tasks.code.checks import entry_point_of
from teachgraph.tasks.code.expectations import (
    Expectation,
    Observed,
    expectation_of,
    observe,
    restated,
    restated_problem,
    stated_in,
)

__all__ = ["IndependentSolution", "settle_expectations"]

SYSTEM = "You are an expert Python programmer. You write correct, complete functions from a problem statement."
USER = """Solve this problem in Python (standard library only). Write the function
{signature}
exactly as named, with these arguments.

Problem:
{problem}"""


class IndependentSolution(TextReply):
    """A second solution to a problem: the first ``python`` block of the reply."""

    reply_format: ClassVar[str] = "Reply with one ```python block holding the complete function, and nothing else."
    code: str

    @classmethod
    def from_text(cls, text: str) -> IndependentSolution:
        blocks = code_blocks(text)
        if not blocks:
            raise ValueError("the reply holds no ```python block")
        return cls(code=blocks[0])


def signature(solution: str, entry: str) -> str:
    """``def entry(arguments) -> returns`` as the reference solution declares it."""
    for node in ast.parse(solution).body:
        if isinstance(node, ast.FunctionDef) and node.name == entry:
            returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
            return f"def {entry}({ast.unparse(node.args)}){returns}"
    return f"def {entry}(...)"


def _disputed(ex: TrainingExample, statuses: list[str]) -> list[int] | None:
    """Indices of the tests the reference fails by assertion, when every one of them is an
    ``assert CALL == VALUE`` (anything else wrong: the example is not ours to settle)."""
    failing = [k for k, status in enumerate(statuses) if status != "pass"]
    if not failing or any(statuses[k] != "fail" or expectation_of(ex.tests[k]) is None for k in failing):
        return None
    return failing


def settle_expectations(
    examples: list[TrainingExample], ctx: TeacherContext, calls: NodeCalls
) -> list[TrainingExample]:
    """``examples`` with disputed expected values settled where an independent solution agrees.

    Only code examples without a verdict are looked at, and one model call is made per example whose
    reference fails some of its ``assert CALL == VALUE`` tests.
    """
    task = ctx.task
    if not isinstance(task, CodeTask) or not ctx.settings.validation.independent_solutions:
        return examples
    open_ = [i for i, ex in enumerate(examples) if ex.verdict is None and ex.tests and ex.answer]
    runs = run_suites([Suite(examples[i].answer, examples[i].tests, task.limit_s) for i in open_], ctx.sandbox)
    out = list(examples)
    settled: dict[tuple[str, str, tuple[str, ...]], TrainingExample] = {}
    for i, result in zip(open_, runs, strict=True):
        ex = examples[i]
        failing = None if result.setup_error else _disputed(ex, [t.status for t in result.tests])
        entry = entry_point_of(ex.answer, ex.tests) if failing else None
        if not (failing and entry):
            continue
        key = (ex.input, ex.answer, tuple(ex.tests))
        if key in settled:  # the writer repeated itself: the same outcome, without another call
            same = settled[key]
            out[i] = ex.model_copy(update={"tests": same.tests, "input": same.input, "provenance": same.provenance})
        else:
            out[i] = settled[key] = _settle(ex, failing, entry, ctx, calls)
    return out


def _settle(
    ex: TrainingExample, failing: list[int], entry: str, ctx: TeacherContext, calls: NodeCalls
) -> TrainingExample:
    problem = ex.input
    prompt = USER.format(signature=signature(ex.answer, entry), problem=teacher_text(ctx.task, problem))
    answer = calls.ask(IndependentSolution, messages(SYSTEM, prompt), skill=ex.skill, purpose="independent solution")
    if answer.value is None:
        return _noted(ex, calls, "kept as written: no independent solution (the model's reply was unusable)")
    checked = [(k, e) for k, t in enumerate(ex.tests) if (e := expectation_of(t)) is not None]
    inputs = [e.call for _, e in checked]
    mine, theirs = observe([(ex.answer, inputs), (answer.value.code, inputs)], ctx.sandbox, limit_s=ctx.task.limit_s)
    disagree = [
        (k, e, a, b) for (k, e), a, b in zip(checked, mine, theirs, strict=True) if not (a.known and a.key == b.key)
    ]
    if disagree:
        k, e, a, b = disagree[0]
        return _noted(
            ex,
            calls,
            f"kept as written: an independent solution ({answer.model}) disagreed with the reference on "
            f"{len(disagree)} of {len(checked)} test inputs, first {e.call}: {_shown(a)} vs {_shown(b)}",
        )
    observed = {k: a for (k, _), a in zip(checked, mine, strict=True)}
    tests, shown = list(ex.tests), []
    for k in failing:
        new = restated(_expectation(ex.tests[k]), observed[k])
        if new is None:
            return _noted(ex, calls, f"kept as written: test {k + 1}'s value cannot be written as a literal")
        tests[k] = new
        if stated_in(problem, _expectation(ex.tests[k])):
            # The problem shows the writer's value as a worked example: it is corrected too, or kept.
            fixed = restated_problem(problem, ex.tests[k], observed[k])
            if fixed is None:
                return _noted(ex, calls, f"kept as written: the problem shows test {k + 1}'s value, not found once")
            problem, shown = fixed, [*shown, k + 1]
    numbers = ", ".join(str(k + 1) for k in failing)
    also = f" (and in the problem's worked example of test {', '.join(map(str, shown))})" if shown else ""
    return _noted(
        ex.model_copy(update={"tests": tests, "input": problem}),
        calls,
        f"tests {numbers} of {len(tests)}: expected values computed by the reference solution{also}, the "
        f"writer's were wrong; an independent solution ({answer.model}) agreed on all {len(checked)} test inputs",
    )


def _expectation(test: str) -> Expectation:
    found = expectation_of(test)
    assert found is not None  # _disputed admitted only tests of this form
    return found


def _shown(observed: Observed) -> str:
    if not observed.known:
        return "no result"
    return observed.value if observed.value is not None else observed.key


def _noted(ex: TrainingExample, calls: NodeCalls, note: str) -> TrainingExample:
    trace(
        calls.runtime, "expectations", node=calls.node, iteration=calls.iteration, skill=ex.skill,
        example_id=ex.id, note=note,
    )  # fmt: skip
    provenance = ex.provenance.model_copy(update={"expectations": note})
    return ex.model_copy(update={"provenance": provenance})
