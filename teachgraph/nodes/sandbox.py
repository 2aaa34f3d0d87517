"""Run untrusted, teacher-written Python in a separate, limited process.

The teacher's solution programs are model output, so they are treated as hostile: a fresh
interpreter in isolated mode without site-packages (``python -I -S``), an empty temporary working
directory, an environment without the parent's variables (no API keys), CPU-time, address-space,
file-size and open-file limits, and a wall-clock timeout that kills the whole process group.
This stops accidents and the common attacks (infinite loops, memory bombs, reading keys from the
environment, writing files); it is not a container — run untrusted teachers in one if you must.
"""

from __future__ import annotations

import ast
import os
import resource
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

MAX_OUTPUT = 10_000
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


@dataclass(frozen=True)
class ProgramResult:
    """What a program printed (its last non-empty line is its result) or why it failed."""

    ok: bool
    output: str
    error: str = ""

    @property
    def result(self) -> str:
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def _limits(memory_mb: int, cpu_s: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))
    resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, 2**20))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_program(code: str, *, timeout_s: float = 5.0, memory_mb: int = 512) -> ProgramResult:
    """Run ``code`` and capture its stdout; never raises for anything the program does."""
    cpu_limit_s = int(timeout_s) + 1
    with tempfile.TemporaryDirectory(prefix="tg-sandbox-") as workdir:
        path = os.path.join(workdir, "solution.py")
        with open(path, "w") as f:
            f.write(PRELUDE + code)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", path],
                cwd=workdir,
                env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group, so a timeout kills children too
                preexec_fn=lambda: _limits(memory_mb, cpu_limit_s),
            )
        except OSError as err:
            return ProgramResult(ok=False, output="", error=f"could not start: {err}")
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return ProgramResult(ok=False, output="", error=f"timed out after {timeout_s:g} s")
        stdout = out.decode("utf-8", "replace")[:MAX_OUTPUT]
        if proc.returncode != 0:
            tail = err.decode("utf-8", "replace").strip().splitlines()
            reason = tail[-1] if tail else f"exit code {proc.returncode}"
            if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
                # We only SIGKILL on the wall-clock timeout (handled above); this is the kernel's
                # RLIMIT_CPU, which wins the race when the machine is so busy that the wall-clock
                # check wakes late. Same verdict either way: the program ran too long.
                reason = f"timed out: used its {cpu_limit_s} s CPU time limit"
            elif proc.returncode < 0:
                reason = f"killed by signal {-proc.returncode} ({reason})"
            return ProgramResult(ok=False, output=stdout, error=reason[:300])
        return ProgramResult(ok=True, output=stdout)


def run_programs(
    codes: list[str], *, timeout_s: float = 5.0, memory_mb: int = 512, workers: int = 2
) -> list[ProgramResult]:
    """Run several programs, ``workers`` at a time, results in order."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda c: run_program(c, timeout_s=timeout_s, memory_mb=memory_mb), codes))
