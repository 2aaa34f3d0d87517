"""Fixtures for the hostile corpus: a parent process holding a planted key, planted files, listeners.

The hostile programs are dangerous outside the isolated sandbox (one signals every process it
can see), so they run only when isolation is available; on CI (``CI`` set) its absence fails.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from teachgraph.sandbox import bubblewrap

ROOT = Path(__file__).resolve().parents[2]
PLANTED_KEY = "sk-planted-" + secrets.token_hex(16)
TAG = "tg-planted-" + secrets.token_hex(6)


def isolation_problem() -> str | None:
    return bubblewrap.problem()


@pytest.fixture(scope="session")
def isolated() -> None:
    """Skip (on a developer's machine) or fail (on CI) when the isolated sandbox is not available."""
    why = isolation_problem()
    if why is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the hostile corpus in the real sandbox, but: {why}")
    pytest.skip(f"the hostile corpus needs the isolated sandbox ({why}); refusing to run it unisolated")


class Parent:
    """The parent process: a teachgraph stand-in whose exec-time environment holds ``PLANTED_KEY``."""

    def __init__(self) -> None:
        env = {**os.environ, "OPENAI_API_KEY": PLANTED_KEY, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("parent.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdin and self.proc.stdout
        self.pid = json.loads(self.proc.stdout.readline())["pid"]
        self.lock = threading.Lock()

    def run(self, code: str, **job: Any) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        with self.lock:
            self.proc.stdin.write(json.dumps({"code": code, **job}) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        assert line, f"the parent process died (exit code {self.proc.poll()})"
        return json.loads(line)

    def alive(self) -> bool:
        return self.proc.poll() is None


@pytest.fixture(scope="session")
def parent() -> Iterator[Parent]:
    p = Parent()
    yield p
    p.proc.kill()
    p.proc.wait()


class Listener:
    """A TCP, a UDP and an abstract-unix listener on the host; counts what reaches them."""

    def __init__(self) -> None:
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.abstract_name = TAG + "-unix"
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind("\0" + self.abstract_name)
        self.unix.listen()
        self.reached: list[str] = []
        for sock, kind in ((self.tcp, "tcp"), (self.udp, "udp"), (self.unix, "unix")):
            threading.Thread(target=self._serve, args=(sock, kind), daemon=True).start()

    def _serve(self, sock: socket.socket, kind: str) -> None:
        while True:
            try:
                if kind == "udp":
                    sock.recvfrom(65536)
                else:
                    conn, _ = sock.accept()
                    conn.close()
            except OSError:
                return
            self.reached.append(kind)

    @property
    def tcp_port(self) -> int:
        return self.tcp.getsockname()[1]

    @property
    def udp_port(self) -> int:
        return self.udp.getsockname()[1]

    def close(self) -> None:
        for sock in (self.tcp, self.udp, self.unix):
            sock.close()


@pytest.fixture(scope="session")
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


@dataclass
class Planted:
    """Files a program must neither read nor change: in $HOME, in a run directory, in /tmp."""

    secret: str
    files: dict[str, Path] = field(default_factory=dict)

    def intact(self) -> list[str]:
        return [n for n, p in self.files.items() if not (p.is_file() and p.read_text() == self.secret)]


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    secret = "planted-secret-" + secrets.token_hex(16)
    run_dir = tmp_path_factory.mktemp("run")
    p = Planted(secret=secret)
    p.files = {
        "home": Path.home() / f".{TAG}.txt",
        "run": run_dir / "config.yaml",
        "tmp": Path("/tmp") / f"{TAG}.txt",
    }
    for path in p.files.values():
        path.write_text(secret)
    yield p
    for path in p.files.values():
        path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def sentinel() -> Iterator[subprocess.Popen[bytes]]:
    """A host process no program may signal."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    yield proc
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def leftovers() -> list[int]:
    """Host processes still running a sandboxed program (``python -I -S main.py``)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(argv) > 3 and argv[1:3] == [b"-I", b"-S"] and argv[3].endswith(b"main.py"):
            found.append(int(pid))
    return found
