"""Run an episode from a config into a run directory, or resume one; stream events to trace.jsonl.

This is what ``teachgraph run`` calls. It wires the config into the graphs' runtime contexts,
compiles the episode with a SQLite checkpointer in the run directory (thread id = run id), and
streams with ``stream_mode=["custom", "updates"]`` so every node's decision events land in
``trace.jsonl`` while the graph runs.
"""

from __future__ import annotations

import shutil
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
from teachgraph.tracing.report import write_report
from teachgraph.tracing.rundir import RunDir

EventSink = Callable[[dict[str, Any]], None]
# Each run directory has its own checkpoint database, so one fixed thread id suffices; it also
# means a copied run directory (a fork) keeps working under its new name.
THREAD_ID = "episode"


def thread_config(checkpoint_id: str | None = None) -> dict[str, Any]:
    """The LangGraph config addressing a run's episode thread (optionally one checkpoint of it)."""
    configurable: dict[str, Any] = {"thread_id": THREAD_ID}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable, "recursion_limit": 10_000}


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
    graph = teacher_graph or build_teacher(
        config.teacher.environment, with_state=config.teacher.with_state, engine=config.teacher.engine
    )
    teacher_graph = graph.compile()
    return EpisodeContext(
        config=config,
        task=task,
        student=student,
        teacher_graph=teacher_graph,
        teacher_context=TeacherContext(
            task=task, models=router, settings=teacher_settings, run_id=run_dir.run_id, student=student
        ),
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
        raise TeachgraphError(
            f"run directory {run_dir.root} already holds a run; resume it with --resume or pick another --out"
        )
    ctx = build_context(config, run_dir, models=models, student=student, teacher_graph=teacher_graph)
    if not resume:
        run_dir.write_config(resolved_config(config, ctx.teacher_context.models))
    conn = sqlite3.connect(run_dir.checkpoints_path, check_same_thread=False)
    try:
        graph = episode().compile(checkpointer=SqliteSaver(conn))
        thread = thread_config()
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
        _drive(graph, inputs, thread, ctx, on_event)
        metrics = run_dir.read_metrics()
        metrics["wall_seconds_this_session"] = round(time.perf_counter() - start, 2)
        if metrics.get("stop_reason"):
            write_report(run_dir.root)  # the finished run's report.html
        return metrics
    finally:
        conn.close()


def _drive(graph: Any, inputs: Any, thread: dict[str, Any], ctx: EpisodeContext, on_event: EventSink | None) -> None:
    """Stream the episode (subgraphs included), appending every trace event to trace.jsonl."""
    for _namespace, mode, chunk in graph.stream(
        inputs, thread, context=ctx, stream_mode=["custom", "updates"], subgraphs=True, durability="sync"
    ):
        if mode == "custom" and isinstance(chunk, dict) and "teachgraph_event" in chunk:
            event = chunk["teachgraph_event"]
            ctx.run_dir.append_event(event)
            if on_event:
                on_event(event)


def start_run(
    config_path: str | Path, out: str | Path, *, preset: str | None = None, on_event: EventSink | None = None
) -> dict[str, Any]:
    """``teachgraph run CONFIG --out DIR``."""
    return run_episode(load_config(config_path, preset=preset), out, on_event=on_event)


def resume_run(out: str | Path, *, on_event: EventSink | None = None) -> dict[str, Any]:
    """``teachgraph run --resume DIR``: reload the saved config and continue from the last checkpoint."""
    run_dir = RunDir(out)
    if not run_dir.exists():
        raise TeachgraphError(f"no run to resume in {run_dir.root} (config.yaml missing)")
    return run_episode(load_run_config(run_dir), out, resume=True, on_event=on_event)


def load_run_config(run_dir: RunDir) -> RunConfig:
    """The config saved in a run directory (resolved model labels dropped)."""
    data = yaml.safe_load(run_dir.config_path.read_text())
    data["teacher"].pop("resolved_models", None)
    data.pop("forked_from", None)
    return parse_config(data, source=str(run_dir.config_path))


def fork_run(
    source: str | Path,
    out: str | Path,
    *,
    iteration: int,
    models: dict[str, Any] | None = None,
    on_event: EventSink | None = None,
    student: Any = None,
) -> dict[str, Any]:
    """Replay a run from the checkpoint just before its teacher step of ``iteration``, into a new
    run directory, with some nodes' models changed (``models``: node -> spec).

    Everything before that checkpoint (evaluations, data, adapters, forest) is copied; from there
    the episode runs again under the new models. The source run is not touched.

    Example::

        fork_run("runs/d", "runs/d-gpt", iteration=1, models={"data_writing": "openai:gpt-4o-mini"})
    """
    src, dst = RunDir(source), RunDir(out)
    if not src.exists():
        raise TeachgraphError(f"no run to fork in {src.root}")
    if dst.root.exists():
        raise TeachgraphError(f"fork target {dst.root} already exists")
    config = load_run_config(src)
    if models:
        config = config.model_copy(
            update={"teacher": config.teacher.model_copy(update={"models": {**config.teacher.models, **models}})}
        )
        config = parse_config(config.model_dump(mode="json"), source="fork")  # re-validate node names and specs
    shutil.copytree(src.root, dst.root, ignore=shutil.ignore_patterns("report.html"))
    for i in dst.iterations_with_data():
        if i >= iteration:
            dst.data_path(i).unlink(missing_ok=True)
            dst.forest_path(i).unlink(missing_ok=True)
            shutil.rmtree(dst.adapter_dir(i), ignore_errors=True)
    events = [e for e in dst.read_events() if e.iteration < iteration]
    dst.trace_path.write_text("".join(e.model_dump_json() + "\n" for e in events))
    data = resolved_config(config, ModelRouter(config.teacher.models))
    data["forked_from"] = {"run": str(src.root), "iteration": iteration, "models": dict(models or {})}
    dst.write_config(data)

    ctx = build_context(config, dst, student=student)
    conn = sqlite3.connect(dst.checkpoints_path, check_same_thread=False)
    try:
        graph = episode().compile(checkpointer=SqliteSaver(conn))
        target = None
        for snapshot in graph.get_state_history(thread_config()):
            if snapshot.next == ("teacher",) and snapshot.values.get("iteration") == iteration:
                target = snapshot.config["configurable"]["checkpoint_id"]
                break
        if target is None:
            raise TeachgraphError(f"run {src.root} has no checkpoint before the teacher step of iteration {iteration}")
        _drive(graph, None, thread_config(target), ctx, on_event)
        write_report(dst.root)
        return dst.read_metrics()
    finally:
        conn.close()
