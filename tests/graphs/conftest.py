"""Shared fixtures: a small arithmetic task, evaluated instances, and a teacher runner."""

from __future__ import annotations

from typing import Any

import pytest

from teachgraph.config import TeacherSettings
from teachgraph.domain import EvaluatedInstance
from teachgraph.providers import ModelRouter
from teachgraph.state import TeacherContext
from teachgraph.tasks import load_task
from teachgraph.testing import scripted_router


@pytest.fixture(scope="session")
def task():
    return load_task(
        {"name": "arithmetic", "params": {"train_size": 40, "validation_size": 24, "test_size": 24, "seed": 3}}
    )


@pytest.fixture(scope="session")
def evaluated(task) -> list[EvaluatedInstance]:
    """Validation instances; the student gets every other one wrong."""
    out = []
    for n, inst in enumerate(task.instances("validation")):
        pred = task.format_target(inst.answer) if n % 2 == 0 else "Answer: 999999"
        score = task.score(inst, pred)
        out.append(
            EvaluatedInstance(
                instance=inst,
                prediction=pred,
                correct=score.correct,
                score=score.score,
                extracted_answer=score.extracted_answer,
            )
        )
    return out


def run_teacher(
    graph: Any,
    task: Any,
    evaluated: list[EvaluatedInstance],
    *,
    router: ModelRouter | None = None,
    forest: dict | None = None,
    iteration: int = 0,
    events: list | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """Compile ``graph`` and run one teacher step, collecting trace events into ``events``."""
    ctx = TeacherContext(
        task=task,
        models=router or scripted_router(),
        settings=TeacherSettings(**({"examples_per_iteration": 8, "policy": "alternating"} | settings)),
        run_id="test",
    )
    app = graph.compile()
    out: dict[str, Any] = {}
    for mode, chunk in app.stream(
        {"iteration": iteration, "evaluated": evaluated, "forest": forest or {}, "known_questions": []},
        context=ctx,
        stream_mode=["custom", "values"],
    ):
        if mode == "custom" and events is not None:
            events.append(chunk["teachgraph_event"])
        elif mode == "values":
            out = chunk
    return out
