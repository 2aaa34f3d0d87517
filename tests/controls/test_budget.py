"""Acceptance 1: a cost budget stops the run at the expected iteration boundary, says so, and
``--resume --cost-budget`` with a raised budget continues to the same data as an uninterrupted run."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from teachgraph.costs import Price, call_cost
from teachgraph.tracing.rundir import RunDir
from tests.conftest import cli
from tests.controls.conftest import smoke_config

# The scripted teacher costs nothing by default; the test gives it a (made-up) price.
PRICE = {"input": 200.0, "output": 800.0}


def same_script(example: dict) -> dict:
    """The copy names the same script by its absolute path; everything else must match exactly."""
    assert example["provenance"]["model"].endswith("examples/smoke_script.yaml")
    example["provenance"]["model"] = "scripted:smoke_script.yaml"
    return example


def test_cost_budget_stops_then_resume_with_raised_budget_matches_uninterrupted(smoke_run: Path, tmp_path: Path):
    full = RunDir(smoke_run)
    rounds = full.read_metrics()["rounds"]
    first = call_cost(rounds[0]["teacher_input_tokens"], rounds[0]["teacher_output_tokens"], Price(**PRICE))
    assert first > 0
    # Half of what the first teacher step costs: the step runs (budgets are checked at iteration
    # boundaries), and the boundary after it, iteration 1, stops the run.
    budget = round(first / 2, 6)
    config = smoke_config(tmp_path, "priced", prices={"scripted:*": PRICE}, loop={"cost_budget": budget})
    out = tmp_path / "run"

    stopped = cli("run", str(config), "--out", str(out))
    assert stopped.returncode == 0, stopped.stdout[-3000:] + stopped.stderr[-3000:]
    metrics = RunDir(out).read_metrics()
    assert metrics["stop_reason"].startswith("cost budget: "), metrics["stop_reason"]
    assert [e["iteration"] for e in metrics["evaluations"]] == [0, 1]
    assert "stopped: cost budget" in " ".join(stopped.stdout.split())
    assert metrics["cost"]["cost_usd"] == round(first, 8) == metrics["cost"]["by_iteration"]["0"]["cost_usd"]
    assert set(metrics["cost"]["by_node"]) >= {"error_analysis", "skill_induction", "data_writing"}
    assert RunDir(out).iterations_with_data() == [0]

    # Resuming without raising the budget changes nothing.
    again = cli("run", "--resume", str(out))
    assert again.returncode == 0 and RunDir(out).read_metrics()["stop_reason"] == metrics["stop_reason"]

    raised = 100 * budget
    resumed = cli("run", "--resume", str(out), "--cost-budget", str(raised))
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    after = RunDir(out).read_metrics()
    assert after["stop_reason"] == "iterations: 2 done"
    assert [e["iteration"] for e in after["evaluations"]] == [0, 1, 2]
    saved = yaml.safe_load(RunDir(out).config_path.read_text())
    assert saved["loop"]["cost_budget"] == raised
    assert saved["resumed_with"] == [{"at_iteration": 1, "loop": {"cost_budget": {"from": budget, "to": raised}}}]

    # The same data, forest and accuracies as the uninterrupted smoke run.
    resumed_dir = RunDir(out)
    assert resumed_dir.iterations_with_data() == full.iterations_with_data() == [0, 1]
    for i in (0, 1):
        a = [same_script(ex.model_dump(mode="json")) for ex in full.read_examples(i)]
        b = [same_script(ex.model_dump(mode="json")) for ex in resumed_dir.read_examples(i)]
        assert a == b, f"iteration {i} data differs"
    assert json.loads(full.forest_path(1).read_text()) == json.loads(resumed_dir.forest_path(1).read_text())
    accuracy = [(e["validation"]["accuracy"], e["test"]["accuracy"]) for e in full.read_metrics()["evaluations"]]
    assert [(e["validation"]["accuracy"], e["test"]["accuracy"]) for e in after["evaluations"]] == accuracy
    # The ledger covers both steps, priced; the uninterrupted run's scripted teacher cost 0.
    assert after["cost"]["calls"] == sum(r["ledger"]["calls"] for r in after["rounds"])
    assert after["cost"]["cost_usd"] > first and full.read_metrics()["cost"]["cost_usd"] == 0.0


def test_token_budget_stops_at_the_first_boundary_past_it(tmp_path: Path):
    config = smoke_config(tmp_path, "tokens", loop={"token_budget": 1, "iterations": 3})
    out = tmp_path / "run"
    result = cli("run", str(config), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    metrics = RunDir(out).read_metrics()
    assert metrics["stop_reason"].startswith("token budget: ")
    assert [e["iteration"] for e in metrics["evaluations"]] == [0, 1]
