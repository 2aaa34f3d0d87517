"""``teachgraph run CONFIG --dry-run``: models per node, expected calls/tokens/cost; starts nothing."""

from __future__ import annotations

from pathlib import Path

from teachgraph.config import load_config
from teachgraph.dryrun import estimate_run
from tests.conftest import ROOT, SMOKE, cli
from tests.controls.conftest import smoke_config


def test_dry_run_prints_models_and_estimates_and_creates_nothing(tmp_path: Path):
    out = tmp_path / "never"
    # No OPENAI_API_KEY: resolving the model would fail, so this also shows nothing is resolved.
    config = smoke_config(
        tmp_path, "priced", teacher={"models": {"default": "scripted:x.yaml", "data_writing": "openai:gpt-4o-mini"}}
    )
    (tmp_path / "x.yaml").write_text("{}\n")  # named by the config, never read by a dry run
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    result = cli("run", str(config), "--out", str(out), "--dry-run", "--iterations", "3", env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    text = " ".join(result.stdout.split())
    assert "3 teacher step(s)" in text and "nothing is started" in text
    assert "openai:gpt-4o-mini" in text and "x.yaml" in text
    assert "expected teacher LLM use" in text and "assumptions:" in text
    assert not out.exists()


def test_estimate_follows_the_budgets_and_prices(tmp_path: Path):
    smoke = estimate_run(load_config(SMOKE))
    assert smoke.steps == 2 and smoke.total("cost_usd") == 0.0
    calls = {n.node: n.calls for n in smoke.nodes}
    # bandit policy: no policy LLM calls; one induction call for 24 validation items; 2 analyses.
    assert "policy" not in calls and calls["skill_induction"] == 1 and calls["error_analysis"] == 2
    assert calls["data_writing"] >= 12 / 4 * 2  # 12 examples per step in batches of 4, two steps

    priced = estimate_run(
        load_config(
            smoke_config(
                tmp_path,
                "budgeted",
                teacher={"models": {"default": "openai:gpt-4o-mini"}},
                loop={"iterations": 4, "data_budget": 20},
            )
        )
    )
    assert priced.steps == 2  # 20 accepted examples at 12 per step: the data budget stops after 2
    dw = next(n for n in priced.nodes if n.node == "data_writing")
    expected = (dw.input_tokens * 0.15 + dw.output_tokens * 0.60) / 1e6
    assert dw.cost_usd is not None and abs(dw.cost_usd - expected) < 1e-9
    assert dw.output_tokens <= dw.output_tokens_max and dw.cost_usd <= dw.cost_usd_max


def test_estimate_is_close_to_a_scripted_run(smoke_run: Path):
    """The scripted teacher counts ~4 characters per token; the estimate is within a factor of 2."""
    import json

    actual = json.loads((smoke_run / "metrics.json").read_text())["cost"]
    est = estimate_run(load_config(SMOKE))
    assert 0.5 <= est.total("calls") / actual["calls"] <= 2
    assert 0.5 <= est.total("input_tokens") / actual["input_tokens"] <= 2


def test_program_engine_estimate_pays_once_per_generator(tmp_path: Path):
    """engine: programs costs a generator and its check per new (sub)skill; re-draws cost nothing."""
    config = load_config(
        smoke_config(
            tmp_path, "programs", teacher={"engine": "programs", "environment": "skill_tree", "policy": "bandit"}
        )
    )
    est = estimate_run(config.model_copy(update={"loop": config.loop.model_copy(update={"iterations": 2})}))
    examples = estimate_run(
        config.model_copy(update={"teacher": config.teacher.model_copy(update={"engine": "examples"})})
    )
    dw = next(n for n in est.nodes if n.node == "data_writing")
    explored = next(n for n in est.nodes if n.node == "subskill_exploration").calls * config.teacher.explore_subskills
    assert dw.calls == 2 * explored  # step 2 rebalances: its quotas re-draw from stored generators
    assert any("engine programs" in a for a in est.assumptions)
    assert dw.input_tokens < next(n for n in examples.nodes if n.node == "data_writing").input_tokens
