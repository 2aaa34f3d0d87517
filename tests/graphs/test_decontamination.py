"""n-gram decontamination: copies of eval items are caught, same-template questions with other numbers are not."""

from __future__ import annotations

from teachgraph.nodes.decontamination import NgramIndex

LCM = "Find the Least Common Multiple (LCM) of these numbers: 9, 6"


def test_copies_with_the_same_numbers_are_caught() -> None:
    index = NgramIndex([("t1", LCM), ("t2", "Calculate 6 - 9.")])
    assert index.match(LCM) == ("t1", 1.0)
    assert index.match(LCM + " (variant 17)") == ("t1", 1.0)  # a cosmetic suffix hides nothing
    assert index.match("calculate 6 - 9") == ("t2", 1.0)  # case and punctuation do not matter
    assert index.match("Now: calculate 6 - 9. Answer with a number.") == ("t2", 1.0)


def test_the_same_template_with_other_numbers_is_a_different_problem() -> None:
    index = NgramIndex([("t1", LCM), ("t2", "Calculate 6 - 9.")])
    assert index.match("Find the Least Common Multiple (LCM) of these numbers: 9, 4") is None
    assert index.match("Calculate 6 - 8.") is None
    assert index.match("Calculate 6 + 9.") is None  # operators are tokens too


def test_the_same_numbers_in_another_order_are_a_different_problem() -> None:
    chain = "State the final answer to the following arithmetic problem: 4 - 2 - 7 ="
    index = NgramIndex([("t1", chain)])
    assert index.match(chain.replace("4 - 2 - 7", "4 - 7 - 2")) is None  # another answer
    shorter = NgramIndex([("t2", chain.replace("4 - 2 - 7", "4 - 7"))])
    assert shorter.match(chain) is None  # "4 - 2 - 7" does not copy "4 - 7"
    assert index.match("Question 3. " + chain) == ("t1", 1.0)  # an added number hides nothing
