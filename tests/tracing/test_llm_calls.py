"""Full decision traces: every LLM call's whole prompt and response in llm_calls.jsonl, linked from
its llm_call event, redacted, and shown by `teachgraph trace DIR --full`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teachgraph.cli import app
from teachgraph.config import TEACHER_NODES
from teachgraph.domain import EvaluatedInstance
from teachgraph.graphs import teacher as builders
from teachgraph.providers import ScriptedChatModel
from teachgraph.tasks import load_task
from teachgraph.testing import RESPONDERS, scripted_router
from teachgraph.tracing.llm_calls import PREVIEW_CHARS
from teachgraph.tracing.rundir import RunDir
from tests.graphs.conftest import run_teacher

SECRET = "sk-planted-PROMPT-0123456789abcdef"
runner = CliRunner()


def _leaky(node: str) -> ScriptedChatModel:
    """The node's scripted model, with the secret planted in every reply (an extra JSON key)."""
    responder = RESPONDERS[node]

    def reply(messages):
        data = json.loads(responder(messages))
        return json.dumps({**data, "note": f"my key is {SECRET}"})

    return ScriptedChatModel(responses=[reply], mode="cycle", script_name=f"leaky-{node}")


@pytest.fixture(scope="module")
def traced_run(tmp_path_factory) -> Path:
    """A skill-tree step (LLM policy) and a skill-list step (LLM allocation) traced into one run dir,
    every node's model leaking the secret and one question carrying it."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TEACHGRAPH_TEST_API_KEY", SECRET)
    task = load_task({"name": "arithmetic", "params": {"train_size": 20, "validation_size": 12, "test_size": 12}})
    evaluated = []
    for n, inst in enumerate(task.instances("validation")):
        if n == 0:
            inst = inst.model_copy(update={"prompt": f"{inst.prompt} (token {SECRET})"})
        evaluated.append(EvaluatedInstance(instance=inst, prediction="Answer: 999999", correct=False, score=0.0))
    router = scripted_router(**{node: _leaky(node) for node in RESPONDERS})
    run = RunDir(tmp_path_factory.mktemp("full") / "run")
    for graph, settings in (
        (builders.skill_tree(), {"policy": "llm"}),
        (builders.skill_list(), {"allocation": "llm"}),
    ):
        events: list[dict] = []
        run_teacher(graph, task, evaluated, router=router, events=events, **settings)
        for event in events:
            run.append_event(event)
    mp.undo()
    return run.root


def test_every_node_has_its_full_prompt_and_response_and_the_secret_in_neither(traced_run: Path):
    run = RunDir(traced_run)
    calls = {c.call_id: c for c in run.read_llm_calls()}
    events = [e for e in run.read_events() if e.kind == "llm_call"]
    assert {e.node for e in events} == set(TEACHER_NODES)  # every teacher node called its model
    assert len(calls) == len(events)
    for e in events:
        call = calls[str(e.data["call_id"])]  # the event links to its transcript
        assert call.node == e.node and call.iteration == e.iteration
        assert [m.role for m in call.messages][:2] == ["system", "human"]
        assert all(m.content for m in call.messages)
        assert '"note": "my key is ***"' in call.response  # the reply, in full, redacted
        assert "JSON" in call.messages[-1].content  # format instructions as sent, not just the node's text
        assert len(str(e.data["response"])) <= PREVIEW_CHARS
        assert "transcript" not in e.data  # trace.jsonl itself stays small
    # The question carrying the secret reached the prompts, redacted.
    assert any("(token ***)" in m.content for c in calls.values() for m in c.messages)
    for path in (run.llm_calls_path, run.trace_path):
        assert SECRET not in path.read_text(), path


def test_trace_full_prints_the_policy_prompt_and_response(traced_run: Path):
    result = runner.invoke(app, ["trace", str(traced_run), "--node", "policy", "--full"], terminal_width=200)
    assert result.exit_code == 0, result.output
    policy = [c for c in RunDir(traced_run).read_llm_calls() if c.node == "policy"]
    assert policy
    assert "student accuracy" in result.output  # from the policy prompt
    assert "explore" in result.output and "response" in result.output
    assert "Data budget this round" in result.output
    # The history reads "round N" like the header, and every skill is named in the request.
    assert "student accuracy round 0: 0% of" in result.output
    assert "Give exactly one action for EACH of these" in result.output
    assert "data_writing" not in result.output  # filtered to the policy node
    assert SECRET not in result.output


def test_trace_full_says_so_when_a_run_has_no_transcripts(tmp_path: Path):
    run = RunDir(tmp_path / "old")
    run.append_event({"node": "policy", "kind": "decision", "iteration": 0, "data": {"reason": "r"}})
    result = runner.invoke(app, ["trace", str(run.root), "--full"])
    assert result.exit_code == 0 and "no full LLM transcripts" in result.output
