"""Expected values of a code example's tests, taken from running solutions, not the writer's head.

A small teacher writes a correct solution more often than correct expected values: it works out
``caesar_decrypt('VGDQD GZUD', 3)`` in its head and gets it wrong, and the example is lost although
its solution is right. A test of the form ``assert CALL == EXPECTED`` can be restated with what the
solution returns, but only when that value deserves trust; here, when a solution written
independently from the problem alone returns the same on every test input (the node side, which
asks for it, is :mod:`teachgraph.nodes.code_expectations`).

Values are read in the sandbox through the test harness: each probe is a test that fails on
purpose with the value's ``repr`` (and its hash, so long values still compare) as its message.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from teachgraph.sandbox import Sandbox
from teachgraph.tasks.code.harness import Suite, run_suites

__all__ = [
    "MAX_VALUE_CHARS",
    "Expectation",
    "Observed",
    "expectation_of",
    "observe",
    "restated",
    "restated_problem",
    "stated_in",
]

MAX_VALUE_CHARS = 160  # a longer value is compared (by hash) but never written into a test
_MARK = "@@value@@"
_PROBE = (
    "import hashlib as _h\n"
    "_v = repr({call})\n"
    "assert False, '{mark} %s %d %s' % (_h.sha256(_v.encode()).hexdigest()[:16], len(_v), _v[:{chars}])"
)
_VALUE = re.compile(re.escape(_MARK) + r" ([0-9a-f]{16}) (\d+) (.*)\Z", re.DOTALL)


@dataclass(frozen=True)
class Expectation:
    """A test ``assert CALL == EXPECTED`` taken apart (sources as ``ast.unparse`` writes them)."""

    call: str
    expected: str


@dataclass(frozen=True)
class Observed:
    """What one call did: returned a value (``key`` is its hash and length; ``value`` its ``repr``
    when short enough), raised (``key`` is ``raises <Type>``), or is unknown (``key`` empty: a timeout,
    the solution did not load)."""

    key: str
    value: str | None = None

    @property
    def known(self) -> bool:
        """Whether the call finished (with a value or an exception)."""
        return bool(self.key)


def _sides(test: str) -> tuple[ast.expr, ast.expr] | None:
    """(call, expected) nodes of ``assert CALL == EXPECTED`` (either order), else ``None``."""
    try:
        tree = ast.parse(test)
    except (SyntaxError, ValueError):
        return None
    if len(tree.body) != 1 or not isinstance(stmt := tree.body[0], ast.Assert) or stmt.msg is not None:
        return None
    compare = stmt.test
    if not (isinstance(compare, ast.Compare) and len(compare.ops) == 1 and isinstance(compare.ops[0], ast.Eq)):
        return None
    left, right = compare.left, compare.comparators[0]
    if isinstance(right, ast.Call) and not isinstance(left, ast.Call):
        left, right = right, left
    return (left, right) if isinstance(left, ast.Call) else None


def expectation_of(test: str) -> Expectation | None:
    """``CALL == EXPECTED`` of a one-statement ``assert`` test whose one side is a call, else ``None``
    (``assert abs(f(x) - 1) < 1e-9`` and tests with setup lines are left as written)."""
    sides = _sides(test)
    return Expectation(ast.unparse(sides[0]), ast.unparse(sides[1])) if sides else None


def _observed(status: str, detail: str) -> Observed:
    if status == "fail" and (found := _VALUE.match(detail)):
        digest, length, text = found.groups()
        whole = len(text) == int(length) and int(length) <= MAX_VALUE_CHARS
        return Observed(f"{digest}:{length}", text if whole else None)
    if status == "error":
        return Observed(f"raises {detail.split(':', 1)[0].strip()}")
    return Observed("")


def observe(
    programs: Sequence[tuple[str, Sequence[str]]], sandbox: Sandbox, *, limit_s: float = 2.0
) -> list[list[Observed]]:
    """What each program's calls return: for every ``(code, calls)``, one :class:`Observed` per call.

    All programs run in one batch of sandbox processes (:func:`run_suites`), each call under its
    own CPU limit, each in a fresh copy of the program's namespace.
    """
    suites = [
        Suite(code, [_PROBE.format(call=call, mark=_MARK, chars=MAX_VALUE_CHARS) for call in calls], limit_s)
        for code, calls in programs
    ]
    results = run_suites(suites, sandbox)
    return [[_observed(t.status, t.detail) for t in result.tests] for result in results]


def restated(expectation: Expectation, observed: Observed) -> str | None:
    """The test ``assert CALL == <observed value>``, or ``None`` when the value cannot be written
    as a Python literal (an object's ``repr``, ``nan``, a value too long) or the call raised."""
    if observed.value is None:
        return None
    try:
        ast.literal_eval(observed.value)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return None
    return f"assert {expectation.call} == {observed.value}"


def _occurrences(text: str, literal: str) -> Iterator[re.Match[str]]:
    """Where ``literal`` stands on its own in ``text``: not inside a word or a longer number
    (``1`` is not in ``12`` nor in ``1.5``; a full stop after it is punctuation)."""
    return re.finditer(r"(?<!\w)(?<!\d\.)" + re.escape(literal) + r"(?!\w)(?!\.\d)", text)


def _constants(source: str) -> list[str]:
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError):
        return [source]
    return [str(n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value is not None]


def stated_in(text: str, expectation: Expectation) -> bool:
    """Whether ``text`` (the problem) seems to show this test as a worked example: every constant of the
    call and of the expected value appears in it. A problem that states a wrong value cannot be
    fixed by restating the test, so the caller leaves it alone (a false alarm only loses an example)."""
    wanted = _constants(expectation.call) + _constants(expectation.expected)

    def shown(constant: str) -> bool:
        return next(_occurrences(text, constant), None) is not None

    return bool(wanted) and all(shown(c) for c in wanted)


def _shown_forms(test: str, expected: ast.expr, value: str) -> list[tuple[str, str]]:
    """(how the problem may show the writer's value, what to show instead), longest first."""
    forms = {ast.get_source_segment(test, expected) or "", ast.unparse(expected)}
    pairs = [(form, value) for form in forms if form]
    new = ast.literal_eval(value)
    if isinstance(expected, ast.Constant) and isinstance(expected.value, str) and isinstance(new, str):
        old = expected.value
        pairs += [(f'"{old}"', f'"{new}"'), (old, new)] if old.strip() else []
    return sorted(set(pairs), key=lambda p: -len(p[0]))


def restated_problem(problem: str, test: str, observed: Observed) -> str | None:
    """``problem`` with its worked example of ``test`` showing the observed value instead of the
    writer's, or ``None`` when the writer's value is not found exactly once (then nothing is changed:
    a guess could rewrite the wrong number)."""
    sides = _sides(test)
    if sides is None or restated(Expectation(ast.unparse(sides[0]), ""), observed) is None:
        return None
    assert observed.value is not None
    spans: list[tuple[int, int, str]] = []
    for old, new in _shown_forms(test, sides[1], observed.value):
        for hit in _occurrences(problem, old):
            if not any(a <= hit.start() < b or a < hit.end() <= b for a, b, _ in spans):
                spans.append((hit.start(), hit.end(), new))
    if len(spans) != 1:
        return None
    start, end, new = spans[0]
    return problem[:start] + new + problem[end:]
