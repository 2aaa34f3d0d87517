"""Expected values read by running solutions (teachgraph.tasks.code.expectations)."""

from __future__ import annotations

from teachgraph.sandbox import Sandbox
from teachgraph.tasks.code.expectations import (
    Expectation,
    Observed,
    expectation_of,
    observe,
    restated,
    restated_problem,
    stated_in,
)

SOLUTION = """def f(x):
    if x < 0:
        raise ValueError("negative")
    if x == 99:
        while True:
            pass
    return [x] * x if x > 50 else {"x": x, "half": x / 2}
"""


def test_only_equality_asserts_on_a_call_are_taken_apart() -> None:
    assert expectation_of("assert f(2) == 4") == Expectation("f(2)", "4")
    assert expectation_of("assert 'ab' == g('a', b=[1, 2])") == Expectation("g('a', b=[1, 2])", "'ab'")
    for test in ("assert f(2) != 4", "assert abs(f(2) - 4) < 1e-9", "x = f(2)\nassert x == 4",
                 "assert f(2) == 4, 'message'", "assert f(2)", "assert f(2 ==", "f(2) == 4"):  # fmt: skip
        assert expectation_of(test) is None, test


def test_values_exceptions_timeouts_and_long_values_are_observed() -> None:
    calls = ["f(4)", "f(-1)", "f(99)", "f(60)", "f(4)"]
    [seen] = observe([(SOLUTION, calls)], Sandbox(), limit_s=0.5)
    value, raised, hung, long, again = seen
    assert value.value == "{'x': 4, 'half': 2.0}" and value.known
    assert raised == Observed("raises ValueError") and raised.known
    assert not hung.known
    assert long.known and long.value is None  # 60 items: compared by hash, never written into a test
    assert again == value  # the same call gives the same key: how two solutions are compared


def test_restated_tests_hold_literals_only() -> None:
    e = Expectation("f(4)", "{'x': 4}")
    assert restated(e, Observed("k", "{'x': 4, 'half': 2.0}")) == "assert f(4) == {'x': 4, 'half': 2.0}"
    assert restated(e, Observed("k", "<object at 0x1>")) is None
    assert restated(e, Observed("k", "nan")) is None
    assert restated(e, Observed("raises ValueError")) is None


def test_a_problem_that_shows_the_disputed_value_is_recognised() -> None:
    problem = "def caesar_decrypt(text, shift): ... Example: caesar_decrypt('VGDQD GZUD', 3) -> 'YKHEV GZUB'"
    assert stated_in(problem, Expectation("caesar_decrypt('VGDQD GZUD', 3)", "'YKHEV GZUB'"))
    assert not stated_in(problem, Expectation("caesar_decrypt('PDA PSK IA', 3)", "'TDA QQU JA'"))
    assert not stated_in("Write f(x). Example: f(1.5) -> 0", Expectation("f(1)", "0"))  # 1 is not 1.5


def test_a_worked_example_in_the_problem_is_corrected_only_where_found_once() -> None:
    test = "assert caesar_decrypt('VGDQD GZUD', 3) == 'YKHEV GZUB'"
    right = Observed("k", "'SDANA DWRA'")
    quoted = "Example: caesar_decrypt('VGDQD GZUD', 3) -> 'YKHEV GZUB'"
    assert restated_problem(quoted, test, right) == "Example: caesar_decrypt('VGDQD GZUD', 3) -> 'SDANA DWRA'"
    bare = 'Example: caesar_decrypt("VGDQD GZUD", 3) returns YKHEV GZUB.'
    assert restated_problem(bare, test, right) == 'Example: caesar_decrypt("VGDQD GZUD", 3) returns SDANA DWRA.'
    assert restated_problem("f([1, 2]) == [2, 1]", "assert f([1,2]) == [2,1]", Observed("k", "[1, 2]")) == (
        "f([1, 2]) == [1, 2]"
    )
    assert restated_problem("Example: f(14) -> 14", "assert f(14) == 14", Observed("k", "15")) is None  # twice
    assert restated_problem("Example: f(3) -> 14", "assert f(3) == 14", Observed("k", "<obj>")) is None
