"""Run an embedded GGUF behind ``python -m llama_cpp.server`` (``local-server:NAME``).

Useful when the model should live in another process (to keep the graph process small, or to
share one loaded model between several teachgraph processes) and as the reference setup for the
OpenAI-compatible path. The server only listens on 127.0.0.1, on a free port.

Two quirks of llama_cpp.server shape :meth:`LlamaServer.chat_model` (measured, see
shared/reference/offline-assets.md §2): ``ChatOpenAI(max_tokens=N)`` is sent as
``max_completion_tokens``, which the server ignores (generation then runs to ``n_ctx``), so the
cap goes in ``extra_body={"max_tokens": N}``; and ``response_format`` type ``json_schema`` is
rejected with HTTP 500, so structured output uses ``json_object`` + ``schema`` instead.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from teachgraph.errors import ProviderError
from teachgraph.providers.local.runtime import default_threads, require_llama_cpp


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the server binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# The server runs under this launcher, which exits when its parent goes away (reparenting
# changes getppid()). If the teachgraph process is killed (SIGKILL in a kill-and-resume run) the
# server would otherwise live on as an orphan holding the model's RAM and the port. (prctl's
# PDEATHSIG is not used: it fires when the *thread* that spawned the child exits, and graph nodes
# run on short-lived worker threads.)
_LAUNCHER = """
import os, runpy, sys, threading, time
parent = int(sys.argv[1])
def _watch():
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)
threading.Thread(target=_watch, daemon=True).start()
from teachgraph.providers.local.runtime import require_llama_cpp
require_llama_cpp()  # plain CPU buffers in the server too (see use_plain_cpu_buffers)
sys.argv = ["llama_cpp.server", *sys.argv[2:]]
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


class LlamaServer:
    """A ``llama_cpp.server`` subprocess serving one GGUF on 127.0.0.1.

    Use as a context manager, or call :meth:`start` / :meth:`stop`; servers still running at
    interpreter exit are stopped by an ``atexit`` hook.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        alias: str,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout_s: float = 120.0,
    ) -> None:
        self.model_path = Path(model_path)
        self.alias = alias
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.host = host
        self.port = port
        self.startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` (valid after :meth:`start`)."""
        if self.port is None:
            raise ProviderError(f"llama.cpp server for {self.alias!r} is not started")
        return f"http://{self.host}:{self.port}/v1"

    @property
    def running(self) -> bool:
        """Whether the subprocess is alive."""
        return self._process is not None and self._process.poll() is None

    def _log_tail(self, limit: int = 600) -> str:
        if self._log_path is None or not self._log_path.exists():
            return ""
        text = self._log_path.read_text(errors="replace")
        return " ".join(text[-limit:].split())

    def start(self) -> Self:
        """Start the server and wait until ``GET /v1/models`` answers."""
        if self.running:
            return self
        require_llama_cpp()
        if not self.model_path.is_file():
            raise ProviderError(f"model file {self.model_path} does not exist")
        if self.port is None:
            self.port = free_port(self.host)
        log_fd, log_name = tempfile.mkstemp(prefix=f"llama-server-{self.alias}-", suffix=".log")
        self._log_path = Path(log_name)
        command = [
            sys.executable, "-c", _LAUNCHER, str(os.getpid()),
            "--model", str(self.model_path),
            "--model_alias", self.alias,
            "--host", self.host,
            "--port", str(self.port),
            "--n_threads", str(self.n_threads),
            "--n_ctx", str(self.n_ctx),
        ]  # fmt: skip
        with os.fdopen(log_fd, "wb") as log:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        _RUNNING.add(self)
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                tail = self._log_tail()
                self.stop()
                raise ProviderError(
                    f"llama.cpp server for {self.alias!r} exited with code "
                    f"{self._process.returncode} during startup: {tail}"
                )
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        tail = self._log_tail()
        self.stop()
        raise ProviderError(
            f"llama.cpp server for {self.alias!r} did not answer within {self.startup_timeout_s:.0f} s: {tail}"
        )

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 10 s) and remove its log."""
        process, self._process = self._process, None
        _RUNNING.discard(self)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._log_path is not None:
            self._log_path.unlink(missing_ok=True)
            self._log_path = None

    def chat_model(
        self,
        *,
        temperature: float = 0.0,
        max_tokens: int = 1024,
        timeout_s: float = 120.0,
    ) -> Any:
        """A ``ChatOpenAI`` bound to this server, with the generation cap in ``extra_body``."""
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            base_url=self.base_url,
            api_key="not-needed",  # the server has no auth; never send a real key to it
            model=self.alias,
            temperature=temperature,
            extra_body={"max_tokens": max_tokens},
            timeout=timeout_s,
            max_retries=1,
        )

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


_RUNNING: set[LlamaServer] = set()
_SHARED: dict[tuple[str, int], LlamaServer] = {}
_SHARED_LOCK = threading.Lock()


def shared_server(model_path: str | Path, *, alias: str, n_ctx: int = 4096) -> LlamaServer:
    """One running server per (model file, n_ctx) in this process, started on first use."""
    key = (os.path.realpath(model_path), n_ctx)
    with _SHARED_LOCK:
        server = _SHARED.get(key)
        if server is None or not server.running:
            server = LlamaServer(model_path, alias=alias, n_ctx=n_ctx).start()
            _SHARED[key] = server
        return server


@atexit.register
def _stop_all() -> None:
    for server in list(_RUNNING):
        with contextlib.suppress(Exception):
            server.stop()
