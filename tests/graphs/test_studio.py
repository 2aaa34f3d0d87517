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
def test_xray_drawing_shows_the_teacher_subgraph(environment):
    graph = getattr(studio, environment)
    teacher = BUILDERS[environment]().compile()
    teacher_nodes = [n for n in teacher.get_graph().nodes if not n.startswith("__")]
    assert teacher_nodes

    flat = graph.get_graph().draw_mermaid()
    assert f"subgraph {environment}" not in flat

    xray = graph.get_graph(xray=True)
    assert {f"{environment}:{n}" for n in teacher_nodes} <= set(xray.nodes)
    mermaid = xray.draw_mermaid()
    assert f"subgraph {environment}" in mermaid
    for node in teacher_nodes:
        assert f"({node})" in mermaid, node


def test_skill_tree_step_writes_accepted_examples(default_studio_config):
    out = studio.skill_tree.invoke({"iteration": 0})
    assert set(out) <= {"examples", "forest", "failures", "actions", "usage"}
    examples = out["examples"]
    accepted = [ex for ex in examples if ex.accepted]
    assert accepted, [ex.verdict for ex in examples]
    assert all(ex.provenance.iteration == 0 for ex in examples)
    assert out["forest"]


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
