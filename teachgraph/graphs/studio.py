"""Entry points for ``langgraph dev`` / LangGraph Studio (see ``langgraph.json``).

The server cannot hand our nodes a ``TeacherContext`` (it holds a task object and model clients),
so each Studio graph builds the context from a run config — ``$TEACHGRAPH_CONFIG``, default
``examples/smoke.yaml`` (offline, scripted) — and runs the real teacher graph as a subgraph.
The input is a teacher step's input; with an empty ``evaluated`` list the validation split is
shown to the teacher with every answer marked wrong, so a run from Studio needs no student.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from langgraph.graph import END, START, StateGraph

from teachgraph.config import load_config
from teachgraph.domain import EvaluatedInstance
from teachgraph.graphs.state import TeacherContext, TeacherInput, TeacherOutput, TeacherState
from teachgraph.graphs.teacher import BUILDERS
from teachgraph.providers import ModelRouter
from teachgraph.tasks import load_task

ROOT = Path(__file__).resolve().parents[2]


@cache
def studio_context() -> TeacherContext:
    """The teacher context for Studio runs, from ``$TEACHGRAPH_CONFIG``."""
    path = Path(os.environ.get("TEACHGRAPH_CONFIG", ROOT / "examples" / "smoke.yaml"))
    config = load_config(path)
    return TeacherContext(
        task=load_task(config.task), models=ModelRouter(config.teacher.models), settings=config.teacher, run_id="studio"
    )


def _studio_graph(environment: str) -> Any:
    # human_review is a pass-through unless the config sets teacher.review; then a Studio run
    # pauses at it and is resumed from Studio with the decision (Command(resume=...)).
    teacher = BUILDERS[environment](review=True).compile()

    def teach(state: TeacherState) -> dict[str, Any]:
        """Run one teacher step with the Studio context."""
        ctx = studio_context()
        evaluated = state.get("evaluated") or [
            EvaluatedInstance(instance=i, prediction="", correct=False, score=0.0)
            for i in ctx.task.instances("validation")
        ]
        return teacher.invoke({**state, "evaluated": evaluated, "forest": state.get("forest") or {}}, context=ctx)

    graph = StateGraph(TeacherState, input_schema=TeacherInput, output_schema=TeacherOutput)
    graph.add_node(environment, teach)
    graph.add_edge(START, environment)
    graph.add_edge(environment, END)
    return graph.compile()


open_ended = _studio_graph("open_ended")
skill_list = _studio_graph("skill_list")
skill_tree = _studio_graph("skill_tree")
