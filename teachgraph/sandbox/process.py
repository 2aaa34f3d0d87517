"""Run one child process under a wall-clock deadline with bounded output, killing its whole group.

The parent must never be the weak point: a program that prints gigabytes, never closes its
pipes, or keeps running after its streams are closed costs at most ``max_output`` bytes of
memory and ``timeout_s`` seconds, because stdout and stderr are read as they arrive (one
selector loop, no reader threads) and the child's process group is SIGKILLed at the deadline.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

STDERR_TAIL = 8192  # enough for a traceback's last lines; the rest is dropped as it arrives
CHUNK = 65536


@dataclass(frozen=True)
class Outcome:
    """How a child ended: its exit status (``None`` when we killed it) and what it printed."""

    returncode: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool = False
    output_overflow: bool = False


class Container(Protocol):
    """Hooks for a child that launches a container (see ``bubblewrap.Container``)."""

    def started(self) -> None: ...

    def kill(self) -> None: ...

    def wait_gone(self) -> None: ...


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _exited_by(pid: int, deadline: float) -> bool:
    """Wait for ``pid`` to exit, without reaping it, so its process group id stays reserved."""
    while True:
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.002)


def run_bounded(
    argv: Sequence[str],
    *,
    timeout_s: float,
    max_output: int,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    pass_fds: Sequence[int] = (),
    preexec_fn: Callable[[], None] | None = None,
    container: Container | None = None,
) -> Outcome:
    """Run ``argv`` to completion, to ``timeout_s``, or until it prints more than ``max_output`` bytes.

    ``container``, when the child is a container launcher, is told when the child started, when
    it must be killed, and is waited for at the end. Raises ``OSError`` only when the child
    cannot be started at all.
    """
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        pass_fds=tuple(pass_fds),
        start_new_session=True,  # its own process group, so one killpg reaches every descendant
        preexec_fn=preexec_fn,
    )
    if container is not None:
        container.started()
    deadline = time.monotonic() + timeout_s
    out, err = bytearray(), bytearray()
    timed_out = overflow = False
    assert proc.stdout is not None and proc.stderr is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ, out)
        sel.register(proc.stderr, selectors.EVENT_READ, err)
        pending = memoryview(stdin or b"")
        if stdin and proc.stdin is not None:
            os.set_blocking(proc.stdin.fileno(), False)
            sel.register(proc.stdin, selectors.EVENT_WRITE, None)
        while sel.get_map() and not overflow:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            for key, _ in sel.select(left):
                if key.data is None:  # stdin: feed what the pipe takes, close when done or refused
                    try:
                        written = os.write(key.fd, pending[:CHUNK])
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        written = len(pending)  # the program stopped reading: drop the rest
                    pending = pending[written:]
                    if not pending:
                        sel.unregister(key.fileobj)
                        key.fileobj.close()  # type: ignore[union-attr]
                    continue
                chunk = os.read(key.fd, CHUNK)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                buf: bytearray = key.data
                buf += chunk
                if buf is out and len(out) > max_output:
                    overflow = True
                    break
                if buf is err and len(err) > STDERR_TAIL:
                    del err[: len(err) - STDERR_TAIL]
    if not (timed_out or overflow):
        timed_out = not _exited_by(proc.pid, deadline)  # streams closed; it may still be running
    if (timed_out or overflow) and container is not None:
        container.kill()  # the launcher then exits by itself, having reaped the container
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    _kill_group(proc)  # also what outlived the main process (limits-only mode; harmless otherwise)
    proc.wait()
    if container is not None:
        container.wait_gone()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None and not stream.closed:
            stream.close()
    return Outcome(
        returncode=None if (timed_out or overflow) else proc.returncode,
        stdout=bytes(out[:max_output]),
        stderr=bytes(err),
        timed_out=timed_out,
        output_overflow=overflow,
    )
