"""The on-disk cache shared by the student's converted checkpoints and the local models.

One root (``$TEACHGRAPH_CACHE``, else ``~/.cache/teachgraph``) and one inter-process lock for
building an entry in it, so that two runs starting together do not both build it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["cache_root", "file_lock"]


def cache_root() -> Path:
    """``$TEACHGRAPH_CACHE`` if set, else ``~/.cache/teachgraph``."""
    env = os.environ.get("TEACHGRAPH_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "teachgraph"


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (created with its folder), released by the OS if the
    holder dies."""
    try:
        import fcntl
    except ImportError:  # not POSIX: the callers' atomic renames alone still prevent broken entries
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
