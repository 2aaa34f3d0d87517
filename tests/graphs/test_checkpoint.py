"""Checkpoints keep our types under LangGraph's strict msgpack allow-list (the future default)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from teachgraph.domain import EvaluatedInstance, RejectionReason, TaskInstance, TrainingExample
from teachgraph.graphs.checkpoint import episode_state_types, serializer, state_types
from teachgraph.state import ExploredSubskills, NodeFailure, TeacherState
from teachgraph.tracing.rundir import RunDir
from tests.conftest import ROOT, SMOKE, cli


def test_every_type_the_states_hold_is_registered():
    keys = episode_state_types()
    for cls in (EvaluatedInstance, TaskInstance, TrainingExample, RejectionReason, NodeFailure, ExploredSubskills):
        assert (cls.__module__, cls.__name__) in keys
    # Annotated reducers, unions and nested models are followed.
    assert ("teachgraph.state", "ErrorGroup") in state_types([TeacherState])


def test_registered_types_come_back_as_themselves_without_a_warning(caplog):
    inst = TaskInstance(id="i1", prompt="2+2?", answer="4", gold_skill="arithmetic/basic_arithmetic")
    value = {"evaluated": [EvaluatedInstance(instance=inst, prediction="4", correct=True, score=1.0)]}
    strict = JsonPlusSerializer(allowed_msgpack_modules=None)  # what LANGGRAPH_STRICT_MSGPACK=true does
    blob = strict.dumps_typed(value)
    assert not isinstance(strict.loads_typed(blob)["evaluated"][0], EvaluatedInstance)  # blocked: a raw dict

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        back = serializer().loads_typed(blob)
    assert back == value and isinstance(back["evaluated"][0], EvaluatedInstance)
    assert not [r for r in caplog.records if "unregistered" in r.getMessage() or "Blocked" in r.getMessage()]


def test_a_killed_run_resumes_under_strict_deserialization_with_warnings_as_errors(smoke_run: Path, tmp_path: Path):
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "teachgraph.cli", "run", str(SMOKE), "--out", str(killed), "--quiet"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Kill once the second teacher step is under way: its state holds every checkpointed type.
    deadline = time.time() + 400
    while not RunDir(killed).data_path(1).is_file():
        assert proc.poll() is None, "run ended before it could be killed"
        assert time.time() < deadline, "run never reached its second teacher step"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    # Strict mode blocks every type not on the allow-list (as a future LangGraph will by default);
    # -W error turns any Python warning into a failure.
    env = {**os.environ, "LANGGRAPH_STRICT_MSGPACK": "true", "PYTHONWARNINGS": "error"}
    result = cli("run", "--resume", str(killed), env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "unregistered type" not in output and "Blocked deserialization" not in output, output[-3000:]

    full, resumed = RunDir(smoke_run), RunDir(killed)
    for i in full.iterations_with_data():
        a = [ex.model_dump(mode="json") for ex in full.read_examples(i)]
        assert a == [ex.model_dump(mode="json") for ex in resumed.read_examples(i)], f"iteration {i} differs"
    assert [e["test"]["accuracy"] for e in full.read_metrics()["evaluations"]] == [
        e["test"]["accuracy"] for e in resumed.read_metrics()["evaluations"]
    ]
