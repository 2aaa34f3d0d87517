"""Checks of a teacher-written code example: a problem, a reference solution and its unit tests.

The solution must pass every one of its tests; the tests must fail a trivially wrong solution
(:func:`~teachgraph.tasks.code.mutants.wrong_stub`) and most mutants of the reference (tests that
accept anything teach nothing and would score anything as right). All runs go through the
sandbox, batched (:func:`~teachgraph.tasks.code.harness.run_suites`): first every solution and
its stub, then the mutants of the solutions that passed.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Sequence
from dataclasses import dataclass

from teachgraph.domain import RejectionReason
from teachgraph.sandbox import Sandbox
from teachgraph.tasks.code.harness import Suite, feedback, run_suites
from teachgraph.tasks.code.mutants import mutants, wrong_stub

__all__ = ["CodeVerdict", "WrittenCode", "check_written", "entry_point_of", "split_tests"]


@dataclass(frozen=True)
class WrittenCode:
    """A reference solution and its tests, as the teacher wrote them."""

    solution: str
    tests: Sequence[str]


@dataclass(frozen=True)
class CodeVerdict:
    """The outcome of the checks: ``ACCEPTED`` or the first reason to reject, and what was seen."""

    reason: RejectionReason
    detail: str = ""
    mutants_killed: int = 0
    mutants_run: int = 0

    @property
    def accepted(self) -> bool:
        """Whether every check passed."""
        return self.reason is RejectionReason.ACCEPTED


def _parsed_prefix(block: str) -> tuple[str, ast.Module] | None:
    """The longest run of ``block``'s first lines that parses, with its tree: a reply cut off at
    ``max_tokens`` ends mid-statement (``assert f('abc')`` then nothing), and the asserts before
    the cut are still good tests."""
    lines = block.splitlines()
    for end in range(len(lines), 0, -1):
        text = "\n".join(lines[:end])
        try:
            return text, ast.parse(text)
        except (SyntaxError, ValueError):
            continue
    return None


def split_tests(block: str) -> list[str]:
    """A block of test code as separate tests: one per top-level statement, setup lines joined to the
    next ``assert`` (``x = f(2)`` then ``assert x == 4`` is one test). A block whose end does not
    parse (cut off) keeps the statements before it; one of which nothing parses stays one test."""
    parsed = _parsed_prefix(block)
    if parsed is None:
        return [block] if block.strip() else []
    block, tree = parsed
    tests, pending = [], []
    for stmt in tree.body:
        pending.append(ast.get_source_segment(block, stmt) or ast.unparse(stmt))
        if isinstance(stmt, ast.Assert) or not isinstance(stmt, ast.Assign | ast.Import | ast.ImportFrom):
            tests.append("\n".join(pending))
            pending = []
    if pending and tests:
        tests[-1] += "\n" + "\n".join(pending)
    return tests


def _names(code: str) -> set[str]:
    try:
        return {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}
    except (SyntaxError, ValueError):
        return set()


def entry_point_of(solution: str, tests: Sequence[str]) -> str | None:
    """The solution's top-level function the tests call (the first one called), or ``None``."""
    try:
        tree = ast.parse(solution)
    except (SyntaxError, ValueError):
        return None
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    called = set().union(*(_names(t) for t in tests)) if tests else set()
    return next((name for name in defined if name in called), None)


def _structure(item: WrittenCode, min_tests: int) -> tuple[str, str]:
    """(entry point, "") when the example is well formed, else ("", what is wrong)."""
    try:
        ast.parse(item.solution)
    except (SyntaxError, ValueError) as err:
        return "", f"the solution does not parse: {err}"
    if len(item.tests) < min_tests:
        return "", f"{len(item.tests)} unit test(s); at least {min_tests} needed"
    for k, test in enumerate(item.tests):
        try:
            compile(test, f"<test {k}>", "exec")
        except (SyntaxError, ValueError) as err:
            return "", f"test {k + 1} does not parse: {err}"
    entry = entry_point_of(item.solution, item.tests)
    if entry is None:
        return "", "the tests call no function the solution defines"
    return entry, ""


def check_written(
    items: Sequence[WrittenCode],
    sandbox: Sandbox,
    *,
    limit_s: float = 2.0,
    mutant_count: int = 8,
    min_killed: float = 0.5,
    min_tests: int = 2,
) -> list[CodeVerdict]:
    """Check every item; verdicts in order.

    Args:
        items: The examples' solutions and tests.
        sandbox: Where the code runs (the run's sandbox).
        limit_s: CPU seconds per test.
        mutant_count: Mutants of each solution to run the tests against (0: no mutant check).
        min_killed: Share of those mutants the tests must fail.
        min_tests: Fewest tests an example may have.
    """
    verdicts: dict[int, CodeVerdict] = {}
    entries: dict[int, str] = {}
    for k, item in enumerate(items):
        entry, problem = _structure(item, min_tests)
        if problem:
            verdicts[k] = CodeVerdict(RejectionReason.MALFORMED, problem)
        else:
            entries[k] = entry
    live = sorted(entries)
    first = run_suites(
        [Suite(items[k].solution, items[k].tests, limit_s) for k in live]
        + [Suite(wrong_stub(entries[k]), items[k].tests, limit_s, stop_at_failure=True) for k in live],
        sandbox,
    )
    own, stub = first[: len(live)], first[len(live) :]
    for k, solved, stubbed in zip(live, own, stub, strict=True):
        if not solved.ok:
            verdicts[k] = CodeVerdict(
                RejectionReason.FAILS_OWN_TESTS, f"the reference solution fails: {feedback(solved)}"
            )
        elif stubbed.ok:
            verdicts[k] = CodeVerdict(
                RejectionReason.WEAK_TESTS, "the tests pass a trivially wrong solution (one that returns None)"
            )
    survivors = [k for k in live if k not in verdicts]
    planned = {k: mutants(items[k].solution, mutant_count) if mutant_count else [] for k in survivors}
    order = [(k, m) for k in survivors for m in planned[k]]
    # A mutant is killed by its first failing test: the rest need not run (nor time out).
    results = run_suites([Suite(m, items[k].tests, limit_s, stop_at_failure=True) for k, m in order], sandbox)
    killed: dict[int, int] = dict.fromkeys(survivors, 0)
    for (k, _), result in zip(order, results, strict=True):
        killed[k] += not result.ok
    for k in survivors:
        run = len(planned[k])
        if run and killed[k] < min_killed * run:
            verdicts[k] = CodeVerdict(
                RejectionReason.WEAK_TESTS,
                f"the tests pass {run - killed[k]} of {run} mutants of the solution (at most "
                f"{run - math.ceil(min_killed * run)} may pass)",
                killed[k],
                run,
            )
        else:
            verdicts[k] = CodeVerdict(RejectionReason.ACCEPTED, "", killed[k], run)
    return [verdicts[k] for k in range(len(items))]
