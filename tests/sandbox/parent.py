"""A stand-in for the teachgraph process: runs programs through the sandbox, one JSON line each.

Started by the hostile tests with a planted API key in its real (exec-time) environment, so a
program that reads ``/proc/<pid>/environ`` of its parent would find it. Requests on stdin:
``{"code", "mode", "timeout_s", "memory_mb", "max_output", "stdin"}``; replies on stdout:
``{"ok", "output", "error", "elapsed_s"}``. Prints ``{"pid": ...}`` first.
"""

from __future__ import annotations

import json
import os
import sys
import time

from teachgraph.sandbox import Sandbox


def main() -> None:
    print(json.dumps({"pid": os.getpid()}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        start = time.perf_counter()
        result = Sandbox(mode=job.get("mode", "isolated")).run(
            job["code"],
            timeout_s=job.get("timeout_s", 5.0),
            memory_mb=job.get("memory_mb", 512),
            max_output=job.get("max_output", 10_000),
            stdin=job.get("stdin"),
        )
        reply = {"ok": result.ok, "output": result.output, "error": result.error}
        reply["elapsed_s"] = time.perf_counter() - start
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
