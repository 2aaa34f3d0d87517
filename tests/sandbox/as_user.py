"""Run the hostile corpus as the parent process itself: for the normal-user mode (no root).

``test_hostile`` starts this with a system Python as an unprivileged uid, with the planted key in
its environment; it prints one JSON line per case that failed its checks, then a summary line.
Usage: ``python as_user.py REPO_ROOT PLANT_DIR``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from string import Template


def main(root: str, plant_dir: str) -> None:
    sys.path.insert(0, root)
    from teachgraph.sandbox import Sandbox
    from tests.sandbox.cases_data import DATA_CASES
    from tests.sandbox.cases_processes import PROCESS_CASES
    from tests.sandbox.corpus import ATTEMPT

    assert Sandbox().check().endswith("prlimit limits") and os.geteuid() != 0
    plant = Path(plant_dir)
    secret = (plant / "config.yaml").read_text()
    key = os.environ["OPENAI_API_KEY"]
    tcp = socket.create_server(("127.0.0.1", 0))
    tcp.settimeout(0.01)
    sentinel = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    values = {
        "port": tcp.getsockname()[1],
        "udp_port": 9,
        "abstract": "tg-none",
        "home_file": plant / "config.yaml",
        "run_file": plant / "config.yaml",
        "run_dir": plant,
        "tmp_file": plant / "config.yaml",
        "repo_file": Path(root) / "teachgraph" / "config.py",
        "parent_pid": os.getpid(),
        "sentinel_pid": sentinel.pid,
        "tag": "tg-as-user",
    }
    cases = DATA_CASES + PROCESS_CASES
    failed = 0
    for case in cases:
        r = Sandbox().run(
            ATTEMPT + Template(case.code).substitute(values), timeout_s=case.timeout_s, memory_mb=case.memory_mb
        )
        reply = {"ok": r.ok, "output": r.output, "error": r.error}
        printed = r.output + r.error
        try:
            tcp.accept()
            reached = True
        except TimeoutError:
            reached = False
        intact = (plant / "config.yaml").read_text() == secret
        if not (case.check(reply) and key not in printed and secret not in printed and intact and not reached):
            failed += 1
            print(json.dumps({"case": case.name, **reply}))
        if sentinel.poll() is not None:
            print(json.dumps({"case": case.name, "error": "the sentinel was killed"}))
            failed += 1
            break
    sentinel.kill()
    print(json.dumps({"cases": len(cases), "failed": failed}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
