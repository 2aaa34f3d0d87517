"""The isolated mode: a bubblewrap (``bwrap``) container per program.

Each program gets new PID, network, IPC, UTS, mount and cgroup namespaces; a filesystem that is
an empty tmpfs with, read-only, only what the interpreter needs (its executable and prefix, the
shared libraries under ``/usr/lib``, two util-linux helpers) plus a private, size-capped tmpfs
work directory; a fresh ``/proc`` that shows only the sandbox's own processes; no network but
its own loopback. Killing the outer ``bwrap`` (``--die-with-parent``) tears the PID namespace
down, and with it every process the program started.

Run as root, bubblewrap is used without a user namespace and the program is switched to an
unprivileged uid of its own (``setpriv``), because ``RLIMIT_NPROC`` does not apply to uid 0 and
a root-owned program could still signal or read root's processes if anything leaked. Run as a
normal user, bubblewrap creates a user namespace (and forbids nested ones) and the program keeps
that user's uid. Either way the resource limits are set inside, by ``prlimit``, after the
namespaces exist, so the process limit counts the sandbox's own processes only.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

WORKDIR = "/sandbox"  # the program's cwd inside; it does not exist outside, by design
TMPFS_BYTES = 16 * 2**20  # per writable tmpfs (work dir and /tmp): what a program may store
HELPERS = ("prlimit", "setpriv", "bwrap")
# Unprivileged uids for programs started by root: one per concurrent sandbox (so one program's
# fork bomb cannot use up another's process limit), offset by our pid so two teachgraph
# processes on one machine do not share them. No /etc/passwd entry is needed.
UID_BASE = 1_100_000_000
UID_SLOTS = 64
MIN_VERSION = (0, 8, 0)


@dataclass(frozen=True)
class Limits:
    """Per-process resource limits, applied inside the sandbox before the interpreter starts."""

    memory_mb: int
    cpu_s: int
    max_processes: int
    file_bytes: int = 2**20
    open_files: int = 64

    def prlimit_args(self) -> list[str]:
        mem = self.memory_mb * 2**20
        return [
            f"--as={mem}:{mem}",
            f"--cpu={self.cpu_s}:{self.cpu_s}",
            f"--fsize={self.file_bytes}:{self.file_bytes}",
            f"--nofile={self.open_files}:{self.open_files}",
            f"--nproc={self.max_processes}:{self.max_processes}",
            "--core=0:0",
        ]


class _UidPool:
    """Hands out distinct sandbox uids to concurrent runs in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free = list(range(UID_SLOTS))

    @contextmanager
    def uid(self) -> Iterator[int]:
        with self._lock:
            slot = self._free.pop(0) if self._free else UID_SLOTS  # overflow slot: shared, still unprivileged
        try:
            yield UID_BASE + (os.getpid() % 1_000_000) * (UID_SLOTS + 1) + slot
        finally:
            if slot < UID_SLOTS:
                with self._lock:
                    self._free.append(slot)


UIDS = _UidPool()


def _tool(name: str) -> str | None:
    found = shutil.which(name, path="/usr/bin:/bin:/usr/sbin:/sbin")
    return os.path.realpath(found) if found else None


def interpreter_paths() -> list[str]:
    """Host paths the interpreter needs, read-only: its executable, its prefix, the system libraries."""
    exe = os.path.realpath(sys.executable)
    prefix = os.path.realpath(sys.base_prefix)
    wanted = [exe, "/usr/lib", "/usr/lib64", "/etc/ld.so.cache"]
    if prefix not in ("/", "/usr"):
        wanted.append(prefix)
    # The base interpreter's library paths, not a virtual environment's: no site-packages inside.
    base = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_exec_prefix})
    wanted += [os.path.realpath(base[key]) for key in ("stdlib", "platstdlib")]
    wanted += [tool for tool in map(_tool, HELPERS) if tool]
    existing = sorted({p for p in wanted if os.path.exists(p)})
    return [p for p in existing if not any(p != q and p.startswith(q + "/") for q in existing)]


