"""The persistent sympy worker process behind :func:`~teachgraph.tasks.answers.sympy_equal`."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from teachgraph.tasks import _sympy_worker


class _SympyService:
    """One worker process, shared by all threads (calls are serialised by a lock)."""

    _STARTUP_TIMEOUT = 60.0  # importing sympy on a busy 2-core machine can take seconds

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._use_threads = os.name != "posix"  # select() on pipes is POSIX-only

    def ask(self, a: str, b: str, timeout: float) -> bool | None:
        if self._use_threads:
            return _run_in_thread(lambda: _sympy_worker.equal(a, b), timeout)
        with self._lock:
            for _attempt in range(2):
                try:
                    proc = self._ensure_started()
                    assert proc.stdin is not None
                    proc.stdin.write((json.dumps({"a": a, "b": b}) + "\n").encode())
                    proc.stdin.flush()
                    line = self._readline(proc, timeout)
                    reply = json.loads(line) if line is not None else None
                except (OSError, ValueError) as err:
                    # The worker died or never started; retry once with a fresh one.
                    self._stop()
                    if isinstance(err, _StartupError):
                        self._use_threads = True
                        break
                    continue
                if not isinstance(reply, dict):  # overran the limit: kill it; next call restarts
                    self._stop()
                    return None
                result = reply.get("equal")
                return result if isinstance(result, bool) else None
        return _run_in_thread(lambda: _sympy_worker.equal(a, b), timeout)

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        # Run the worker file as a script: it needs only sympy, not the teachgraph package
        # (whose import would slow every restart). -P keeps this folder off its sys.path.
        script = str(Path(_sympy_worker.__file__).resolve())
        try:
            proc = subprocess.Popen(
                [sys.executable, "-P", script],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as err:
            raise _StartupError(str(err)) from err
        self._proc = proc
        try:
            ready = self._readline(proc, self._STARTUP_TIMEOUT)
        except OSError as err:  # it exited at once (no sympy for that interpreter, ...)
            self._stop()
            raise _StartupError(str(err)) from err
        if ready is None or not json.loads(ready).get("ready"):
            self._stop()
            raise _StartupError("sympy worker did not start")
        return proc

    @staticmethod
    def _readline(proc: subprocess.Popen[bytes], timeout: float) -> str | None:
        """One reply line, ``None`` on timeout; raises ``OSError`` if the worker has exited."""
        assert proc.stdout is not None
        readable, _, _ = select.select([proc.stdout], [], [], timeout)
        if not readable:
            return None
        line = proc.stdout.readline()
        if not line:
            raise OSError("sympy worker exited")
        return line.decode()

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            proc.kill()
        with contextlib.suppress(Exception):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def close(self) -> None:
        """Stop the worker (registered with ``atexit``)."""
        with self._lock:
            self._stop()


class _StartupError(OSError):
    """No worker process can be started here (no usable interpreter, forbidden, ...)."""


def _run_in_thread(fn: Callable[[], bool | None], timeout: float) -> bool | None:
    """Run ``fn`` in a daemon thread; ``None`` if it does not finish within ``timeout``."""
    result: list[bool | None] = []
    thread = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    thread.start()
    thread.join(timeout)
    return result[0] if result else None


_SERVICE = _SympyService()
atexit.register(_SERVICE.close)
