"""Child process that decides symbolic equivalence for :mod:`teachgraph.tasks.answers`.

It runs as ``python -P .../_sympy_worker.py`` and speaks JSON lines on stdin/stdout:
one request ``{"a": "...", "b": "..."}`` per line, one reply ``{"equal": true|false|null}`` per
line (``null`` = could not decide). It is a separate *process*, not a thread, because sympy's
``simplify`` can run for minutes on adversarial input and a thread cannot be killed: the parent
kills this process when a request exceeds its time limit and starts a fresh one on the next call.
It is started with ``subprocess`` rather than ``multiprocessing`` so that it never re-imports the
caller's ``__main__`` and can be started from daemonic processes too.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

# Names an answer may use. Anything else multi-letter is refused before ``parse_expr`` (which
# calls ``eval``): student and teacher output is untrusted text.
ALLOWED_NAMES = frozenset({"sqrt", "pi", "oo", "exp", "log", "ln", "sin", "cos", "tan", "Abs", "abs"})
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_SAFE_CHARS_RE = re.compile(r"^[0-9A-Za-z_+\-*/^().,\s]*$")


def is_safe_expression(text: str) -> bool:
    """Whether ``text`` only uses digits, operators, single-letter symbols and allowed names."""
    if not text or len(text) > 300 or "__" in text or not _SAFE_CHARS_RE.match(text):
        return False
    return all(len(n) == 1 or n in ALLOWED_NAMES for n in _IDENT_RE.findall(text))


def parse(text: str) -> Any:
    """Parse a plain-math string (``^`` allowed, implicit multiplication allowed) with sympy."""
    from sympy import Abs, Symbol, exp, log, oo, pi, sqrt
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    if not is_safe_expression(text):
        raise ValueError(f"refusing to parse {text!r}")
    # Single letters become plain symbols: without this ``N``, ``S``, ``Q``, ``E``, ``I`` would
    # resolve to sympy functions/constants and compare in surprising ways.
    local: dict[str, Any] = {n: Symbol(n) for n in set(_IDENT_RE.findall(text)) if len(n) == 1}
    local.update({"sqrt": sqrt, "pi": pi, "oo": oo, "exp": exp, "log": log, "ln": log, "abs": Abs})
    transformations = (
        *standard_transformations,
        implicit_multiplication_application,
        convert_xor,
    )
    return parse_expr(text, local_dict=local, transformations=transformations, evaluate=True)


def equal(a: str, b: str) -> bool | None:
    """``True``/``False`` when sympy can decide ``a == b``; ``None`` when either does not parse."""
    from sympy import N, simplify

    try:
        ea, eb = parse(a), parse(b)
    except Exception:
        return None
    try:
        diff = simplify(ea - eb)
        if diff == 0:
            return True
        # Closed forms that simplify cannot cancel (nested radicals, ...) still agree numerically.
        if not diff.free_symbols:
            value = complex(N(diff, 30))
            scale = max(1.0, abs(complex(N(ea, 30))))
            return abs(value) <= 1e-9 * scale
        return False
    except Exception:
        return None


def main() -> None:
    """Serve requests until stdin closes."""
    import sympy  # noqa: F401  (import up front so the parent's time limit excludes it)

    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        try:
            request = json.loads(line)
            reply = {"equal": equal(str(request["a"]), str(request["b"]))}
        except Exception as err:  # a malformed request must not kill the worker
            reply = {"equal": None, "error": repr(err)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
