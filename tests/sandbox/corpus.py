"""The hostile corpus: programs a compromised teacher could write, each with its own containment check.

Every program gets ``attempt(label, fn)``, which prints ``label GOT <value>`` or ``label denied
<error>``, and most end by printing ``END`` so a check cannot pass because the program crashed
early. ``$name`` placeholders are filled from the fixtures (ports, planted paths, host pids).
On top of each case's own check, every case is held to the corpus-wide ones in test_hostile.py:
no planted key or secret in anything it printed, planted files intact, parent and sentinel
alive, no listener reached, no process left behind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ATTEMPT = """
def attempt(label, fn):
    try:
        got = fn()
    except BaseException as err:
        print(label, "denied", type(err).__name__, flush=True)
        return None
    print(label, "GOT", repr(got)[:300], flush=True)
    return got
"""
Reply = dict[str, Any]


@dataclass(frozen=True)
class Case:
    name: str
    code: str
    check: Callable[[Reply], bool]
    timeout_s: float = 4.0
    memory_mb: int = 512


def ends(r: Reply) -> bool:
    return r["ok"] and r["output"].rstrip().endswith("END")


def all_denied(r: Reply) -> bool:
    return ends(r) and " GOT " not in r["output"]


def survives(r: Reply) -> bool:
    """For attacks on other processes: the containment is that the parent and the sentinel live
    (test_hostile checks that for every case); the program may take its own sandbox down."""
    return True


def timed_out(r: Reply) -> bool:
    return not r["ok"] and "timed out" in r["error"]


def count(r: Reply, label: str) -> int:
    match = re.search(rf"{label} (\d+)", r["output"])
    assert match, r
    return int(match.group(1))
