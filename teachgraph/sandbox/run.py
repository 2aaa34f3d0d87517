"""The one way teachgraph runs model-written Python: ``Sandbox.run`` / ``Sandbox.run_many``.

Two modes. ``isolated`` (the default) runs each program in a bubblewrap container
(``bubblewrap.py``) and refuses to run anything when that cannot be set up here.
``limits-only`` is the older, weaker sandbox, kept for machines without namespaces (macOS) and
as the benchmark's baseline: a fresh ``python -I -S`` in a temporary directory with an empty
environment and the same resource limits, but the host's filesystem, network, processes and
``/proc`` in plain view. It is used only when a config says so (``sandbox: limits-only``).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from teachgraph.errors import TeachgraphError
from teachgraph.sandbox import bubblewrap
from teachgraph.sandbox.process import Outcome, run_bounded

SandboxMode = Literal["isolated", "limits-only"]
MAX_OUTPUT = 10_000
#: How the error of a program stopped at its output limit begins (what it printed before is kept).
OUTPUT_LIMIT = "stopped: printed more than"


class SandboxUnavailable(TeachgraphError):
    """Programs must run isolated, and isolation cannot be set up on this machine."""


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

    def marked_records(self, marker: str) -> Iterator[dict[str, Any]]:
        """The JSON objects a harness printed on lines starting with ``marker``, in order.

        A line that does not parse (the last one of an output cut at its size limit) is skipped;
        harnesses use a marker so nothing the program under test prints can pass for a record.
        """
        for line in self.output.splitlines():
            if not line.startswith(marker):
                continue
            try:
                record = json.loads(line[len(marker) :])
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                yield record


def unavailable_message(why: str) -> str:
    """The one line a run stops with when it cannot isolate programs."""
    return (
        f"cannot isolate model-written programs: {why}. Install bubblewrap (`make test` or `make demo` "
        "does it when run as root), or accept a weaker sandbox explicitly with `sandbox: limits-only` in "
        "the run config (programs then run with resource limits only: they can read your files and use "
        "the network)"
    )


def _host_limits(memory_mb: int, cpu_s: int) -> None:
    # limits-only mode: set in the child between fork and exec (no process limit: RLIMIT_NPROC
    # counts all of the user's processes, and does nothing for root, without a namespace).
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))
    resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, 2**20))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@dataclass(frozen=True)
class Sandbox:
    """Runs untrusted Python programs; one instance per run, shared by every node that runs code.

    Attributes:
        mode: ``isolated`` (bubblewrap container, the default) or ``limits-only`` (weaker; opt-in).
        max_processes: Processes and threads one program may have at once (isolated mode).
    """

    mode: SandboxMode = "isolated"
    max_processes: int = 16

    def check(self) -> str:
        """Describe the isolation in use, or raise ``SandboxUnavailable`` with the one line to act on."""
        if self.mode == "limits-only":
            return "limits-only: resource limits and an empty environment; no filesystem, network or process isolation"
        why = bubblewrap.problem()
        if why:
            raise SandboxUnavailable(unavailable_message(why))
        return bubblewrap.describe()

    def run(
        self,
        code: str,
        *,
        timeout_s: float = 5.0,
        memory_mb: int = 512,
        max_output: int = MAX_OUTPUT,
        stdin: str | None = None,
    ) -> ProgramResult:
        """Run ``code`` as a script and capture its stdout; never raises for anything the program does.

        Args:
            code: The program's source, run as ``__main__`` in an empty working directory.
            timeout_s: Wall-clock limit; the CPU-time limit is one second more.
            memory_mb: Address-space limit per process.
            max_output: Bytes of stdout kept; a program printing more is stopped and fails.
            stdin: Text fed to the program's standard input (empty input when ``None``).

        Raises:
            SandboxUnavailable: in isolated mode, when isolation cannot be set up here.
        """
        cpu_s = int(timeout_s) + 1
        data = stdin.encode() if stdin else None
        try:
            if self.mode == "limits-only":
                outcome = self._run_limited(code, timeout_s, memory_mb, cpu_s, max_output, data)
            else:
                self.check()
                outcome = self._run_isolated(code, timeout_s, memory_mb, cpu_s, max_output, data)
        except OSError as err:
            return ProgramResult(ok=False, output="", error=f"could not start: {err}")
        return _verdict(
            outcome, timeout_s=timeout_s, cpu_s=cpu_s, max_output=max_output, isolated=self.mode == "isolated"
        )

    def run_many(
        self,
        codes: list[str],
        *,
        timeout_s: float = 5.0,
        memory_mb: int = 512,
        max_output: int = MAX_OUTPUT,
        workers: int = 2,
    ) -> list[ProgramResult]:
        """Run several programs, ``workers`` at a time, results in order."""
        if codes:
            self.check()  # fail once, before starting anything, rather than once per program
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(
                pool.map(lambda c: self.run(c, timeout_s=timeout_s, memory_mb=memory_mb, max_output=max_output), codes)
            )

    def _run_isolated(
        self, code: str, timeout_s: float, memory_mb: int, cpu_s: int, max_output: int, stdin: bytes | None
    ) -> Outcome:
        limits = bubblewrap.Limits(memory_mb=memory_mb, cpu_s=cpu_s, max_processes=self.max_processes)
        program_fd = os.memfd_create("teachgraph-program")  # the code reaches the sandbox as a copy
        try:
            os.write(program_fd, code.encode())
            os.lseek(program_fd, 0, os.SEEK_SET)
            with bubblewrap.UIDS.uid() as uid, bubblewrap.Container() as container:
                argv = bubblewrap.command(
                    program_fd, limits, uid=uid if os.geteuid() == 0 else None, status_fd=container.status_fd
                )
                return run_bounded(
                    argv,
                    timeout_s=timeout_s,
                    max_output=max_output,
                    stdin=stdin,
                    env={"PATH": "/usr/bin:/bin"},  # bwrap's own environment: nothing of ours
                    pass_fds=(program_fd, container.status_fd),
                    container=container,
                )
        finally:
            os.close(program_fd)

    def _run_limited(
        self, code: str, timeout_s: float, memory_mb: int, cpu_s: int, max_output: int, stdin: bytes | None
    ) -> Outcome:
        with tempfile.TemporaryDirectory(prefix="tg-sandbox-") as workdir:
            path = os.path.join(workdir, "main.py")
            with open(path, "w") as f:
                f.write(code)
            return run_bounded(
                [sys.executable, "-I", "-S", path],
                timeout_s=timeout_s,
                max_output=max_output,
                stdin=stdin,
                env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"},
                cwd=workdir,
                preexec_fn=lambda: _host_limits(memory_mb, cpu_s),
            )


def _verdict(outcome: Outcome, *, timeout_s: float, cpu_s: int, max_output: int, isolated: bool) -> ProgramResult:
    stdout = outcome.stdout.decode("utf-8", "replace")
    if outcome.timed_out:
        return ProgramResult(ok=False, output=stdout, error=f"timed out after {timeout_s:g} s")
    if outcome.output_overflow:
        return ProgramResult(ok=False, output=stdout, error=f"{OUTPUT_LIMIT} {max_output} bytes")
    code = outcome.returncode
    if code == 0:
        return ProgramResult(ok=True, output=stdout)
    tail = outcome.stderr.decode("utf-8", "replace").strip().splitlines()
    reason = tail[-1] if tail else f"exit code {code}"
    # A signal shows as a negative code from Popen, or as 128 + N from bwrap, which reports its child's.
    sig = -code if code is not None and code < 0 else 0
    if isolated and code is not None and 128 < code < 128 + signal.NSIG:
        sig = code - 128
    if sig in (signal.SIGXCPU, signal.SIGKILL):
        # We only SIGKILL on the wall-clock timeout (handled above); this is the kernel's RLIMIT_CPU,
        # which wins the race when the machine is so busy that the wall-clock check wakes late.
        # Same verdict either way: the program ran too long.
        reason = f"timed out: used its {cpu_s} s CPU time limit"
    elif sig:
        reason = f"killed by signal {sig} ({reason})"
    return ProgramResult(ok=False, output=stdout, error=reason[:300])
