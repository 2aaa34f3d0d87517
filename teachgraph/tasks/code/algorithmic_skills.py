"""The skills of the ``algorithmic_code`` family: reasoning-gym generators read as functions.

Each :class:`FunctionSkill` says how one generator's items become calls of a Python function:
which function (name, signature, docstring), how an item's inputs become its arguments, and
how the item's answer becomes the expected return value. The expected values come from the
generator's own answer (or the metadata it computed that answer from), never from our reference
solution, which is only a training target and is checked against them by the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ALGORITHMIC_SKILLS", "FAMILY", "FunctionSkill"]

FAMILY = "algorithmic_code"
Entry = Mapping[str, Any]


@dataclass(frozen=True)
class FunctionSkill:
    """One reasoning-gym generator as a function to write.

    Attributes:
        generator: The reasoning-gym dataset name.
        function: The function's name (the entry point the tests call).
        signature: The ``def`` line, without the trailing colon.
        doc: What the function must do (its docstring).
        arguments: An item's inputs as the call's positional arguments.
        expected: The return value the item's answer stands for.
        reference: A correct implementation (the training target of the family's own data).
        settings: reasoning-gym config overrides (keep inputs short enough to read in a prompt).
    """

    generator: str
    function: str
    signature: str
    doc: str
    arguments: Callable[[Entry], tuple[Any, ...]]
    expected: Callable[[Entry], Any]
    reference: str
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def gold_skill(self) -> str:
        """The skill label on instances: ``"algorithmic_code/<generator>"``."""
        return f"{FAMILY}/{self.generator}"


def _meta(entry: Entry) -> Mapping[str, Any]:
    return entry["metadata"]


def _skill(
    generator: str,
    function: str,
    signature: str,
    doc: str,
    arguments: Callable[[Entry], tuple[Any, ...]],
    expected: Callable[[Entry], Any],
    body: str,
    **settings: Any,
) -> FunctionSkill:
    reference = f'{signature}:\n    """{doc}"""\n{body}'
    return FunctionSkill(generator, function, signature, doc, arguments, expected, reference, settings)


#: The family's skills in their default order.
ALGORITHMIC_SKILLS: dict[str, FunctionSkill] = {
    s.generator: s
    for s in (
        _skill(
            "letter_counting",
            "count_letter",
            "def count_letter(text: str, letter: str) -> int",
            "Return how many times the lowercase `letter` occurs in `text`, ignoring case.",
            lambda e: (" ".join(_meta(e)["span"]), _meta(e)["target_letter"]),
            lambda e: int(e["answer"]),
            "    return text.lower().count(letter)\n",
            min_words=3,
            max_words=8,
        ),
        _skill(
            "spell_backward",
            "spell_backward",
            "def spell_backward(word: str) -> str",
            "Return `word` spelled backward.",
            lambda e: (_meta(e)["word"],),
            lambda e: e["answer"],
            "    return word[::-1]\n",
        ),
        _skill(
            "word_sequence_reversal",
            "reverse_words",
            "def reverse_words(words: list[str]) -> list[str]",
            "Return the list of words in reverse order.",
            lambda e: (list(_meta(e)["words"]),),
            lambda e: [w.strip() for w in e["answer"].split(",")],
            "    return list(reversed(words))\n",
        ),
        _skill(
            "number_sorting",
            "sort_numbers",
            "def sort_numbers(numbers: list[float], descending: bool) -> list[float]",
            "Return `numbers` sorted in ascending order, or in descending order when `descending` is true.",
            lambda e: ([float(x) for x in _meta(e)["original_numbers"]], _meta(e)["direction"] == "descending"),
            lambda e: [float(x) for x in _meta(e)["sorted_numbers"]],
            "    return sorted(numbers, reverse=descending)\n",
            min_numbers=3,
            max_numbers=8,
        ),
        _skill(
            "word_sorting",
            "sort_words",
            "def sort_words(words: list[str], descending: bool) -> list[str]",
            "Return `words` sorted by ASCII/Unicode order (uppercase before lowercase), ascending, "
            "or descending when `descending` is true.",
            lambda e: (list(_meta(e)["transformed_words"]), _meta(e)["direction"] == "descending"),
            lambda e: list(_meta(e)["sorted_words"]),
            "    return sorted(words, reverse=descending)\n",
            min_words=3,
            max_words=8,
        ),
        _skill(
            "caesar_cipher",
            "caesar_decrypt",
            "def caesar_decrypt(text: str, shift: int) -> str",
            "Decrypt uppercase `text` that was encrypted by shifting every letter `shift` places forward "
            "in the alphabet (wrapping from Z to A); spaces stay as they are.",
            lambda e: (_meta(e)["cipher_text"], _meta(e)["rotation"]),
            lambda e: e["answer"],
            "    return ''.join(chr((ord(c) - 65 - shift) % 26 + 65) if c.isalpha() else c for c in text)\n",
            min_words=2,
            max_words=6,
        ),
        _skill(
            "base_conversion",
            "convert_base",
            "def convert_base(number: str, source_base: int, target_base: int) -> str",
            "Convert `number`, written in `source_base`, to its digits in `target_base` (lowercase letters "
            "for digits above 9, no prefix).",
            lambda e: (_meta(e)["source_repr"], _meta(e)["source_base"], _meta(e)["target_base"]),
            lambda e: e["answer"],
            "    value = int(number, source_base)\n"
            "    digits = '0123456789abcdefghijklmnopqrstuvwxyz'\n"
            "    out = ''\n"
            "    while value:\n"
            "        value, rest = divmod(value, target_base)\n"
            "        out = digits[rest] + out\n"
            "    return out or '0'\n",
        ),
        _skill(
            "count_primes",
            "count_primes",
            "def count_primes(start: int, end: int) -> int",
            "Return how many prime numbers lie between `start` and `end`, both included.",
            lambda e: (_meta(e)["start"], _meta(e)["end"]),
            lambda e: int(e["answer"]),
            "    def is_prime(n: int) -> bool:\n"
            "        if n < 2:\n"
            "            return False\n"
            "        k = 2\n"
            "        while k * k <= n:\n"
            "            if n % k == 0:\n"
            "                return False\n"
            "            k += 1\n"
            "        return True\n"
            "    return sum(is_prime(n) for n in range(start, end + 1))\n",
            max_n=2000,
        ),
        _skill(
            "count_bits",
            "count_bits",
            "def count_bits(n: int) -> int",
            "Return the number of 1 bits in the binary representation of the non-negative integer `n`.",
            lambda e: (_meta(e)["number"],),
            lambda e: int(e["answer"]),
            "    return bin(n).count('1')\n",
        ),
        _skill(
            "isomorphic_strings",
            "is_isomorphic",
            "def is_isomorphic(s: str, t: str) -> bool",
            "Return whether `s` can be turned into `t` by replacing characters consistently: every "
            "occurrence of a character maps to the same character and no two characters map to the same one.",
            lambda e: tuple(_meta(e)["words"]),
            lambda e: e["answer"] == "True",
            "    if len(s) != len(t):\n"
            "        return False\n"
            "    forward, backward = {}, {}\n"
            "    for a, b in zip(s, t):\n"
            "        if forward.setdefault(a, b) != b or backward.setdefault(b, a) != a:\n"
            "            return False\n"
            "    return True\n",
        ),
        _skill(
            "ransom_note",
            "can_construct",
            "def can_construct(note: str, magazine: str) -> bool",
            "Return whether `note` can be written with the letters of `magazine`, each letter used at most once.",
            lambda e: (_meta(e)["ransom_note"], _meta(e)["magazine"]),
            lambda e: e["answer"] == "True",
            "    from collections import Counter\n    return not Counter(note) - Counter(magazine)\n",
        ),
        _skill(
            "spiral_matrix",
            "spiral_order",
            "def spiral_order(matrix: list[list[int]]) -> list[int]",
            "Return the elements of the matrix in clockwise spiral order, starting at the top-left element.",
            lambda e: ([list(row) for row in _meta(e)["matrix"]],),
            lambda e: [int(x) for x in e["answer"].split()],
            "    out = []\n"
            "    rows = [list(r) for r in matrix]\n"
            "    while rows:\n"
            "        out += rows.pop(0)\n"
            "        rows = [list(r) for r in zip(*rows)][::-1]\n"
            "    return out\n",
            max_n=5,
        ),
    )
}
