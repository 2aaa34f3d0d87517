"""Canonical spellings of answers and numbers (:func:`normalize_answer`, :func:`parse_number`)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from fractions import Fraction

from teachgraph.tasks.answers.latex import find_boxed, latex_to_plain

#: Longer "answers" are compared as plain text only: final answers are short, and some of the
#: parsing below is quadratic in the worst case.
MAX_ANSWER_CHARS = 300


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
