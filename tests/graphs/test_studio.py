"""Studio entry points (``teachgraph/graphs/studio.py``, ``langgraph.json``): no server is started;
the graphs are drawn and one is run the way ``langgraph dev`` would run it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from langgraph.pregel import Pregel

from teachgraph.graphs import studio
from teachgraph.graphs.teacher import BUILDERS

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ["open_ended", "skill_list", "skill_tree"]


@pytest.fixture
def default_studio_config(monkeypatch):
    """Studio context from the default config (examples/smoke.yaml, scripted, offline)."""
    monkeypatch.delenv("TEACHGRAPH_CONFIG", raising=False)
    studio.studio_context.cache_clear()
    yield
    studio.studio_context.cache_clear()


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_default_view_is_the_teacher_graph(environment):
    # What Studio draws without xray: the teacher's own nodes and edges, not one wrapping box.
    teacher = BUILDERS[environment](review=True).compile().get_graph()  # Studio can pause for review
    drawn = getattr(studio, environment).get_graph()
    assert set(drawn.nodes) == set(teacher.nodes)
    assert {n for n in drawn.nodes if not n.startswith("__")} >= {
        "observe",
        "error_analysis",
        "data_writing",
        "validation",
    }
    edges = lambda g: {(e.source, e.target, e.conditional) for e in g.edges}  # noqa: E731
    assert edges(drawn) == edges(teacher)


def test_skill_tree_step_writes_accepted_examples(default_studio_config):
    out = studio.skill_tree.invoke({"iteration": 0})
    assert set(out) <= {"examples", "forest", "failures", "actions", "usage"}
    examples = out["examples"]
    accepted = [ex for ex in examples if ex.accepted]
    assert accepted, [ex.verdict for ex in examples]
    assert all(ex.provenance.iteration == 0 for ex in examples)
    assert out["forest"]


@pytest.mark.parametrize("environment", ["open_ended", "skill_list"])
def test_every_environment_runs_a_step_in_studio(default_studio_config, environment):
    out = getattr(studio, environment).invoke({"iteration": 0})
    assert any(ex.accepted for ex in out["examples"])


def test_langgraph_json_points_at_compiled_graphs():
    config = json.loads((ROOT / "langgraph.json").read_text())
    assert "." in config["dependencies"]
    graphs = config["graphs"]
    assert set(graphs) == set(ENVIRONMENTS)
    for name, spec in graphs.items():
        path, _, attr = spec.rpartition(":")
        file = (ROOT / path).resolve()
        assert file.is_file(), spec
        # Load by file path, as the LangGraph server does.
        module_spec = importlib.util.spec_from_file_location(f"_studio_check_{name}", file)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        assert isinstance(getattr(module, attr, None), Pregel), spec
