"""Run teacher-written solution programs: the math prelude, then the run's sandbox.

The sandbox itself lives in :mod:`teachgraph.sandbox` (one entry point for every caller). This
module keeps the teacher-facing helpers: the standard-library prelude solution programs may
rely on, and :func:`computes`, which tells a program that computes from one that prints a
constant. Pass the run's sandbox (``runtime.context.sandbox``) so a config's ``sandbox:`` mode
applies; without it, programs run isolated.
"""

from __future__ import annotations

import ast

from teachgraph.sandbox import MAX_OUTPUT, ProgramResult, Sandbox

__all__ = ["MAX_OUTPUT", "PRELUDE", "ProgramResult", "computes", "run_program", "run_programs"]

# Teachers often call gcd() or sqrt() without importing them; a standard-library prelude keeps
# those programs checkable instead of rejecting good examples for a missing import.
PRELUDE = "import math\nfrom math import *\nfrom fractions import Fraction\n"
COMPUTING_NODES = (
    ast.BinOp,
    ast.BoolOp,
    ast.Compare,
    ast.For,
    ast.While,
    ast.comprehension,
    ast.Subscript,
    ast.AugAssign,
    ast.Lambda,
)
ISOLATED = Sandbox()


def computes(code: str) -> bool:
    """Whether a program computes anything, rather than printing a constant it was told.

    A "solution" like ``print(18)`` verifies nothing: it agrees with any answer its author states.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return True  # let the run report the syntax error
    for node in ast.walk(tree):
        if isinstance(node, COMPUTING_NODES):
            return True
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in ("print", "str", "int", "float")
        ):
            return True
    return False


def run_program(
    code: str,
    *,
    timeout_s: float = 5.0,
    memory_mb: int = 512,
    max_output: int = MAX_OUTPUT,
    stdin: str | None = None,
    sandbox: Sandbox | None = None,
) -> ProgramResult:
    """Run ``code`` after the prelude and capture its stdout; never raises for anything the program does.

    Raises ``SandboxUnavailable`` when the sandbox is isolated and isolation cannot be set up.
    """
    return (sandbox or ISOLATED).run(
        PRELUDE + code, timeout_s=timeout_s, memory_mb=memory_mb, max_output=max_output, stdin=stdin
    )


def run_programs(
    codes: list[str],
    *,
    timeout_s: float = 5.0,
    memory_mb: int = 512,
    workers: int = 2,
    max_output: int = MAX_OUTPUT,
    sandbox: Sandbox | None = None,
) -> list[ProgramResult]:
    """Run several programs (each after the prelude), ``workers`` at a time, results in order."""
    return (sandbox or ISOLATED).run_many(
        [PRELUDE + code for code in codes],
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        max_output=max_output,
        workers=workers,
    )