def _ancestors(path: str) -> list[str]:
    parts = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


@functools.cache
def _filesystem_args() -> list[str]:
    args: list[str] = []
    binds = interpreter_paths()
    parents = sorted({a for path in binds for a in _ancestors(path)}, key=lambda d: d.count("/"))
    for parent in parents:  # created 0755: bubblewrap would otherwise make them 0700 (root only)
        args += ["--perms", "0755", "--dir", parent]
    for path in binds:
        args += ["--ro-bind", path, path]
    for link in ("/lib", "/lib64"):  # the loader's path (merged /usr: symlinks); no /bin, so no shell
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link) and link not in binds:
            args += ["--ro-bind", link, link]
    args += ["--proc", "/proc", "--dev", "/dev"]
    for tmp in ("/tmp", WORKDIR):
        args += ["--perms", "0777", "--size", str(TMPFS_BYTES), "--tmpfs", tmp]
    # The root tmpfs has no size limit and, in a user namespace, belongs to the program: read-only.
    return [*args, "--remount-ro", "/"]


def command(
    program_fd: int,
    limits: Limits,
    *,
    uid: int | None,
    status_fd: int | None = None,
    block_userns: bool | None = None,
    python_args: tuple[str, ...] = ("-I", "-S"),
) -> list[str]:
    """The ``bwrap`` command line that runs the program read from ``program_fd`` as ``WORKDIR/main.py``.

    ``uid`` is the unprivileged uid to switch to when we are root (``None`` otherwise);
    ``status_fd`` receives bubblewrap's JSON status (the container's init pid, for
    :class:`Container`); ``block_userns`` (root only; default: what the probe found to work)
    adds the inner bubblewrap that forbids the program its own user namespaces.
    """
    bwrap, prlimit, setpriv = _tool("bwrap"), _tool("prlimit"), _tool("setpriv")
    assert bwrap and prlimit and (uid is None or setpriv), "call problem() first"
    namespaces = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if uid is None:
        namespaces += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
    else:  # only what setpriv needs to drop to the sandbox uid; it clears them all before exec
        namespaces += ["--cap-drop", "ALL"] + [
            a for c in ("SETUID", "SETGID", "SETPCAP") for a in ("--cap-add", f"CAP_{c}")
        ]
    args = [bwrap, *namespaces, "--die-with-parent", "--new-session", "--hostname", "sandbox"]
    if status_fd is not None:
        args += ["--json-status-fd", str(status_fd)]
    args += _filesystem_args()  # (cached: the paths do not change while we run)
    args += ["--file", str(program_fd), f"{WORKDIR}/main.py", "--chdir", WORKDIR]
    args += ["--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", WORKDIR, "--"]
    if uid is not None:
        args += [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        args += ["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
        if _probe()[1] if block_userns is None else block_userns:
            # An unprivileged uid may still create user namespaces of its own (and reach kernel
            # code that only namespace owners can): a second, unprivileged bubblewrap in the same
            # view (--bind / /) makes one that forbids them (normal users get this from the outer
            # one). Its own PID namespace keeps it out of the program's reach: same uid, but init.
            args += [bwrap, "--unshare-user", "--disable-userns", "--unshare-pid", "--die-with-parent"]
            args += ["--bind", "/", "/", "--"]  # (no fresh /proc: the outer one is covered in parts)
    args += [prlimit, *limits.prlimit_args(), "--", os.path.realpath(sys.executable), *python_args, "main.py"]
    return args


class Container:
    """One bubblewrap container's lifetime, followed through its init process (a pidfd).

    bubblewrap reports the container's init pid on ``status_fd`` (``--json-status-fd``). Its
    init is what to kill and what to wait for: the kernel lets a PID namespace's init finish
    exiting only once every other process in the namespace is gone, so once init has exited,
    nothing the program started is left (the outer ``bwrap`` can exit a moment earlier).
    """

    def __init__(self) -> None:
        self._read, self.status_fd = os.pipe()
        self._pidfd: int | None = None

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *_: object) -> None:
        for fd in (self._read, self.status_fd, self._pidfd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def started(self) -> None:
        os.close(self.status_fd)  # bubblewrap holds the write end now; EOF if it fails early
        self.status_fd = -1
        status, deadline = b"", time.monotonic() + 10.0
        while b"\n" not in status and select.select([self._read], [], [], max(deadline - time.monotonic(), 0))[0]:
            chunk = os.read(self._read, 65536)  # the first JSON document, one line, maybe in pieces
            if not chunk:
                break
            status += chunk
        try:
            pid = int(json.loads(status.split(b"\n")[0])["child-pid"])
        except (ValueError, KeyError, TypeError):
            return  # bubblewrap failed before starting a container: nothing to follow
        with contextlib.suppress(ProcessLookupError):
            # init is the outer bwrap's child, which reaps it only after this, so the pid is its
            self._pidfd = os.pidfd_open(pid)

    def kill(self) -> None:
        if self._pidfd is not None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def wait_gone(self, timeout_s: float = 10.0) -> None:
        if self._pidfd is not None:
            select.select([self._pidfd], [], [], timeout_s)


def problem() -> str | None:
    """Why programs cannot be isolated here (``None`` when they can): checked once per process."""
    return _probe()[0]


@functools.cache
def _probe() -> tuple[str | None, bool]:
    """(why isolation is impossible or ``None``, whether nested user namespaces are blocked)."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap needs Linux namespaces; this is {sys.platform}", False
    root = os.geteuid() == 0
    missing = [name for name in ("bwrap", "prlimit", *(("setpriv",) if root else ())) if not _tool(name)]
    if missing:
        return f"{' and '.join(missing)} not found (Debian/Ubuntu: apt-get install bubblewrap util-linux)", False
    if _version() < MIN_VERSION:
        need = ".".join(map(str, MIN_VERSION))
        return f"bubblewrap {_version_text()} is too old (--size and --disable-userns need {need}+)", False
    if not root:
        return _trial(block_userns=False), True  # the outer bubblewrap's own user namespace blocks them
    if _trial(block_userns=True) is None:
        return None, True
    # Unprivileged user namespaces are off here: still isolated, minus that block (describe() says so).
    return _trial(block_userns=False), False


def _trial(*, block_userns: bool) -> str | None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"print(6 * 7)\n")
    os.close(write_fd)
    try:
        with UIDS.uid() as uid:
            limits = Limits(memory_mb=256, cpu_s=5, max_processes=8)
            argv = command(read_fd, limits, uid=uid if os.geteuid() == 0 else None, block_userns=block_userns)
            trial = subprocess.run(
                argv, pass_fds=(read_fd,), capture_output=True, timeout=30, env={"PATH": "/usr/bin:/bin"}
            )
    except (OSError, subprocess.SubprocessError) as err:
        return f"bubblewrap could not start: {err}"
    finally:
        os.close(read_fd)
    if trial.stdout.strip() != b"42":
        why = trial.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"bubblewrap failed a trial run ({why[-1] if why else f'exit code {trial.returncode}'})"
    return None


@functools.cache
def _version_text() -> str:
    out = subprocess.run([_tool("bwrap") or "bwrap", "--version"], capture_output=True, text=True).stdout
    return out.strip().rpartition(" ")[2]


def _version() -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in _version_text().split(".")[:3])
    except ValueError:
        return (0,)


def describe() -> str:
    """One line for config.yaml and the report: which isolation ran the programs."""
    version = f"bubblewrap {_version_text()}"
    if os.geteuid() != 0:
        who = "a user namespace (no nested ones)"
    elif _probe()[1]:
        who = "an unprivileged uid per program (setpriv), no user namespaces of its own"
    else:
        who = "an unprivileged uid per program (setpriv); nested user namespaces NOT blocked here"
    return f"{version}: pid, net, ipc, uts, mount namespaces; {who}; read-only interpreter; prlimit limits"
