"""Failures at a glance: grouped by node, model and cause; the run's verdict; CLI exit code and report."""

from __future__ import annotations

import socket
from pathlib import Path

import yaml

from teachgraph.tracing.events import TraceEvent
from teachgraph.tracing.failures import read_health, run_health, short_error
from teachgraph.tracing.report import render_report
from teachgraph.tracing.rundir import RunDir
from tests.conftest import SMOKE, cli

DEAD = "provider error: OpenAIConnectionError: Connection error."


def failed_call(node: str, iteration: int = 0, skill: str | None = None, model: str = "openai:gpt-4o-mini"):
    error = f"no valid Thing after 3 attempt(s): {DEAD}"
    return [
        TraceEvent(
            node=node,
            kind="llm_call",
            iteration=iteration,
            skill=skill,
            data={"model": model, "ok": False, "error": error},
        ),
        TraceEvent(node=node, kind="failure", iteration=iteration, skill=skill, data={"error": error}),
    ]


def ok_call(node: str) -> TraceEvent:
    return TraceEvent(node=node, kind="llm_call", data={"model": "local:qwen", "ok": True})


def test_failed_calls_group_by_node_model_and_cause_and_count_once():
    events = [*failed_call("data_writing", 0, "a"), *failed_call("data_writing", 1, "b"), *failed_call("policy", 1)]
    events.append(TraceEvent(node="train", kind="failure", iteration=1, data={"error": "trainer crashed"}))
    health = run_health(events, {"rounds": [{"iteration": 0, "accepted": 0}, {"iteration": 1, "accepted": 0}]})
    assert (health.llm_calls, health.failed_calls, health.node_failures) == (3, 3, 4)
    groups = [(g.node, g.model, g.error, g.count, g.iterations) for g in health.groups]
    assert groups == [
        ("data_writing", "openai:gpt-4o-mini", "OpenAIConnectionError: Connection error.", 2, (0, 1)),
        ("policy", "openai:gpt-4o-mini", "OpenAIConnectionError: Connection error.", 1, (1,)),
        ("train", "-", "trainer crashed", 1, (1,)),
    ]
    assert health.status == "failed"
    assert health.headline() == "FAILED: 3 of 3 LLM calls failed; 1 other node failure(s); 0 example(s) accepted"


def test_status_says_whether_the_run_did_its_job():
    assert run_health([ok_call("policy")], {"rounds": [{"iteration": 0, "accepted": 0}]}).status == "ok"
    some = [ok_call("data_writing"), *failed_call("policy")]
    assert run_health(some, {"rounds": [{"iteration": 0, "accepted": 5}]}).status == "degraded"
    assert run_health(some, {"rounds": [{"iteration": 0, "accepted": 0}]}).status == "failed"
    assert run_health(failed_call("policy"), {"rounds": [{"iteration": 0, "accepted": 5}]}).status == "failed"
    stopped = {"rounds": [{"iteration": 0, "accepted": 5}], "stop_reason": "failure limit: policy kept failing"}
    assert run_health(some, stopped).status == "failed"


def test_short_error_drops_the_retry_wrapper_and_long_tails():
    assert short_error(f"no valid X after 2 attempt(s): {DEAD}") == "OpenAIConnectionError: Connection error."
    assert short_error("bad\n  json") == "bad json"
    assert len(short_error("x" * 1000)) == 200
    assert short_error(None) == "no output"


def test_report_opens_with_what_failed(tmp_path: Path):
    run = RunDir(tmp_path / "run")
    for e in failed_call("data_writing", 0, "gcd"):
        run.append_event(e)
    run.write_metrics({"rounds": [{"iteration": 0, "accepted": 0, "written": 0}], "stop_reason": "iterations: 1 done"})
    html = render_report(run.root)
    banner = html.index('class="health failed"')
    assert banner < html.index('<section id="run">')
    top = html[banner : html.index("</div>", banner)]
    assert "FAILED: 1 of 1 LLM calls failed" in top
    for text in ("data_writing", "openai:gpt-4o-mini", "OpenAIConnectionError: Connection error."):
        assert text in top


def test_a_clean_report_has_no_failure_banner(tmp_path: Path):
    run = RunDir(tmp_path / "run")
    run.append_event(ok_call("policy"))
    assert 'class="health' not in render_report(run.root)


def _dead_port() -> int:
    with socket.socket() as s:  # bound then closed: nothing listens there, connections are refused
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_run_with_a_dead_provider_exits_non_zero_and_says_what_failed(tmp_path: Path):
    data = yaml.safe_load(SMOKE.read_text())
    spec = f"openai-compatible:http://127.0.0.1:{_dead_port()}/v1#dead-model"
    data["teacher"].update(models={"default": {"spec": spec, "timeout_s": 5}}, max_attempts=1)
    data["task"]["params"].update(validation_size=8, test_size=8)
    data["loop"] = {"iterations": 1, "evaluate_test": False}
    config = tmp_path / "dead.yaml"
    config.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"

    result = cli("run", str(config), "--out", str(out), "--quiet", timeout=300)
    # The failure limit stops the run (exit 2, one line on stderr naming node, model and error);
    # stdout ends with what failed, grouped by node and model.
    assert result.returncode != 0, result.stdout[-3000:] + result.stderr[-3000:]
    tail = "\n".join(result.stdout.splitlines()[-12:])  # what a user sees last
    assert "FAILED" in tail and "LLM calls failed" in tail, result.stdout[-3000:]
    assert "error_analysis" in tail
    assert "dead-model@127.0.0.1" in tail and "Connection error" in tail
    assert "run stopped" in result.stderr and "--resume" in result.stderr

    health = read_health(out)
    assert health.failed and health.failed_calls == health.llm_calls > 0
    html = (out / "report.html").read_text()
    assert html.index('class="health failed"') < html.index('<section id="accuracy">')
