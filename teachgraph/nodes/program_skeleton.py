"""The skeleton a generator's writer completes: the task's own questions, with numbers drawn from rng.

A 1.5B coder model copies whatever program it is shown; shown a different skill's example it
wrote that skill's wording ("What is the sum of ..."), not the task's. Shown the task's own
questions as f-strings with their integers drawn from ``rng``, it only has to write each answer's
computation. The skeleton is built from the skill's questions the teacher sees:

* **Forms** (a question's text with its integers taken out: "Calculate N * N." and "Calculate
  N - N + N." are two) are drawn as often as the shown questions ask them, weighted (the student's
  failures weigh double when the teacher sees its results): one form per generator taught one
  operator pattern per skill (measured: "a - b + c" for all of basic_arithmetic), and four forms
  from five shown questions missed the test's commonest ("N * N", 20% of it).
* **Numbers** follow the shown numbers' digit counts: a digit count is drawn as often as the
  shown numbers have it, then a value within the task's range for that count (measured: chain_sum
  mixes one- and two-digit numbers; ranges taken per position from a handful of questions drew
  only one-digit ones, and ranges fixed at 1..100 turned one-digit sums into two-digit ones).
  A digit more is allowed only while the forms could not fill a quota with distinct questions.

The writer may reply with only the completed ``answer = ...`` lines (:meth:`Skeleton.complete`
puts them in): copying the whole program back cost ~400 output tokens a generator, most of a
run's teacher tokens, for the same program.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from teachgraph.nodes.question_forms import INTEGER, form

__all__ = ["MAX_SKELETON_FORMS", "MAX_SKELETON_NUMBERS", "MIN_DISTINCT", "Skeleton", "skeleton"]

MAX_SKELETON_NUMBERS = 6
#: Most question forms one skeleton asks (each adds a branch the writer completes; the writer's
#: reply must fit its max_tokens).
MAX_SKELETON_FORMS = 6
#: Fewest number combinations a skeleton allows, so a quota's draws can all be distinct.
MIN_DISTINCT = 400

PROGRAM = """import math


def number(rng):
{number}


def generate(rng):
{body}
    return {{"question": question, "answer": str(answer){rationale_example}}}
