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

One module per job: :mod:`~teachgraph.tasks.answers.extraction`, :mod:`~teachgraph.tasks.answers.prompt`
(the answer format), :mod:`~teachgraph.tasks.answers.latex`, :mod:`~teachgraph.tasks.answers.normalize`,
:mod:`~teachgraph.tasks.answers.equivalence` and :mod:`~teachgraph.tasks.answers.sympy_service` (the
worker process).
"""

from teachgraph.tasks.answers.equivalence import DEFAULT_REL_TOL, DEFAULT_SYMPY_TIMEOUT, answers_equal, sympy_equal
from teachgraph.tasks.answers.extraction import extract_answer
from teachgraph.tasks.answers.latex import find_boxed, latex_to_plain
from teachgraph.tasks.answers.normalize import (
    MAX_ANSWER_CHARS,
    ParsedList,
    canonical_number,
    normalize_answer,
    parse_fraction_parts,
    parse_number,
    split_list,
)
from teachgraph.tasks.answers.prompt import ANSWER_INSTRUCTION, answer_prompt, format_answer_target

__all__ = [
    "ANSWER_INSTRUCTION",
    "DEFAULT_REL_TOL",
    "DEFAULT_SYMPY_TIMEOUT",
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
