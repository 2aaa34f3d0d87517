"""Named failpoints: deterministic places where a test can kill the running process.

A kill-and-resume test needs to interrupt a run at an exact point (after the third verdict,
in the middle of writing a data file, inside a checkpoint transaction), not after a guessed
delay. Code that can be interrupted calls :func:`failpoint` with a name; nothing happens unless
the environment variable ``TEACHGRAPH_FAILPOINT`` names it::

    TEACHGRAPH_FAILPOINT='event:validation:verdict@3'        SIGKILL at the 3rd verdict event
    TEACHGRAPH_FAILPOINT='write:iter-000.jsonl'              SIGKILL half-way through that file
    TEACHGRAPH_FAILPOINT='sql:COMMIT@7'                      SIGKILL inside the 7th commit
    TEACHGRAPH_FAILPOINT='update:data_writing@2:INT'         SIGINT after the 2nd writer's update

The name is matched as a glob (``event:*:llm_call``); ``@N`` picks the N-th hit (default 1);
``:INT``/``:TERM`` send that signal instead of ``KILL``. Names in use: ``event:NODE:KIND`` (after
the event is in trace.jsonl), ``update:NODE`` (after the node's update is checkpointed),
``write:FILENAME`` (half the temp file written), ``sql:STATEMENT`` (a checkpoint SQL statement
starts), ``report``. Unset, a failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import fnmatch
import os
import signal
import sqlite3
import threading

ENV = "TEACHGRAPH_FAILPOINT"

_lock = threading.Lock()
_hits = 0
_armed: tuple[str, int, int] | None = None
_parsed_from: str | None = None


def _parse(value: str) -> tuple[str, int, int]:
    name, sig = value, signal.SIGKILL
    head, sep, tail = value.rpartition(":")
    if sep and tail in ("KILL", "INT", "TERM"):
        name, sig = head, getattr(signal, f"SIG{tail}")
    pattern, at, count = name.partition("@")
    return pattern, int(count) if at else 1, int(sig)


def _current() -> tuple[str, int, int] | None:
    global _armed, _parsed_from, _hits
    value = os.environ.get(ENV)
    if value != _parsed_from:
        _parsed_from, _hits = value, 0
        _armed = _parse(value) if value else None
    return _armed


def armed(prefix: str = "") -> bool:
    """Whether a failpoint is set (whose pattern starts with ``prefix``)."""
    spec = _current()
    return spec is not None and spec[0].startswith(prefix)


def failpoint(name: str) -> None:
    """Send the configured signal to this process if ``name`` is the armed failpoint's N-th hit."""
    global _hits
    spec = _current()
    if spec is None or not fnmatch.fnmatchcase(name, spec[0]):
        return
    with _lock:
        _hits += 1
        fire = _hits == spec[1]
    if fire:
        os.kill(os.getpid(), spec[2])


def watch_sql(conn: sqlite3.Connection) -> None:
    """Arm ``sql:STATEMENT`` failpoints on ``conn``: each statement it runs is a failpoint."""
    if armed("sql:"):
        conn.set_trace_callback(lambda statement: failpoint("sql:" + " ".join(statement.split())))