"""
WHOLE = """Start from this program, which asks the task's questions as often as the task does. {replace}
Keep the wording and the count of numbers of every question: the task asks only these. For a
narrower skill you may drop forms or change the number ranges.
```python
{program}```"""
TEMPLATE = """Start from this program, which asks the task's questions as often as the task does:
```python
{program}```
{replace} Reply with only {these}, each completed with an expression of its numbers, in one
```python block:
```python
{lines}
```
Only for a narrower skill, reply instead with the whole program, keeping the wording and the count
of numbers of every question (drop forms or change the number ranges)."""
REPLACE_ONE = "Replace `answer = ...` with code that computes the answer from the question's numbers."
REPLACE_EACH = "Replace each `answer = ...` with code that computes that question's answer from its numbers."
_PLACEHOLDER = re.compile(r"^(\s*)answer = \.\.\.$", flags=re.M)
_ANSWER_LINE = re.compile(r"^\s*answer\s*=\s*(.+?)\s*$", flags=re.M)


@dataclass(frozen=True)
class Skeleton:
    """A program to complete: ``code`` with one ``answer = ...`` per form, and the ``prompt`` text.

    ``answers_only``: the prompt asks for the answer lines alone (not when each draw also needs a
    written rationale, which only a whole program can give).
    """

    code: str
    prompt: str
    answers_only: bool = True

    @property
    def placeholders(self) -> int:
        return len(_PLACEHOLDER.findall(self.code))

    def complete(self, reply: str) -> str | None:
        """The program with ``reply``'s ``answer = ...`` lines in its placeholders, in order;
        None when ``reply`` is a whole program (it defines ``generate``) or holds another count
        of answer lines (the reply is then validated as it is)."""
        answers = _ANSWER_LINE.findall(reply)
        if not self.answers_only or "def generate" in reply or len(answers) != self.placeholders:
            return None
        filled = iter(answers)
        return _PLACEHOLDER.sub(lambda m: f"{m.group(1)}answer = {next(filled)}", self.code)


@dataclass
class _Form:
    """One form of the shown questions: an example of it, its weight and its count of numbers."""

    question: str
    weight: float
    numbers: int


def skeleton(
    questions: Sequence[str], weights: Sequence[float] | None = None, rationale_example: str = ""
) -> Skeleton | None:
    """The program to complete for ``questions`` (each weighing ``weights[i]``, default 1).

    Forms are ordered by weight (ties keep the order of ``questions``); at most
    ``MAX_SKELETON_FORMS`` are asked. None when no question has between 1 and
    ``MAX_SKELETON_NUMBERS`` integers.
    """
    if isinstance(questions, str):
        raise TypeError("skeleton() takes a list of questions, not one question")
    weights = list(weights) if weights is not None else [1.0] * len(questions)
    forms: dict[str, _Form] = {}
    for question, weight in zip(questions, weights, strict=True):
        question = " ".join(question.split())
        count = len(INTEGER.findall(question))
        if 0 < count <= MAX_SKELETON_NUMBERS:
            shape = forms.setdefault(form(question), _Form(question, 0.0, count))
            shape.weight += weight
    if not forms:
        return None
    chosen = sorted(forms.values(), key=lambda f: -f.weight)[:MAX_SKELETON_FORMS]
    asked = {form(f.question) for f in chosen}
    numbers = [int(m.group()) for q in questions if form(q) in asked for m in INTEGER.finditer(q)]
    lengths = _digit_lengths(numbers)
    _widen(lengths, [f.numbers for f in chosen])
    if len(chosen) == 1:
        body = _form_lines(chosen[0].question, "    ")
    else:
        weights_text = ", ".join(_number_text(f.weight) for f in chosen)
        body = [f"    form = rng.choices(range({len(chosen)}), weights=[{weights_text}])[0]"]
        for n, shape in enumerate(chosen):
            test = "else:" if n == len(chosen) - 1 else f"{'if' if n == 0 else 'elif'} form == {n}:"
            body += [f"    {test}", *_form_lines(shape.question, "        ")]
    code = PROGRAM.format(number=_number_function(lengths), body="\n".join(body), rationale_example=rationale_example)
    replace = REPLACE_ONE if len(chosen) == 1 else REPLACE_EACH
    if rationale_example:
        return Skeleton(code, WHOLE.format(program=code, replace=replace), answers_only=False)
    # One line per form, named by its numbers only: shown one example line, the local teacher
    # copied it for every skill ("answer = a + b * c"); shown each question's text beside its
    # line ("State the final answer to ...: {a} - {b} ="), it answered that text with a number.
    if len(chosen) == 1:
        lines, these = f"answer = ...  # from {', '.join(_template(chosen[0].question)[0])}", "this line"
    else:
        lines = "\n".join(
            f"answer = ...  # form {n}, from {', '.join(_template(f.question)[0])}" for n, f in enumerate(chosen)
        )
        these = f"these {len(chosen)} lines, one per form in this order"
    return Skeleton(code, TEMPLATE.format(program=code, replace=replace, these=these, lines=lines))


@dataclass
class _Length:
    """Numbers of one digit count: how many were shown, and the range to draw them from."""

    digits: int
    count: float
    low: int
    high: int


def _digit_lengths(numbers: list[int]) -> list[_Length]:
    """One range per digit count seen: one digit from 0 or 1 to 9, longer ones from 10...0 to
    their largest value rounded up at the leading digit (48 -> 10..50, 345 -> 100..400)."""
    by_digits: dict[int, list[int]] = {}
    for n in numbers:
        by_digits.setdefault(len(str(n)), []).append(n)
    lengths = []
    for digits, values in sorted(by_digits.items()):
        if digits == 1:
            low, high = (0 if min(values) == 0 else 1), 9
        else:
            step = 10 ** (digits - 1)
            low, high = step, min(-(-max(values) // step) * step, 10 * step - 1)
        lengths.append(_Length(digits, float(len(values)), low, high))
    return lengths


def _widen(lengths: list[_Length], counts: list[int]) -> None:
    """Add a digit at a time (as common as the commonest count) until the forms together allow
    ``MIN_DISTINCT`` questions."""
    while sum(sum(x.high - x.low + 1 for x in lengths) ** c for c in counts) < MIN_DISTINCT:
        top = lengths[-1]
        digits = top.digits + 1
        lengths.append(_Length(digits, max(x.count for x in lengths), 10 ** (digits - 1), 10**digits - 1))


def _number_function(lengths: list[_Length]) -> str:
    if len(lengths) == 1:
        return f"    return rng.randint({lengths[0].low}, {lengths[0].high})"
    ranges = ", ".join(f"({x.low}, {x.high})" for x in lengths)
    weights = ", ".join(_number_text(x.count) for x in lengths)
    return (
        "    # as many digits as the task's numbers have, as often\n"
        f"    low, high = rng.choices([{ranges}], weights=[{weights}])[0]\n"
        "    return rng.randint(low, high)"
    )


def _number_text(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _template(question: str) -> tuple[list[str], str]:
    """The names of ``question``'s numbers (``a``, ``b``, ...) and its text as an f-string body."""
    text, names, last = "", [], 0
    for name, match in zip("abcdef", INTEGER.finditer(question), strict=False):
        names.append(name)
        text += _fstring_text(question[last : match.start()]) + "{" + name + "}"
        last = match.end()
    return names, text + _fstring_text(question[last:])


def _form_lines(question: str, indent: str) -> list[str]:
    """Draws, question and ``answer = ...`` for one form."""
    names, text = _template(question)
    draws = f"{indent}{', '.join(names)} = {', '.join(['number(rng)'] * len(names))}"
    return [draws, f'{indent}question = f"{text}"', f"{indent}answer = ..."]


def _fstring_text(text: str) -> str:
    """``text`` as literal characters inside a one-line, double-quoted f-string."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("{", "{{").replace("}", "}}")
