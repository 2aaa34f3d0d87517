"""Every program in the hostile corpus is contained by the isolated sandbox (acceptance #1, #2).

Each case runs through a parent process that holds a planted API key in its exec-time
environment (so ``/proc/<parent>/environ`` would show it) and is then held to its own check
plus the corpus-wide ones below.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from string import Template

import pytest

from teachgraph.sandbox import bubblewrap

from .cases_data import DATA_CASES
from .cases_processes import PROCESS_CASES
from .conftest import PLANTED_KEY, ROOT, TAG, leftovers
from .corpus import ATTEMPT, Case

pytestmark = pytest.mark.usefixtures("isolated")
CASES = DATA_CASES + PROCESS_CASES
SLACK_S = 3.0  # start-up and kill on a loaded machine, beyond the program's own timeout


def fill(case: Case, planted, listener, parent, sentinel) -> str:
    values = {
        "port": listener.tcp_port,
        "udp_port": listener.udp_port,
        "abstract": listener.abstract_name,
        "home_file": planted.files["home"],
        "run_file": planted.files["run"],
        "run_dir": planted.files["run"].parent,
        "tmp_file": planted.files["tmp"],
        "repo_file": ROOT / "teachgraph" / "config.py",
        "parent_pid": parent.pid,
        "sentinel_pid": sentinel.pid,
        "tag": TAG,
    }
    return ATTEMPT + Template(case.code).substitute(values)


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 30 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_program_is_contained(case: Case, parent, planted, listener, sentinel):
    reached_before = len(listener.reached)
    reply = parent.run(
        fill(case, planted, listener, parent, sentinel), timeout_s=case.timeout_s, memory_mb=case.memory_mb
    )
    printed = reply["output"] + reply["error"]
    assert case.check(reply), reply
    assert PLANTED_KEY not in printed and "sk-planted-" not in printed
    assert planted.secret not in printed
    assert planted.intact() == [], "a planted file was changed or deleted"
    assert parent.alive() and sentinel.poll() is None
    assert len(listener.reached) == reached_before, f"reached the host: {listener.reached[reached_before:]}"
    assert reply["elapsed_s"] < case.timeout_s + SLACK_S
    assert leftovers() == []
    for escaped in (planted.files["run"].parent / "escape.txt", Path(f"/tmp/{TAG}-escape.txt"), Path("/escape.txt")):
        assert not escaped.exists()
    assert not Path(f"/tmp/{TAG}-system").exists()


def test_the_machine_stays_responsive_during_a_fork_bomb(parent, planted, listener, sentinel):
    bomb = next(c for c in CASES if c.name == "exponential_fork_bomb")
    done: dict[str, float] = {}

    def run_bomb() -> None:
        start = time.perf_counter()
        parent.run(fill(bomb, planted, listener, parent, sentinel), timeout_s=4)
        done["bomb_s"] = time.perf_counter() - start

    thread = threading.Thread(target=run_bomb)
    thread.start()
    time.sleep(1.0)  # the bomb is at its process limit by now
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "print(sum(range(10**5)))"], check=True, capture_output=True)
    responsive_s = time.perf_counter() - start
    thread.join()
    assert responsive_s < 5.0, f"a small program took {responsive_s:.1f} s while the bomb ran"
    assert done["bomb_s"] < 4 + SLACK_S and leftovers() == []


def test_the_planted_key_really_is_in_the_parents_environment(parent):
    """The corpus would catch a leak: the parent's exec-time environment holds the key."""
    assert PLANTED_KEY.encode() in Path(f"/proc/{parent.pid}/environ").read_bytes()


def test_limits_only_mode_leaks_what_isolation_contains(parent):
    """Control: the same environ-reading program, in the weaker mode, finds the key."""
    code = f"print(open('/proc/{parent.pid}/environ', 'rb').read())"
    assert PLANTED_KEY in parent.run(code, mode="limits-only")["output"]
    assert PLANTED_KEY not in str(parent.run(code))


def test_ci_runs_the_real_sandbox():
    """On CI the isolated sandbox must be what runs programs (the ``isolated`` fixture fails otherwise)."""
    if os.environ.get("CI"):
        assert bubblewrap.problem() is None


SYSTEM_PYTHON = Path("/usr/bin/python3")
NOBODY = 65534


@pytest.mark.skipif(os.geteuid() != 0 or not SYSTEM_PYTHON.exists(), reason="needs root (to become a normal user)")
def test_the_corpus_is_contained_for_a_normal_user_too():
    """The other mode: bubblewrap in its own user namespace, as a user who can read the planted file."""
    plant = Path(tempfile.mkdtemp(prefix="tg-as-user-"))
    try:
        plant.chmod(0o755)
        (plant / "config.yaml").write_text("planted-secret-" + TAG)
        (plant / "config.yaml").chmod(0o644)
        env = {"PATH": "/usr/bin:/bin", "OPENAI_API_KEY": PLANTED_KEY}
        argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        argv += [str(SYSTEM_PYTHON), "-B", str(Path(__file__).with_name("as_user.py")), str(ROOT), str(plant)]
        done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=plant, timeout=600)
        lines = done.stdout.strip().splitlines()
        assert done.returncode == 0 and lines, done.stdout[-3000:] + done.stderr[-3000:]
        assert json.loads(lines[-1])["failed"] == 0, "\n".join(lines)
        assert (plant / "config.yaml").read_text() == "planted-secret-" + TAG
    finally:
        shutil.rmtree(plant, ignore_errors=True)
