"""Pulling the final answer out of free text (:func:`extract_answer`)."""

from __future__ import annotations

import re

from teachgraph.tasks import _sympy_worker
from teachgraph.tasks.answers.equivalence import _to_sympy_syntax
from teachgraph.tasks.answers.latex import find_boxed
from teachgraph.tasks.answers.normalize import MAX_ANSWER_CHARS, normalize_answer, parse_number, split_list

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
