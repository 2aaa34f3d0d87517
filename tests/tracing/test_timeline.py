"""``teachgraph trace``: gold and induced skill filters, unknown names, numbers rounded for reading."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from teachgraph.cli import app
from teachgraph.tracing.events import TraceEvent
from teachgraph.tracing.rundir import RunDir
from teachgraph.tracing.timeline import describe, filter_events, fmt, match_skill, vocabulary

runner = CliRunner()


def trace(*args: str):
    return runner.invoke(app, ["trace", *args], terminal_width=250)


@pytest.fixture
def run(tmp_path: Path) -> Path:
    """A run whose teacher named its own skills ('divisibility') over the task's gold ones."""
    run = RunDir(tmp_path / "run")
    per_skill = {"arithmetic/gcd": 0.041666666666666664, "arithmetic/chain_sum": 0.5}
    ids = [f"arithmetic/validation/gcd/{i}" for i in range(12)]
    for e in [
        TraceEvent(
            node="evaluate",
            kind="evaluation",
            data={
                "split": "validation",
                "accuracy": 0.041666666666666664,
                "n": 24,
                "per_skill": per_skill,
                "seconds": 20.0312,
            },
        ),
        TraceEvent(
            node="error_analysis",
            kind="analysis",
            data={"groups": [{"name": "slips", "description": "drops digits", "instance_ids": ids}]},
        ),
        TraceEvent(node="policy", kind="llm_start", skill="divisibility", data={"model": "m"}),
        TraceEvent(
            node="policy",
            kind="decision",
            skill="divisibility",
            data={"action": "explore", "reason": "new", "policy": "bandit", "num_new": 2, "new_quota": 3},
        ),
        TraceEvent(
            node="data_writing",
            kind="written",
            iteration=1,
            skill="divisibility/drill",
            data={"quota": 3, "written": 3},
        ),
        TraceEvent(node="data_writing", kind="written", iteration=1, skill="labelled", data={"quota": 2, "written": 2}),
    ]:
        run.append_event(e)
    forest = {"nodes": [{"id": "divisibility"}, {"id": "labelled", "gold_label": "arithmetic/lcm"}], "edges": []}
    run.write_forest(0, forest)
    return run.root


def test_numbers_are_rounded_and_long_lists_summarised():
    assert fmt(0.041666666666666664) == "0.0417" and fmt(20.0312) == "20" and fmt(1234.5) == "1234"
    assert fmt(True) == "True" and fmt(3) == "3"
    assert fmt(["a", "b"]) == "[a, b]"
    assert fmt([f"id{i}" for i in range(24)]) == "[24 items: id0, id1, id2, … 21 more]"
    event = TraceEvent(node="x", kind="custom", data={"accuracy": 0.123456, "ids": list(range(10))})
    assert describe(event) == "accuracy=0.123; ids=[10 items: 0, 1, 2, … 7 more]"


def test_analysis_shows_group_sizes_not_id_lists(run: Path):
    result = trace(str(run), "--node", "error_analysis")
    assert result.exit_code == 0, result.output
    assert "slips (12 instance(s): arithmetic/validation/gcd/0" in result.output
    assert "arithmetic/validation/gcd/11" not in result.output


def test_skill_matches_gold_skills_and_says_so(run: Path):
    result = trace(str(run), "--skill", "gcd")
    assert result.exit_code == 0, result.output
    assert (
        "matches gold skill(s) (the task's labels): arithmetic/gcd; induced skill(s) (the teacher's): none"
        in result.output
    )
    assert "arithmetic/gcd (gold)" in result.output
    assert "validation accuracy 0.0417 (n=24, 20 s); arithmetic/gcd 0.0417" in result.output
    assert "chain_sum" not in result.output  # only the matched gold skill's accuracy
    assert "0.041666" not in result.output


def test_skill_matches_induced_skills_and_their_subskills(run: Path):
    result = trace(str(run), "--skill", "divis")
    assert result.exit_code == 0, result.output
    assert "induced skill(s) (the teacher's): divisibility, divisibility/drill" in result.output
    assert "divisibility (induced)" in result.output and "divisibility/drill (induced)" in result.output
    assert "llm_start" not in result.output  # progress-only events are not part of the timeline
    assert "evaluation" not in result.output


def test_a_forest_node_labelled_with_a_gold_skill_matches_it(run: Path):
    result = trace(str(run), "--skill", "lcm")
    assert result.exit_code == 0, result.output
    assert "labelled (gold: arithmetic/lcm)" in result.output


@pytest.mark.parametrize(
    ("option", "value", "listed"),
    [
        ("--node", "polcy", "known nodes: data_writing, error_analysis, evaluate, policy"),
        ("--skill", "nosuch", "known skills: arithmetic/chain_sum, arithmetic/gcd, arithmetic/lcm, divisibility"),
        ("--kind", "verdit", "known event kinds: analysis, decision, evaluation, llm_start, written"),
        ("--iteration", "7", "known iterations: 0, 1"),
    ],
)
def test_an_unknown_filter_says_so_and_lists_the_known_ones(run: Path, option: str, value: str, listed: str):
    result = trace(str(run), option, value)
    assert result.exit_code == 2
    assert f"unknown {option.lstrip('-').replace('kind', 'event kind')} {value!r}" in result.output
    assert listed in result.output


def test_filter_events_keeps_hidden_kinds_when_asked(run: Path):
    events = RunDir(run).read_events()
    assert not [e for e in filter_events(events) if e.kind == "llm_start"]
    assert len(filter_events(events, kind="llm_start")) == 1
    match = match_skill("gcd", vocabulary(events))
    assert [e.kind for e in filter_events(events, skill=match)] == ["evaluation"]
