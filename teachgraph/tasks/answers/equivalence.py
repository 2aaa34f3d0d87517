"""Whether two answers are the same: canonical strings, numbers, lists, then sympy."""

from __future__ import annotations

import functools
import re
from fractions import Fraction

from teachgraph.tasks import _sympy_worker
from teachgraph.tasks.answers.normalize import _TEXT_ONLY_RE, normalize_answer, parse_number, split_list
from teachgraph.tasks.answers.sympy_service import _SERVICE

#: Default relative tolerance for comparing non-integer numbers.
DEFAULT_REL_TOL = 1e-6
#: Default hard time limit (seconds) for one sympy equivalence check.
DEFAULT_SYMPY_TIMEOUT = 2.0


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
