"""Math answer extraction, normalisation and equivalence, shared by all math tasks.

Three steps, each usable on its own:

* :func:`extract_answer` pulls the final answer out of free text. It prefers the student's
  answer format, an ``Answer: X`` line, then ``\\boxed{...}``, then ``#### X`` (GSM8K), then a
  text that is itself a bare answer, then the last number in the text.
* :func:`normalize_answer` maps equivalent spellings to one canonical string: ``"$1,234.50"``,
  ``"1234.5 dollars"`` and ``"\\boxed{1234.5}"`` all become ``"1234.5"``; ``"\\dfrac{3}{4}"``,
  ``"\\frac34"`` and ``"3/4"`` become ``"0.75"``.
* :func:`answers_equal` decides equivalence: equal canonical strings, else equal numbers (exact
  for integers, relative tolerance otherwise), else element-wise for lists, else sympy
  (``simplify(a - b) == 0``) in a worker process under a hard time limit.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import functools
import json
import os
import re
import select
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from teachgraph.tasks import _sympy_worker

__all__ = [
    "ANSWER_INSTRUCTION",
    "MAX_ANSWER_CHARS",
    "ParsedList",
    "answer_prompt",
    "answers_equal",
    "canonical_number",
    "extract_answer",
    "find_boxed",
    "format_answer_target",
    "latex_to_plain",
    "normalize_answer",
    "parse_fraction_parts",
    "parse_number",
    "split_list",
    "sympy_equal",
]

#: Default relative tolerance for comparing non-integer numbers.
DEFAULT_REL_TOL = 1e-6
#: Default hard time limit (seconds) for one sympy equivalence check.
DEFAULT_SYMPY_TIMEOUT = 2.0
#: Longer "answers" are compared as plain text only: final answers are short, and some of the
#: parsing below is quadratic in the worst case.
MAX_ANSWER_CHARS = 300

# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------

# "Answer: X", "Final answer: X", "**Answer:** X". The lookbehind keeps "youranswer:" out.
_ANSWER_MARKER_RE = re.compile(r"(?<![A-Za-z])(?:final\s+)?answer\s*\**\s*[:：]", re.IGNORECASE)
_HASHES_RE = re.compile(r"####[ \t]*([^\n]*)")
# A number as written in prose: sign, thousands separators, decimals, an optional "/denominator".
_PROSE_NUMBER_RE = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+(?:\.\d+)?)?")


def extract_answer(text: str | None) -> str | None:
    """The final answer in ``text`` (stripped, otherwise as written), or ``None`` if it has none.

    Order of preference:

    1. the *first* ``Answer: X`` marker (the student's format) whose content is an answer. The
       first, not the last, because small students tend to run on after answering and invent
       further "Question: ... Answer: ..." pairs; the first marker answers the question asked.
       If no marker holds a bare answer, the last number on the first marker's line;
    2. the last ``\\boxed{...}`` (nested braces handled);
    3. the first ``#### X`` line (GSM8K's format);
    4. the whole text, when it is one short line that is itself an answer (``"3/4"``,
       ``"['1', '2']"``, ``"$18.00"``): a bare reference answer must extract as itself;
    5. the last number in the text.
    """
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None

    marked = [_marker_content(text, m.end()) for m in _ANSWER_MARKER_RE.finditer(text)]
    marked = [c for c in marked if c]
    # The first marker whose content is an answer ("To answer: we need..." is prose, skip it).
    for content in marked:
        if _is_bare_answer(content):
            return content
    if marked:
        # "Answer: The total is 18": the last number of the first marked line, else the line.
        content = marked[0]
        boxed_in = find_boxed(content)
        if boxed_in is not None and boxed_in.strip():
            return boxed_in.strip()
        numbers = _PROSE_NUMBER_RE.findall(content)
        return numbers[-1] if numbers else content

    boxed = find_boxed(text)
    if boxed is not None and boxed.strip():
        return boxed.strip()

    hashes = _HASHES_RE.search(text)
    if hashes is not None and hashes.group(1).strip():
        return _clean_marker_content(hashes.group(1))

    if "\n" not in text and len(text) <= 200 and _is_bare_answer(text):
        return text

    numbers = _PROSE_NUMBER_RE.findall(text)
    return numbers[-1] if numbers else None


def _marker_content(text: str, start: int) -> str:
    """What follows an answer marker: the rest of its line, or the next non-empty line."""
    line, _, after = text[start:].partition("\n")
    content = _clean_marker_content(line)
    if not content:
        # "Answer:\n18": the answer sits on the next non-empty line.
        for next_line in after.splitlines():
            content = _clean_marker_content(next_line)
            if content:
                break
    return content


def _clean_marker_content(content: str) -> str:
    """Strip markdown emphasis, whitespace and a sentence-final period around an answer."""
    content = content.strip().strip("*_`").strip()
    # A final period ends the sentence; it is not a decimal point (no digit follows it).
    if content.endswith(".") and not content.endswith(".."):
        content = content[:-1].rstrip()
    return content


def _is_bare_answer(text: str) -> bool:
    """Whether a one-line text is an answer by itself rather than a sentence containing one."""
    if len(text) > MAX_ANSWER_CHARS:
        return False
    norm = normalize_answer(text)
    if parse_number(norm) is not None:
        return True
    parsed = split_list(norm)
    if parsed is not None:
        return bool(parsed.items) and all(parse_number(x) is not None for x in parsed.items)
    # A symbolic expression such as "2x+3" or "sqrt(2)/2": digits/operators/known names only.
    plain = _to_sympy_syntax(norm)
    return plain is not None and any(c.isdigit() for c in plain) and _sympy_worker.is_safe_expression(plain)


def find_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` / ``\\fbox{...}`` in ``text`` (nested braces kept)."""
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    i = start + (len("\\boxed") if text.startswith("\\boxed", start) else len("\\fbox"))
    while i < len(text) and text[i] == " ":
        i += 1
    if i < len(text) and text[i] == "{":
        group = _read_braced(text, i)
        return group[0] if group is not None else None
    # "\boxed 5": the argument runs to the next whitespace or math delimiter.
    m = re.match(r"[^\s$]+", text[i:])
    return m.group(0) if m else None


def _read_braced(text: str, i: int) -> tuple[str, int] | None:
    """Given ``text[i] == "{"``, the content up to the matching brace and the index after it."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{" and (j == 0 or text[j - 1] != "\\"):
            depth += 1
        elif text[j] == "}" and (j == 0 or text[j - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return text[i + 1 : j], j + 1
    return None


def _read_argument(text: str, i: int) -> tuple[str, int] | None:
    """A LaTeX macro argument at ``i``: a braced group, a ``\\command`` or a single character."""
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        return None
    if text[i] == "{":
        return _read_braced(text, i)
    if text[i] == "\\":
        m = re.match(r"\\[A-Za-z]+", text[i:])
        if m:
            return m.group(0), i + len(m.group(0))
    # "\frac34": each argument is one character.
    return text[i], i + 1


#: The instruction appended to every math question: the student's answer format.
ANSWER_INSTRUCTION = 'Finish your response with a final line of the form "Answer: <final answer>".'


def answer_prompt(question: str) -> str:
    """The student prompt for a math question: the question plus :data:`ANSWER_INSTRUCTION`."""
    return f"{question.rstrip()}\n\n{ANSWER_INSTRUCTION}"


def format_answer_target(answer: str, rationale: str | None = None) -> str:
    """A training target: rationale lines (if any), then ``Answer: <answer>`` as the last line.

    :func:`extract_answer` returns exactly ``answer`` (whitespace collapsed to one line) from the
    result: "Answer:" markers inside the rationale are defused first, because the first marker
    wins extraction. Raises ``ValueError`` for an empty answer.
    """
    one_line = " ".join(answer.split())
    if not one_line:
        raise ValueError("a training target needs a non-empty answer")
    lines = []
    if rationale is not None and rationale.strip():
        lines.append(_defuse_answer_markers(rationale.strip()))
    lines.append(f"Answer: {one_line}")
    return "\n".join(lines)


def _defuse_answer_markers(text: str) -> str:
    """``"The answer: 5"`` → ``"The answer is 5"``, so that the rationale cannot win extraction."""
    return _ANSWER_MARKER_RE.sub(lambda m: m.group(0).rstrip(":：* ").rstrip() + " is", text)


# --------------------------------------------------------------------------------------------
# LaTeX → plain math
# --------------------------------------------------------------------------------------------

_TEXT_COMMANDS = (
    "text",
    "textbf",
    "textit",
    "textrm",
    "textnormal",
    "mathrm",
    "mathbf",
    "mathit",
    "mathsf",
    "mbox",
    "hbox",
    "operatorname",
    "boxed",
    "fbox",
)
# Commands that only affect spacing or sizing.
_DROP_COMMANDS_RE = re.compile(
    r"\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big|displaystyle|textstyle|quad|qquad|"
    r"middle|limits|nolimits)(?![A-Za-z])"
)
_SPACING_RE = re.compile(r"\\[,;:! ]")
_DEGREES_RE = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree|°")
_SIMPLE_SYMBOLS = {
    "\\cdot": "*",
    "\\times": "*",
    "\\ast": "*",
    "\\div": "/",
    "\\pi": "pi",
    "\\infty": "oo",
    "\\infinity": "oo",
    "\\le": "<=",
    "\\ge": ">=",
    "\\neq": "!=",
}
# The lookahead keeps "\le" from matching inside "\leq" and "\pi" inside "\pitchfork".
_SIMPLE_SYMBOLS_RE = re.compile(
    "(?:" + "|".join(re.escape(k) for k in sorted(_SIMPLE_SYMBOLS, key=len, reverse=True)) + r")(?![A-Za-z])"
)
_UNICODE = {
    "\u2212": "-",  # minus sign
    "\u2013": "-",  # en dash, often typed for minus
    "\u00d7": "*",
    "\u22c5": "*",
    "\u00f7": "/",
    "\u03c0": "pi",
    "\u221e": "oo",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\u2032": "'",
    "\uff1a": ":",
}


def latex_to_plain(text: str) -> str:
    """Light LaTeX → plain-math conversion (``\\frac{a}{b}`` → ``(a)/(b)``, ``\\sqrt{x}`` →
    ``sqrt(x)``, ``\\cdot`` → ``*``, ``\\text{..}`` → its content, sizing commands dropped).

    Braces that remain (``x^{2}``) are kept; :func:`normalize_answer` turns them into
    parentheses. Unknown commands are left in place so that a later parse can refuse them.
    """
    for src, dst in _UNICODE.items():
        text = text.replace(src, dst)
    text = _unwrap_commands(text, _TEXT_COMMANDS)
    text = _DROP_COMMANDS_RE.sub("", text)
    text = _SPACING_RE.sub(" ", text)
    text = text.replace("~", " ")
    text = _DEGREES_RE.sub("", text)
    text = text.replace("\\%", "%").replace("\\$", "$")
    text = re.sub(r"\\[dt]frac(?![A-Za-z])", r"\\frac", text)
    text = re.sub(r"\\cfrac(?![A-Za-z])", r"\\frac", text)
    text = _convert_frac(text)
    text = _convert_sqrt(text)
    text = _SIMPLE_SYMBOLS_RE.sub(lambda m: _SIMPLE_SYMBOLS[m.group(0)], text)
    # Escaped set braces are plain grouping once the markup is gone.
    return text.replace("\\{", "{").replace("\\}", "}")


def _unwrap_commands(text: str, names: tuple[str, ...]) -> str:
    """Replace ``\\name{content}`` by ``content`` for each command name (innermost too)."""
    pattern = re.compile(r"\\(" + "|".join(names) + r")(?![A-Za-z])\s*")
    while True:
        m = pattern.search(text)
        if m is None:
            return text
        arg = _read_argument(text, m.end())
        if arg is None:
            return text[: m.start()] + text[m.end() :]
        content, end = arg
        text = text[: m.start()] + content + text[end:]


def _convert_frac(text: str) -> str:
    """``\\frac{a}{b}`` / ``\\frac34`` → ``(a)/(b)``, converting nested fractions too."""
    while True:
        i = text.find("\\frac")
        if i < 0:
            return text
        first = _read_argument(text, i + len("\\frac"))
        second = _read_argument(text, first[1]) if first else None
        if first is None or second is None:
            # A malformed fraction: drop the command so that the loop terminates.
            return text[:i] + text[i + len("\\frac") :]
        num, den = _convert_frac(first[0]), _convert_frac(second[0])
        text = f"{text[:i]}({num})/({den}){text[second[1] :]}"


def _convert_sqrt(text: str) -> str:
    """Square roots: ``\\sqrt{x}`` → ``sqrt(x)``, ``\\sqrt[n]{x}`` → ``(x)^(1/(n))``."""
    while True:
        i = text.find("\\sqrt")
        if i < 0:
            return text
        j = i + len("\\sqrt")
        index: str | None = None
        rest = text[j:].lstrip()
        if rest.startswith("["):
            k = j + (len(text[j:]) - len(rest))
            close = text.find("]", k)
            if close < 0:
                return text[:i] + text[j:]
            index, j = text[k + 1 : close], close + 1
        arg = _read_argument(text, j)
        if arg is None:
            return text[:i] + text[j:]
        body = _convert_sqrt(arg[0])
        repl = f"sqrt({body})" if index is None else f"({body})^(1/({index}))"
        text = text[:i] + repl + text[arg[1] :]


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_THOUSANDS_RE = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_PLAIN_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_FRACTION_RE = re.compile(r"([+-]?)(\d+(?:\.\d+)?)/([+-]?\d+(?:\.\d+)?)")
_MIXED_RE = re.compile(r"([+-]?)(\d+)\s+(\d+)\s*/\s*(\d+)")
_PAREN_NUMBER_RE = re.compile(r"\(\s*([+-]?\d+(?:\.\d+)?)\s*\)")
_CURRENCY_RE = re.compile(r"[$€£¥₹]|\b(?:USD|EUR|GBP|Rs\.?)(?=\s*\d)")
# Units that may be glued to a number ("5cm", "3h", "2nd"); other glued letters ("5x") are algebra.
_UNIT_WORDS = "m cm mm km g kg mg lb lbs oz ft in s sec secs min mins h hr hrs l ml mph kmh kph st nd rd th am pm"
_UNITS = frozenset(_UNIT_WORDS.split())
# A number, then words; digits in the words only as a final exponent ("cm^2"), so that
# "2 apples and 3 pears" is a sentence, not the answer 2.
_WORD_SUFFIX_RE = re.compile(r"([+-]?[\d.,/]*\d[\d.,/]*)\s*([A-Za-z][A-Za-z\s.'/-]*(?:\^?[23²³])?)")
_TEXT_ONLY_RE = re.compile(r"[A-Za-z][A-Za-z\s'-]*")


@dataclass(frozen=True)
class ParsedList:
    """A list/tuple answer: its brackets (``""`` when it had none) and its element strings."""

    open: str
    close: str
    items: list[str]


def normalize_answer(answer: str) -> str:
    """Canonical string for an answer, so that equivalent spellings compare equal as strings.

    Numbers become :func:`canonical_number` strings (``"$1,234.50"`` → ``"1234.5"``,
    ``"\\frac{3}{4}"`` → ``"0.75"``, ``"50%"`` → ``"50"``, ``"18 dollars"`` → ``"18"``); lists
    are normalised element-wise (``"['1', '2.0']"`` → ``"[1,2]"``); plain words are case-folded;
    other expressions lose LaTeX markup and whitespace (``"2 x^{2}"`` → ``"2x^(2)"``). Texts over
    :data:`MAX_ANSWER_CHARS` only have their whitespace collapsed.
    """
    if len(answer) > MAX_ANSWER_CHARS:
        return " ".join(answer.split())
    # Lists split before equations are read, so "x=5, y=3" stays a pair of values.
    text = _clean_surface(answer, equation_rhs=False)
    parsed = split_list(text)
    if parsed is not None:
        items = ",".join(_normalize_scalar(x) for x in parsed.items)
        return f"{parsed.open or '['}{items}{parsed.close or ']'}"
    return _normalize_scalar(text)


def _clean_surface(answer: str, *, equation_rhs: bool = True) -> str:
    """LaTeX/markup/currency clean-up that applies to whole answers and list elements alike.

    With ``equation_rhs``, an equation is replaced by its right-hand side.
    """
    text = answer.strip()
    boxed = find_boxed(text)
    if boxed is not None:
        text = boxed
    text = latex_to_plain(text)
    # Math delimiters and currency signs: neither changes the value.
    text = text.replace("\\(", "").replace("\\)", "").replace("\\[", "").replace("\\]", "")
    text = _CURRENCY_RE.sub("", text)
    text = text.strip().strip("*`").strip()
    # An equation's value is its right-hand side ("x = 5", "2+3 = 5", "y \approx 1.41").
    text = re.sub(r"\\approx|≈", "=", text)
    if equation_rhs and "=" in text and not re.search(r"[<>!]=|==", text):
        text = text.rsplit("=", 1)[1]
    text = text.strip()
    while text and text[-1] in ".;:!" and not text.endswith(".."):
        text = text[:-1].rstrip()
    return text


def _normalize_scalar(text: str) -> str:
    """Normalise one non-list answer (see :func:`normalize_answer`)."""
    text = _clean_surface(text).strip("'\"").strip()
    # Percent and "percent": "50%" answers "what percent ..." with the number 50.
    text = re.sub(r"\s*(?:%|\bpercent\b|\bper cent\b)\s*$", "", text, flags=re.IGNORECASE)
    if _THOUSANDS_RE.fullmatch(text.split(" ")[0]) and "," in text:
        head, _, tail = text.partition(" ")
        text = (head.replace(",", "") + " " + tail).strip()
    mixed = _MIXED_RE.fullmatch(text)
    if mixed:
        sign, whole, num, den = mixed.groups()
        if int(den) != 0:
            value = int(whole) + Fraction(int(num), int(den))
            return canonical_number(-value if sign == "-" else value)
    text = _strip_units(text)
    if _TEXT_ONLY_RE.fullmatch(text):
        return " ".join(text.casefold().split())
    text = re.sub(r"\s+", "", text)
    value = parse_number(text)
    if value is not None:
        return canonical_number(value)
    # Remaining braces are grouping (x^{2}); parentheses are what sympy reads.
    return text.replace("{", "(").replace("}", ")")


def _strip_units(text: str) -> str:
    """Drop units/words after a number: ``"18 dollars"`` → ``"18"``, ``"5cm"`` → ``"5"``.

    A suffix glued to the number is only dropped when it is a known unit, because ``"5x"`` and
    ``"2x^2"`` are algebra; a space-separated suffix is dropped when it starts with a word of two
    or more letters (``"5 apples"``) or a one-letter unit (``"5 m"``), but ``"5 x"`` is kept.
    """
    m = _WORD_SUFFIX_RE.fullmatch(text)
    if m is None:
        return text
    number, suffix = m.group(1), m.group(2).strip()
    glued = not text[len(number) :][:1].isspace()
    if glued:
        unit = re.fullmatch(r"([A-Za-z]+)(?:\^?[23²³])?(?:/[A-Za-z]+)?", suffix)
        return number if unit is not None and unit.group(1).lower() in _UNITS else text
    first_word = re.match(r"[A-Za-z]+", suffix)
    assert first_word is not None  # the regex guarantees a leading letter
    word = first_word.group(0)
    if len(word) == 1 and word.lower() not in _UNITS:
        return text
    return number


def parse_number(text: str) -> Fraction | None:
    """The exact value of a normalised numeric string, or ``None`` if it is not a plain number.

    Accepts integers, decimals, scientific notation, ``a/b`` (also ``(a)/(b)`` as produced from
    ``\\frac``) and ``1,234`` thousands separators. Works on raw answers too for simple cases,
    but is meant to be applied to :func:`normalize_answer` output.
    """
    s = text.strip().replace(" ", "")
    if not s or len(s) > MAX_ANSWER_CHARS:
        return None
    if _THOUSANDS_RE.fullmatch(s):
        s = s.replace(",", "")
    # "(3)/(4)" and "-(3)/(4)" come from \frac; unwrap parenthesised plain numbers.
    previous = None
    while previous != s:
        previous, s = s, _PAREN_NUMBER_RE.sub(r"\1", s)
    s = s.replace("--", "+").replace("+-", "-").replace("-+", "-")
    if s.startswith("+"):
        s = s[1:]
    exponent = re.search(r"[eE]([+-]?\d+)$", s)
    if exponent is not None and abs(int(exponent.group(1))) > 400:
        return None  # "1e999999999" would build an astronomically large exact integer
    try:
        if _PLAIN_NUMBER_RE.fullmatch(s):
            return Fraction(s)
        m = _FRACTION_RE.fullmatch(s)
        if m:
            sign, num, den = m.groups()
            den_value = Fraction(den)
            if den_value == 0:
                return None
            value = Fraction(num) / den_value
            return -value if sign == "-" else value
        if len(s) <= 100 and _DIVISION_ONLY_RE.fullmatch(s):
            return _eval_division_only(s)
    except (ValueError, ZeroDivisionError, OverflowError, SyntaxError, RecursionError):
        return None
    return None


_DIVISION_ONLY_RE = re.compile(r"[\d.()/+-]+")


def _eval_division_only(s: str) -> Fraction | None:
    """Exact value of a nested fraction such as ``((1)/(2))/(3)`` (from ``\\frac{\\frac12}{3}``).

    Only division and signs are evaluated: a fraction bar *is* a number, whereas ``3+4`` is an
    unevaluated expression, which a verifier must not accept for ``7``.
    """
    tree = ast.parse(s, mode="eval")

    def value(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            segment = ast.get_source_segment(s, node)
            if segment is None:
                raise ValueError(s)
            return Fraction(segment)  # from the text, so 0.1 stays exactly 1/10
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = value(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return value(node.left) / value(node.right)
        raise ValueError(s)

    try:
        return value(tree.body)
    except (ValueError, ZeroDivisionError):
        return None


def canonical_number(value: Fraction) -> str:
    """``"18"`` for integers, an exact decimal when one exists (``"18.5"``), else ``"p/q"``."""
    if value.denominator == 1:
        return str(value.numerator)
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return f"{value.numerator}/{value.denominator}"
    digits = max(twos, fives)
    scaled = value * 10**digits
    assert scaled.denominator == 1
    sign = "-" if scaled < 0 else ""
    body = str(abs(scaled.numerator)).rjust(digits + 1, "0")
    return f"{sign}{body[:-digits]}.{body[-digits:]}"


def parse_fraction_parts(answer: str) -> tuple[int, int] | None:
    """Numerator and denominator *as written* (``"6/8"`` → ``(6, 8)``, not reduced).

    Understands ``a/b``, ``$a/b$``, ``\\frac{a}{b}``, ``\\dfrac``, ``\\tfrac``, ``\\frac34`` and a
    leading minus sign. Returns ``None`` for anything that is not a single integer fraction.
    """
    if len(answer) > MAX_ANSWER_CHARS:
        return None
    text = _clean_surface(answer)
    text = re.sub(r"\s+", "", text)
    previous = None
    while previous != text:
        previous, text = text, _PAREN_NUMBER_RE.sub(r"\1", text)
    m = re.fullmatch(r"([+-]?)(\d+)/([+-]?\d+)", text)
    if m is None:
        return None
    sign, num, den = m.groups()
    numerator, denominator = int(num), int(den)
    if denominator == 0:
        return None
    if sign == "-":
        numerator = -numerator
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    return numerator, denominator


def split_list(text: str) -> ParsedList | None:
    """Split a list/tuple answer into its elements, or ``None`` when ``text`` is not a list.

    ``"[1, 2]"``, ``"['1', '2']"``, ``"(3, 4)"`` and unbracketed ``"1, 2, 3"`` are lists;
    ``"1,234"`` is a number with a thousands separator, not a list. Only top-level commas split.
    """
    s = text.strip()
    if not s or len(s) > MAX_ANSWER_CHARS:
        return None
    open_, close = "", ""
    if len(s) >= 2 and s[0] in "[(" and s[-1] in "])" and _matching_outer(s):
        open_, close, inner = s[0], s[-1], s[1:-1]
        items = _split_top_level(inner)
        # "(5)" is a parenthesised scalar; "[5]" and "[]" are lists.
        if open_ == "(" and close == ")" and len(items) < 2:
            return None
    else:
        # "1,234" and "1,234 dollars" are one number; "1, 234" and "1,2,3" are lists.
        if ", " not in s and re.match(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])", s):
            return None
        items = _split_top_level(s)
        if len(items) < 2:
            return None
    cleaned = [x.strip().strip("'\"").strip() for x in items]
    if open_ and cleaned == [""]:
        cleaned = []
    return ParsedList(open_, close, cleaned)


def _matching_outer(s: str) -> bool:
    """Whether the first bracket of ``s`` closes at its last character (``"(1)+(2)"`` → False)."""
    depth = 0
    for i, ch in enumerate(s):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0 and i != len(s) - 1:
                return False
    return depth == 0


def _split_top_level(s: str) -> list[str]:
    """Split on commas that are not nested inside brackets or quotes."""
    items: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(s):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(s[start:i])
            start = i + 1
    items.append(s[start:])
    return items


# --------------------------------------------------------------------------------------------
# Equivalence
# --------------------------------------------------------------------------------------------


def answers_equal(
    a: str | None,
    b: str | None,
    *,
    rel_tol: float = DEFAULT_REL_TOL,
    symbolic: bool = True,
    sympy_timeout: float = DEFAULT_SYMPY_TIMEOUT,
) -> bool:
    """Whether two final answers are mathematically the same.

    1. equal after :func:`normalize_answer`;
    2. lists: same brackets (or one side unbracketed), same length, elements equal in order;
    3. numbers: exactly equal when both are integers (so ``10**9`` and ``10**9 + 1`` differ),
       otherwise within ``rel_tol`` (``"0.30000000000000004"`` equals ``"0.3"``);
    4. otherwise, when ``symbolic``, sympy: ``simplify(a - b) == 0`` in a worker process killed
       after ``sympy_timeout`` seconds (a timeout counts as "not equal").

    ``symbolic=False`` is for verifiers of numeric answers: there ``"3+4"`` must not pass for
    ``"7"`` (a student could copy the question's expression), while ``"7.00"``, ``"$7"`` and
    ``"\\frac{14}{2}"`` still do. Empty or missing answers are never equal to anything.
    """
    if a is None or b is None or not a.strip() or not b.strip():
        return False
    na, nb = normalize_answer(a), normalize_answer(b)
    if not na or not nb:
        return False
    if na == nb:
        return True
    la, lb = split_list(na), split_list(nb)
    if la is not None or lb is not None:
        if la is None or lb is None or len(la.items) != len(lb.items):
            return False
        if la.open and lb.open and (la.open, la.close) != (lb.open, lb.close):
            return False
        return all(
            answers_equal(x, y, rel_tol=rel_tol, symbolic=symbolic, sympy_timeout=sympy_timeout)
            for x, y in zip(la.items, lb.items, strict=True)
        )
    va, vb = parse_number(na), parse_number(nb)
    if va is not None and vb is not None:
        return _numbers_close(va, vb, rel_tol)
    if not symbolic or _is_words(na) or _is_words(nb):
        return False  # prose is compared as (case-folded) text only, and that already differed
    pa, pb = _to_sympy_syntax(na), _to_sympy_syntax(nb)
    if pa is None or pb is None:
        return False
    return sympy_equal(pa, pb, timeout=sympy_timeout) is True


def _is_words(normalized: str) -> bool:
    """Prose such as ``"yes"`` or ``"north east"``, as opposed to ``"x"`` or ``"pi"``."""
    if not _TEXT_ONLY_RE.fullmatch(normalized):
        return False
    return any(len(w) > 1 and w not in _sympy_worker.ALLOWED_NAMES for w in re.findall(r"[A-Za-z]+", normalized))


def _numbers_close(a: Fraction, b: Fraction, rel_tol: float) -> bool:
    if a == b:
        return True
    if a.denominator == 1 and b.denominator == 1:
        return False
    scale = max(abs(a), abs(b))
    return abs(a - b) <= Fraction(rel_tol) * scale


def _to_sympy_syntax(normalized: str) -> str | None:
    """A normalised answer in the syntax ``parse_expr`` reads, or ``None`` if it is not math."""
    s = normalized.replace("{", "(").replace("}", ")")
    if "\\" in s:
        return None  # an unconverted LaTeX command: we do not guess what it means
    return s if _sympy_worker.is_safe_expression(s) else None


def sympy_equal(a: str, b: str, *, timeout: float = DEFAULT_SYMPY_TIMEOUT) -> bool | None:
    """Decide ``a == b`` with sympy within ``timeout`` seconds; ``None`` if undecided/timed out.

    ``a`` and ``b`` are plain-math strings (``"sqrt(2)/2"``, ``"x^2+2x+1"``); use
    :func:`answers_equal` for raw answers. The work runs in a persistent worker process that is
    killed and restarted when a check overruns, so the limit holds on any thread. Where no
    process can be started, a daemon thread is used instead (it is abandoned on timeout).
    """
    return _cached_sympy_equal(a, b, float(timeout))


@functools.lru_cache(maxsize=4096)
def _cached_sympy_equal(a: str, b: str, timeout: float) -> bool | None:
    if not (_sympy_worker.is_safe_expression(a) and _sympy_worker.is_safe_expression(b)):
        return None
    return _SERVICE.ask(a, b, timeout)


class _SympyService:
    """One worker process, shared by all threads (calls are serialised by a lock)."""

    _STARTUP_TIMEOUT = 60.0  # importing sympy on a busy 2-core machine can take seconds

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._use_threads = os.name != "posix"  # select() on pipes is POSIX-only

    def ask(self, a: str, b: str, timeout: float) -> bool | None:
        if self._use_threads:
            return _run_in_thread(lambda: _sympy_worker.equal(a, b), timeout)
        with self._lock:
            for _attempt in range(2):
                try:
                    proc = self._ensure_started()
                    assert proc.stdin is not None
                    proc.stdin.write((json.dumps({"a": a, "b": b}) + "\n").encode())
                    proc.stdin.flush()
                    line = self._readline(proc, timeout)
                    reply = json.loads(line) if line is not None else None
                except (OSError, ValueError) as err:
                    # The worker died or never started; retry once with a fresh one.
                    self._stop()
                    if isinstance(err, _StartupError):
                        self._use_threads = True
                        break
                    continue
                if not isinstance(reply, dict):  # overran the limit: kill it; next call restarts
                    self._stop()
                    return None
                result = reply.get("equal")
                return result if isinstance(result, bool) else None
        return _run_in_thread(lambda: _sympy_worker.equal(a, b), timeout)

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        # Run the worker file as a script: it needs only sympy, not the teachgraph package
        # (whose import would slow every restart). -P keeps this folder off its sys.path.
        script = str(Path(_sympy_worker.__file__).resolve())
        try:
            proc = subprocess.Popen(
                [sys.executable, "-P", script],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as err:
            raise _StartupError(str(err)) from err
        self._proc = proc
        try:
            ready = self._readline(proc, self._STARTUP_TIMEOUT)
        except OSError as err:  # it exited at once (no sympy for that interpreter, ...)
            self._stop()
            raise _StartupError(str(err)) from err
        if ready is None or not json.loads(ready).get("ready"):
            self._stop()
            raise _StartupError("sympy worker did not start")
        return proc

    @staticmethod
    def _readline(proc: subprocess.Popen[bytes], timeout: float) -> str | None:
        """One reply line, ``None`` on timeout; raises ``OSError`` if the worker has exited."""
        assert proc.stdout is not None
        readable, _, _ = select.select([proc.stdout], [], [], timeout)
        if not readable:
            return None
        line = proc.stdout.readline()
        if not line:
            raise OSError("sympy worker exited")
        return line.decode()

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            proc.kill()
        with contextlib.suppress(Exception):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def close(self) -> None:
        """Stop the worker (registered with ``atexit``)."""
        with self._lock:
            self._stop()


class _StartupError(OSError):
    """No worker process can be started here (no usable interpreter, forbidden, ...)."""


def _run_in_thread(fn: Callable[[], bool | None], timeout: float) -> bool | None:
    """Run ``fn`` in a daemon thread; ``None`` if it does not finish within ``timeout``."""
    result: list[bool | None] = []
    thread = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    thread.start()
    thread.join(timeout)
    return result[0] if result else None


_SERVICE = _SympyService()
atexit.register(_SERVICE.close)
