"""The episode loop end to end with the smoke config: run, artefacts, and kill-and-resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from teachgraph.tracing.rundir import RunDir
from tests.conftest import ROOT, SMOKE, cli

VOLATILE = {"seconds", "wall_seconds_this_session", "run_id", "latency_s", "queued_s"}


def strip_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_volatile(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [strip_volatile(v) for v in value]
    return value


def test_smoke_run_writes_every_artefact(smoke_run: Path):
    run = RunDir(smoke_run)
    assert run.config_path.is_file() and run.checkpoints_path.is_file() and run.trace_path.is_file()
    assert run.report_path.is_file()
    assert run.iterations_with_data() == [0, 1]
    for i in (0, 1):
        assert run.read_examples(i), f"no data for iteration {i}"
        assert run.forest_path(i).is_file()
        assert (run.adapter_dir(i) / "adapter_config.json").is_file()
        assert (run.adapter_dir(i) / "adapter_model.safetensors").is_file()
    metrics = run.read_metrics()
    assert [e["iteration"] for e in metrics["evaluations"]] == [0, 1, 2]
    for e in metrics["evaluations"]:
        assert set(e) >= {"validation", "test"}
        assert e["validation"]["per_skill"] and e["test"]["per_skill"]
    assert metrics["test_accuracy_before"] is not None and metrics["test_accuracy_after"] is not None
    kinds = {e.kind for e in run.read_events()}
    assert {"evaluation", "decision", "llm_call", "verdict", "training", "written", "skills"} <= kinds


def test_kill_and_resume_matches_an_uninterrupted_run(smoke_run: Path, tmp_path: Path):
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "teachgraph.cli", "run", str(SMOKE), "--out", str(killed), "--quiet"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Kill mid-iteration: once the first teacher step's data is on disk (training is next).
    deadline = time.time() + 300
    while not RunDir(killed).data_path(0).is_file():
        assert proc.poll() is None, "run ended before it could be killed"
        assert time.time() < deadline, "run never reached its first teacher step"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not RunDir(killed).metrics_path.is_file() or len(RunDir(killed).read_metrics()["evaluations"]) < 3

    result = cli("run", "--resume", str(killed))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    full, resumed = RunDir(smoke_run), RunDir(killed)
    assert resumed.iterations_with_data() == full.iterations_with_data()
    for i in full.iterations_with_data():
        a = [ex.model_dump(mode="json") for ex in full.read_examples(i)]
        b = [ex.model_dump(mode="json") for ex in resumed.read_examples(i)]
        assert a == b, f"iteration {i} data differs"
        assert len({ex["id"] for ex in b}) == len(b)  # nothing duplicated
    assert strip_volatile(full.read_metrics()) == strip_volatile(resumed.read_metrics())
    assert json.loads(full.forest_path(1).read_text()) == json.loads(resumed.forest_path(1).read_text())
