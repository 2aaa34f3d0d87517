"""Run an episode from a config into a run directory, or resume one; stream events to trace.jsonl.

This is what ``teachgraph run`` calls. It wires the config into the graphs' runtime contexts,
compiles the episode with a SQLite checkpointer in the run directory (thread id = run id), and
streams with ``stream_mode=["custom", "updates"]`` so every node's decision events land in
``trace.jsonl`` while the graph runs.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import StateGraph

from teachgraph.config import RunConfig, load_config, parse_config
from teachgraph.errors import TeachgraphError
from teachgraph.graphs.episode import EpisodeContext, episode
from teachgraph.graphs.state import TeacherContext
from teachgraph.graphs.teacher import build_teacher
from teachgraph.providers import ModelRouter
from teachgraph.student import build_student
from teachgraph.tasks import load_task
from teachgraph.tracing.rundir import RunDir

EventSink = Callable[[dict[str, Any]], None]


def build_context(
    config: RunConfig,
    run_dir: RunDir,
    *,
    models: ModelRouter | None = None,
    student: Any = None,
    teacher_graph: StateGraph | None = None,
) -> EpisodeContext:
    """Everything the episode's nodes need, built from the config (models resolve lazily).

    ``teacher_graph`` replaces the config's environment with your own (uncompiled) teacher graph.
    """
    task = load_task(config.task)
    router = models or ModelRouter(config.teacher.models)
    student = student or build_student(config.student)
    teacher_settings = config.teacher.model_copy(update={"seed": config.seed})
    graph = teacher_graph or build_teacher(config.teacher.environment, with_state=config.teacher.with_state)
    teacher_graph = graph.compile()
    return EpisodeContext(
        config=config,
        task=task,
        student=student,
        teacher_graph=teacher_graph,
        teacher_context=TeacherContext(task=task, models=router, settings=teacher_settings, run_id=run_dir.run_id, student=student),
        run_dir=run_dir,
        run_id=run_dir.run_id,
    )


def resolved_config(config: RunConfig, router: ModelRouter) -> dict[str, Any]:
    """The config as run: presets applied, models per node resolved to labels (no secrets)."""
    data = config.model_dump(mode="json", exclude={"presets"})
    data["teacher"]["resolved_models"] = router.specs()
    return data


def run_episode(
    config: RunConfig,
    out: str | Path,
    *,
    resume: bool = False,
    on_event: EventSink | None = None,
    models: ModelRouter | None = None,
    student: Any = None,
    teacher_graph: StateGraph | None = None,
) -> dict[str, Any]:
    """Run (or resume) an episode; returns the final metrics.

    Args:
        config: The run config (for ``resume``, the one saved in the run directory).
        out: The run directory.
        resume: Continue from the last checkpoint instead of starting.
        on_event: Called with every trace event (the CLI prints progress from them).
        models, student: Ready objects overriding the config's (tests, notebooks).
        teacher_graph: An uncompiled teacher graph replacing the config's environment.
    """
    run_dir = RunDir(out)
    if not resume and run_dir.exists():
        raise TeachgraphError(f"run directory {run_dir.root} already holds a run; resume it with --resume or pick another --out")
    ctx = build_context(config, run_dir, models=models, student=student, teacher_graph=teacher_graph)
    if not resume:
        run_dir.write_config(resolved_config(config, ctx.teacher_context.models))
    conn = sqlite3.connect(run_dir.checkpoints_path, check_same_thread=False)
    try:
        graph = episode().compile(checkpointer=SqliteSaver(conn))
        thread = {"configurable": {"thread_id": run_dir.run_id}, "recursion_limit": 10_000}
        inputs: dict[str, Any] | None
        if resume:
            snapshot = graph.get_state(thread)
            if not snapshot.values:
                raise TeachgraphError(f"nothing to resume in {run_dir.root}: no checkpoint found")
            if not snapshot.next:
                return run_dir.read_metrics()  # already finished
            inputs = None  # None = continue from the last checkpoint
        else:
            inputs = {"iteration": 0, "forest": {}, "known_questions": [], "accepted_total": 0, "adapter": None}
        start = time.perf_counter()
        for mode, chunk in _stream(graph, inputs, thread, ctx):
            if mode == "custom" and isinstance(chunk, dict) and "teachgraph_event" in chunk:
                event = chunk["teachgraph_event"]
                run_dir.append_event(event)
                if on_event:
                    on_event(event)
        metrics = run_dir.read_metrics()
        metrics["wall_seconds_this_session"] = round(time.perf_counter() - start, 2)
        return metrics
    finally:
        conn.close()


def _stream(graph: Any, inputs: Any, thread: dict[str, Any], ctx: EpisodeContext):
    """Yield (mode, chunk) pairs from the episode, flattening subgraph namespaces."""
    for item in graph.stream(inputs, thread, context=ctx, stream_mode=["custom", "updates"], subgraphs=True, durability="sync"):
        _namespace, mode, chunk = item
        yield mode, chunk


def start_run(config_path: str | Path, out: str | Path, *, preset: str | None = None, on_event: EventSink | None = None) -> dict[str, Any]:
    """``teachgraph run CONFIG --out DIR``."""
    return run_episode(load_config(config_path, preset=preset), out, on_event=on_event)


def resume_run(out: str | Path, *, on_event: EventSink | None = None) -> dict[str, Any]:
    """``teachgraph run --resume DIR``: reload the saved config and continue from the last checkpoint."""
    run_dir = RunDir(out)
    if not run_dir.exists():
        raise TeachgraphError(f"no run to resume in {run_dir.root} (config.yaml missing)")
    data = yaml.safe_load(run_dir.config_path.read_text())
    data["teacher"].pop("resolved_models", None)
    return run_episode(parse_config(data, source=str(run_dir.config_path)), out, resume=True, on_event=on_event)
