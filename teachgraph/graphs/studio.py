"""Entry points for ``langgraph dev`` / LangGraph Studio (see ``langgraph.json``).

The server cannot hand our nodes a ``TeacherContext`` (it holds a task object and model clients),
so each Studio graph builds the context from a run config — ``$TEACHGRAPH_CONFIG``, default
``examples/smoke.yaml`` (offline, scripted). Each Studio graph *is* the teacher graph of its
environment — the same nodes, edges, fan-outs and node policies, so Studio's default graph view
shows the teacher's nodes — with every node wrapped to run under that context. The input is a
teacher step's input; with an empty ``evaluated`` list the validation split is shown to the
teacher with every answer marked wrong, so a run from Studio needs no student.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime

from teachgraph.config import load_config
from teachgraph.domain import EvaluatedInstance
from teachgraph.graphs.teacher import BUILDERS
from teachgraph.providers import ModelRouter
from teachgraph.sandbox import Sandbox
from teachgraph.state import TeacherContext, TeacherState
from teachgraph.tasks import load_task

ROOT = Path(__file__).resolve().parents[2]


@cache
def studio_context() -> TeacherContext:
    """The teacher context for Studio runs, from ``$TEACHGRAPH_CONFIG``."""
    path = Path(os.environ.get("TEACHGRAPH_CONFIG", ROOT / "examples" / "smoke.yaml"))
    config = load_config(path)
    return TeacherContext(
        task=load_task(config.task),
        models=ModelRouter(config.teacher.models),
        settings=config.teacher,
        run_id="studio",
        sandbox=Sandbox(mode=config.sandbox),
    )


def _fill_input(state: dict[str, Any]) -> dict[str, Any]:
    """A Studio input without evaluated instances gets the validation split, all marked wrong."""
    if state.get("evaluated"):
        return state
    evaluated = [
        EvaluatedInstance(instance=i, prediction="", correct=False, score=0.0)
        for i in studio_context().task.instances("validation")
    ]
    return {**state, "evaluated": evaluated, "forest": state.get("forest") or {}}


def _in_studio(action: Callable[..., Any], *, entry: bool) -> Callable[..., Any]:
    """``action`` (a node function) run under :func:`studio_context`; an entry node fills the input."""
    takes_runtime = "runtime" in inspect.signature(action).parameters

    def node(state: Any, runtime: Runtime) -> Any:
        if entry:
            state = _fill_input(state)
        update = action(state, runtime.override(context=studio_context())) if takes_runtime else action(state)
        if entry and isinstance(update, dict):  # the filled-in input must reach the next nodes
            update = {"evaluated": state["evaluated"], "forest": state["forest"], **update}
        return update

    node.__name__ = getattr(action, "__name__", "node")
    node.__doc__ = action.__doc__
    return node


def _studio_graph(environment: str) -> Any:
    # human_review is a pass-through unless the config sets teacher.review; then a Studio run
    # pauses at it and is resumed from Studio with the decision (Command(resume=...)).
    builder = BUILDERS[environment](review=True)
    entries = {b for a, b in builder.edges if a == START}
    for name, spec in list(builder.nodes.items()):
        action = getattr(spec.runnable, "func", None)  # the function the builder added
        if not callable(action):
            raise TypeError(f"studio: node {name!r} of {environment} is not a plain function")
        # add_node makes the runnable (it injects `runtime`); the rest of the spec (retry and
        # cache policies, input schema, destinations) stays the builder's own.
        scratch = StateGraph(TeacherState)
        scratch.add_node(name, _in_studio(action, entry=name in entries))
        builder.nodes[name] = dataclasses.replace(spec, runnable=scratch.nodes[name].runnable)
    builder.context_schema = None  # the context is built here, not sent by the client
    return builder.compile(name=environment)


open_ended = _studio_graph("open_ended")
skill_list = _studio_graph("skill_list")
skill_tree = _studio_graph("skill_tree")
