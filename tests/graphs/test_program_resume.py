"""The program engine in a whole episode: SIGKILL while drawing, ``--resume``, byte-identical data;
generators and accuracy on generated data in the forest snapshots and the report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from teachgraph.skills import SkillForest
from teachgraph.tracing.rundir import RunDir
from tests.conftest import ROOT, SMOKE, cli


@pytest.fixture(scope="module")
def programs_config(tmp_path_factory) -> Path:
    """examples/smoke.yaml with ``engine: programs``, the alternating policy and a writer that is
    slow on its checks."""
    root = tmp_path_factory.mktemp("programs")
    script = yaml.safe_load((ROOT / "examples" / "smoke_script.yaml").read_text())
    script["default"] = [{"call": "tests.graphs.slow_responder:slow_data_writing"}]
    (root / "script.yaml").write_text(yaml.safe_dump(script))
    config = yaml.safe_load(SMOKE.read_text())
    config["teacher"]["engine"] = "programs"
    config["teacher"]["models"] = {"default": f"scripted:{root / 'script.yaml'}"}
    config["teacher"]["programs"] = {"validation_seeds": 8}
    config["teacher"]["policy"] = "alternating"  # explore at iteration 0, exploit at 1
    path = root / "programs.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def programs_run(programs_config: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("programs-run") / "run"
    result = cli("run", str(programs_config), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def _drawing_started(run: RunDir) -> bool:
    if not run.trace_path.is_file():
        return False
    return any('"kind":"drawn"' in line.replace(" ", "") for line in run.trace_path.read_text().splitlines())


def test_sigkill_while_drawing_then_resume_gives_identical_data(programs_config: Path, programs_run: Path, tmp_path):
    killed = RunDir(tmp_path / "killed")
    proc = subprocess.Popen(
        [sys.executable, "-m", "teachgraph.cli", "run", str(programs_config), "--out", str(killed.root), "--quiet"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while not _drawing_started(killed):
        assert proc.poll() is None, "run ended before it could be killed"
        assert time.time() < deadline, "run never started drawing"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # Killed inside the first teacher step: some branches had drawn, its data was not written yet.
    assert not killed.data_path(0).is_file()

    result = cli("run", "--resume", str(killed.root), "--quiet")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    full = RunDir(programs_run)
    assert killed.iterations_with_data() == full.iterations_with_data() == [0, 1]
    for i in full.iterations_with_data():
        assert killed.data_path(i).read_bytes() == full.data_path(i).read_bytes(), f"iteration {i} data differs"
        assert killed.forest_path(i).read_bytes() == full.forest_path(i).read_bytes()


def test_snapshots_and_report_show_generators_and_accuracy_on_generated_data(programs_run: Path):
    run = RunDir(programs_run)
    examples = run.read_examples(0)
    assert examples and all(ex.provenance.generator and ex.provenance.seed is not None for ex in examples)
    forest = SkillForest.from_data(json.loads(run.forest_path(0).read_text())["forest"])
    subskills = [p for p in forest if forest.depth(p) > 0]
    assert subskills
    for path in subskills:
        node = forest.node(path)
        assert node.active_generators(), path
        assert node.latest_accuracy("generated") is not None, path
    # Iteration 1: skills that had generators are drawn from without any LLM call.
    with_generators = {p for p in forest if forest.node(p).active_generators()}
    events = run.read_events()
    drawn_again = {e.skill for e in events if e.iteration == 1 and e.kind == "drawn"} & with_generators
    assert drawn_again
    calls = [e for e in events if e.iteration == 1 and e.kind == "llm_call" and e.node == "data_writing"]
    assert not [e for e in calls if e.skill in with_generators]
    html = run.report_path.read_text()
    assert "Generators" in html and forest.node(subskills[0]).generators[0].hash in html
