"""Decision traces of real (smoke) runs: the trace CLI, per-node models, secrets never on disk."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from typer.testing import CliRunner

from teachgraph.cli import app
from teachgraph.tracing.rundir import RunDir
from tests.conftest import SMOKE, cli

runner = CliRunner()


def test_trace_node_policy_shows_each_decision_with_its_reason(smoke_run: Path):
    events = [e for e in RunDir(smoke_run).read_events() if e.node == "policy" and e.kind == "decision"]
    assert events and all(e.data["reason"] for e in events)
    result = runner.invoke(app, ["trace", str(smoke_run), "--node", "policy"], terminal_width=250)
    assert result.exit_code == 0, result.output
    for e in events:
        assert str(e.data["reason"])[:40] in result.output
        assert e.data["action"] in result.output
    assert "data_writing" not in result.output  # filtered to the policy node


def test_trace_filters_by_iteration_and_skill(smoke_run: Path):
    result = runner.invoke(app, ["trace", str(smoke_run), "--iteration", "1", "--kind", "verdict"], terminal_width=250)
    assert result.exit_code == 0
    assert "accepted" in result.output
    events = RunDir(smoke_run).read_events()
    skill = next(e.skill for e in events if e.kind == "verdict" and e.skill)
    result = runner.invoke(app, ["trace", str(smoke_run), "--skill", skill.split("/")[-1]], terminal_width=250)
    assert result.exit_code == 0 and skill.split("/")[-1] in result.output


def test_report_is_written_for_a_real_run(smoke_run: Path):
    result = runner.invoke(app, ["report", str(smoke_run)])
    assert result.exit_code == 0, result.output
    html = (smoke_run / "report.html").read_text()
    assert html.count("data:image/png;base64") >= 3


def _variant(tmp_path: Path, **teacher_models: str) -> Path:
    data = yaml.safe_load(SMOKE.read_text())
    data["teacher"]["models"]["default"] = f"scripted:{SMOKE.parent / 'smoke_script.yaml'}"  # written elsewhere
    data["teacher"]["models"].update(teacher_models)
    data["loop"]["iterations"] = 1
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_changing_one_nodes_model_shows_in_that_nodes_trace_only(smoke_run: Path, tmp_path: Path):
    script = tmp_path / "other_writer.yaml"
    script.write_text((SMOKE.parent / "smoke_script.yaml").read_text())
    config = _variant(tmp_path, data_writing=f"scripted:{script}")
    out = tmp_path / "run"
    result = cli("run", str(config), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr[-2000:]

    def models(run: Path) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for e in RunDir(run).read_events():
            if e.kind == "llm_call" and e.iteration == 0:
                found.setdefault(e.node, set()).add(str(e.data["model"]))
        return found

    before, after = models(smoke_run), models(out)
    assert set(before) == set(after)
    changed = {node for node in before if before[node] != after[node]}
    assert changed == {"data_writing"}
    assert all(str(script) in m for m in after["data_writing"])
    examples = RunDir(out).read_examples(0)
    assert examples and all(str(script) in ex.provenance.model for ex in examples)


def test_planted_secret_never_reaches_the_run_directory(tmp_path: Path):
    secret = "sk-test-PLANTED-0123456789abcdef"
    env = dict(os.environ, OPENAI_API_KEY=secret, TEACHGRAPH_TEST_API_KEY=secret)
    # The secret sits in the environment, in a model spec's URL and behind an api_key_env.
    config = _variant(
        tmp_path,
        allocation=f"openai-compatible:http://user:{secret}@127.0.0.1:9/v1#m",
    )
    data = yaml.safe_load(config.read_text())
    data["teacher"]["models"]["policy"] = {
        "spec": "openai-compatible:http://127.0.0.1:9/v1#p",
        "api_key_env": "TEACHGRAPH_TEST_API_KEY",
    }
    data["teacher"]["policy"] = "bandit"  # the policy model is configured but not called
    config.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    result = cli("run", str(config), "--out", str(out), "--quiet", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert secret not in result.stdout + result.stderr
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 5
    for path in files:
        assert secret.encode() not in path.read_bytes(), f"secret found in {path}"
