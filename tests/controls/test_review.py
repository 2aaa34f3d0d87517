"""Acceptance 2: the review interrupt (teacher.review) — approve, reject by id, edit, an invalid
decision asked again, and a run killed during the pause that resumes at the same review."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from teachgraph.config import load_config
from teachgraph.runner import run_episode
from teachgraph.skills import SkillForest
from teachgraph.tracing.rundir import RunDir
from tests.conftest import ROOT
from tests.controls.conftest import smoke_config


def test_reviewer_approves_rejects_by_id_and_edits(tmp_path: Path):
    config = load_config(smoke_config(tmp_path, "review", teacher={"review": True}))
    asked: list[dict[str, Any]] = []

    def reviewer(payload: dict[str, Any]) -> dict[str, Any]:
        asked.append(payload)
        if payload["iteration"] == 0:
            # An id that is not in the batch is refused and the same batch asked for again.
            return {} if payload["error"] else {"reject": {"99": "no such example"}}
        batch = payload["examples"]
        return {
            "reject": {"2": "too similar to the others", batch[2]["id"]: "wrong skill"},
            "edit": {"4": {"answer": "1"}},
        }

    out = tmp_path / "run"
    metrics = run_episode(config, out, reviewer=reviewer)
    assert metrics["stop_reason"] == "iterations: 2 done" and "paused_for_review" not in metrics
    assert [(p["iteration"], p["error"] is not None) for p in asked] == [(0, False), (0, True), (1, False)]
    assert "no example '99'" in asked[1]["error"]

    run = RunDir(out)
    first = run.read_examples(0)
    assert [ex.id for ex in first] == [e["id"] for e in asked[0]["examples"]]
    assert all(ex.provenance.review == ("approved" if ex.accepted else None) for ex in first)

    second = {ex.id: ex for ex in run.read_examples(1)}
    batch = asked[2]["examples"]
    for n, reason in ((1, "too similar to the others"), (2, "wrong skill")):
        ex = second[batch[n]["id"]]
        assert batch[n]["accepted"] and not ex.accepted
        assert ex.verdict.reason.value == "rejected_by_reviewer"
        assert ex.verdict.detail == f"rejected by reviewer: {reason}"
        assert ex.provenance.review == f"rejected: {reason}"
    edited = second[batch[3]["id"]]
    assert edited.answer == "1" and edited.provenance.review == "edited: answer"
    assert edited.verdict.reason.value == "answer_mismatch"  # judged again: its program disagrees now
    untouched = [second[e["id"]] for k, e in enumerate(batch) if k not in (1, 2, 3) and e["accepted"]]
    assert untouched and all(ex.accepted and ex.provenance.review == "approved" for ex in untouched)

    # Rejected examples are never trained on; the ledger of the round and the forest agree.
    accepted = sum(ex.accepted for ex in second.values())
    assert accepted == sum(e["accepted"] for e in batch) - 3
    training = [e for e in run.read_events() if e.kind == "training" and e.iteration == 1]
    assert training[0].data["examples"] == accepted
    assert metrics["rounds"][1]["accepted"] == accepted
    assert metrics["rounds"][1]["rejected"]["rejected_by_reviewer"] == 2
    forest = SkillForest.from_data(run.read_forests()[1])
    assert sum(forest.node(p).generated_last for p in forest) == accepted
    reviewed = [e for e in run.read_events() if e.kind == "reviewed"]
    assert [(e.iteration, e.data["rejected"], e.data["edited"]) for e in reviewed] == [(0, 0, 0), (1, 2, 1)]


def _read_into(stream: Any, sink: list[str]) -> None:
    for line in iter(stream.readline, ""):
        sink.append(line)


def test_kill_during_the_review_pause_then_resume_at_the_same_review(tmp_path: Path):
    config = smoke_config(tmp_path, "review", teacher={"review": True})
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "teachgraph.cli", "run"]
    proc = subprocess.Popen(
        [*cmd, str(config), "--out", str(out)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    threading.Thread(target=_read_into, args=(proc.stdout, lines), daemon=True).start()
    deadline = time.time() + 600
    # The command help ends a line (the "review> " prompt after it does not).
    while not any("approve and go on" in line for line in lines):
        assert proc.poll() is None, "".join(lines)[-3000:]
        assert time.time() < deadline, "the run never paused for review"
        time.sleep(0.1)
    shown = "".join(lines)
    assert "review: iteration 0" in shown
    os.kill(proc.pid, signal.SIGKILL)  # a person walks away mid-review; the process dies
    proc.wait()
    run = RunDir(out)
    assert not run.data_path(0).is_file()  # nothing of the unreviewed batch reached the data files

    first_id = next(line.split("│")[2].strip() for line in lines if line.strip().startswith("│ 1 "))
    resumed = subprocess.run(
        [*cmd, "--resume", str(out)],
        cwd=ROOT,
        input=f"r 1,3 {'does not teach the skill'}\ne 2 question=\na\nq\n",
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert "review: iteration 0" in resumed.stdout  # the same review, shown again
    data = run.read_examples(0)
    assert data[0].id == first_id
    assert [data[k].verdict.detail for k in (0, 2)] == ["rejected by reviewer: does not teach the skill"] * 2
    assert data[1].verdict.reason.value == "malformed" and data[1].provenance.review == "edited: question"
    # 'q' at iteration 1's review: the run stays paused there, resumable, and says how.
    assert "paused for review at iteration 1" in " ".join(resumed.stdout.split())
    assert not run.data_path(1).is_file()

    finished = subprocess.run(
        [*cmd, "--resume", str(out), "--review-file", str(_approve_all(tmp_path))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert run.read_metrics()["stop_reason"] == "iterations: 2 done"
    assert all(ex.provenance.review in ("approved", None) for ex in run.read_examples(1))


def _approve_all(tmp_path: Path) -> Path:
    path = tmp_path / "review.yaml"
    path.write_text("default: approve\n")
    return path


def test_studio_resumes_the_same_interrupt(tmp_path: Path, monkeypatch):
    """What `langgraph dev` does: the Studio graph on a checkpointed thread pauses at the review
    and a Command(resume=...) addressed to that interrupt finishes the step."""
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.types import Command

    from teachgraph.graphs import studio

    monkeypatch.setenv("TEACHGRAPH_CONFIG", str(smoke_config(tmp_path, "studio", teacher={"review": True})))
    studio.studio_context.cache_clear()
    try:
        graph = studio._studio_graph("skill_tree").copy(update={"checkpointer": InMemorySaver()})
        thread = {"configurable": {"thread_id": "studio-review"}}
        paused = graph.invoke({"iteration": 0}, thread)
        (interrupt,) = paused["__interrupt__"]
        batch = interrupt.value["examples"]
        assert interrupt.value["kind"] == "review" and batch and all(e["accepted"] for e in batch)
        out = graph.invoke(Command(resume={interrupt.id: {"reject": {"1": "off topic"}}}), thread)
        first = next(ex for ex in out["examples"] if ex.id == batch[0]["id"])
        assert first.verdict.reason.value == "rejected_by_reviewer" and first.provenance.review == "rejected: off topic"
        assert sum(ex.accepted for ex in out["examples"]) == len(batch) - 1
    finally:
        studio.studio_context.cache_clear()
