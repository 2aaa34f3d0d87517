"""Run an episode from a config into a run directory, or resume one; stream events to trace.jsonl.

This is what ``teachgraph run`` calls. It wires the config into the graphs' runtime contexts,
compiles the episode with a SQLite checkpointer in the run directory (thread id = run id), and
streams with ``stream_mode=["custom", "updates"]`` so every node's decision events land in
``trace.jsonl`` while the graph runs.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from langgraph.graph import StateGraph
from langgraph.types import Command

from teachgraph.config import RunConfig, check_paths, load_config, parse_config, resolve_paths
from teachgraph.costs import price_for, price_table
from teachgraph.errors import ConfigError, TeachgraphError
from teachgraph.failpoints import failpoint, watch_sql
from teachgraph.graphs.checkpoint import sqlite_checkpointer
from teachgraph.graphs.episode import episode, stop_reason
from teachgraph.graphs.teacher import build_teacher
from teachgraph.providers import ModelRouter
from teachgraph.providers.faults import ProviderStop
from teachgraph.redaction import describe_exception
from teachgraph.sandbox import Sandbox
from teachgraph.state import EpisodeContext, TeacherContext
from teachgraph.student import build_student
from teachgraph.tasks import RunsCode, family_executes_code, load_task
from teachgraph.tracing.report import write_report
from teachgraph.tracing.rundir import RunDir

EventSink = Callable[[dict[str, Any]], None]
# Answers a review interrupt (its payload: see nodes/review.review_request) with a decision
# mapping, or None to leave the run paused at the review (resume it later).
Reviewer = Callable[[dict[str, Any]], dict[str, Any] | None]
# Each run directory has its own checkpoint database, so one fixed thread id suffices; it also
# means a copied run directory (a fork) keeps working under its new name.
THREAD_ID = "episode"


# errno values that mean "the run directory cannot take more writes".
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM})
_SQLITE_DISK_MESSAGES = ("disk is full", "readonly database", "unable to open database", "disk i/o error")


class RunDirError(TeachgraphError):
    """The run directory cannot be written (full, read-only, no permission)."""


@contextlib.contextmanager
def stops_cleanly(run_dir: RunDir) -> Iterator[None]:
    """Turn a provider stop or a full/unwritable run directory into one line with the way out.

    Files are written atomically and checkpoints transactionally, so what was written before the
    failure stays intact, and ``--resume`` carries on once the cause is fixed.
    """
    resume = f"teachgraph run --resume {run_dir.root}"
    try:
        yield
    except ProviderStop as err:
        raise ProviderStop(
            f"{err} — fix the cause, then resume with: {resume}", node=err.node, model=err.model
        ) from None
    except OSError as err:
        if err.errno not in _DISK_ERRNOS:
            raise
        where = f" ({err.filename})" if err.filename else ""
        raise RunDirError(
            f"cannot write to the run directory {run_dir.root}{where}: {err.strerror or describe_exception(err)}; "
            f"everything written before is intact — free space or fix permissions, then resume with: {resume}"
        ) from None
    except sqlite3.OperationalError as err:
        if not any(m in str(err).lower() for m in _SQLITE_DISK_MESSAGES):
            raise
        raise RunDirError(
            f"cannot write checkpoints in {run_dir.checkpoints_path}: {err}; earlier checkpoints are intact — "
            f"free space or fix permissions, then resume with: {resume}"
        ) from None


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
    sandbox = Sandbox(mode=config.sandbox)
    if isinstance(task, RunsCode):
        task.use_sandbox(sandbox)  # the student's code runs under the config's sandbox mode too
    router = models or ModelRouter(config.teacher.models)
    check_prices(config, router)
    student = student or build_student(config.student)
    teacher_settings = config.teacher.model_copy(update={"seed": config.seed})
    graph = teacher_graph or build_teacher(
        config.teacher.environment,
        with_state=config.teacher.with_state,
        review=config.teacher.review,
        engine=config.teacher.engine,
    )
    teacher_graph = graph.compile()
    return EpisodeContext(
        config=config,
        task=task,
        student=student,
        teacher_graph=teacher_graph,
        teacher_context=TeacherContext(
            task=task,
            models=router,
            settings=teacher_settings,
            run_id=run_dir.run_id,
            student=student,
            sandbox=sandbox,
        ),
        run_dir=run_dir,
        run_id=run_dir.run_id,
    )


def check_prices(config: RunConfig, router: ModelRouter) -> None:
    """A cost budget needs a price for every teacher model, or it could never stop the run."""
    if config.loop.cost_budget is None:
        return
    prices = price_table(config.prices)
    unpriced = sorted({label for label in router.specs().values() if price_for(label, prices) is None})
    if unpriced:
        raise ConfigError(
            f"loop.cost_budget needs a price for every teacher model; none for {', '.join(unpriced)}: "
            f"add e.g. prices: {{{unpriced[0]!r}: {{input: 0.5, output: 1.5}}}} (USD per 1M tokens)"
        )


def resolved_config(config: RunConfig, router: ModelRouter, sandbox_in_use: str | None = None) -> dict[str, Any]:

    """The config as run: presets applied, models per node resolved to labels (no secrets)."""
    data = config.model_dump(mode="json", exclude={"presets"})
    data["teacher"]["resolved_models"] = router.specs()
    if sandbox_in_use:
        data["sandbox_in_use"] = sandbox_in_use
    return data


def check_sandbox(config: RunConfig, sandbox: Sandbox) -> str | None:
    """What will run this config's programs; raises ``SandboxUnavailable`` (one line) before any work.

    ``None`` when the run executes no model-written programs.
    """
    runs_code = config.teacher.validation.require_program or config.teacher.engine == "programs"
    if not runs_code and not family_executes_code(config.task.name):
        return None
    return sandbox.check()


def run_episode(
    config: RunConfig,
    out: str | Path,
    *,
    resume: bool = False,
    on_event: EventSink | None = None,
    models: ModelRouter | None = None,
    student: Any = None,
    teacher_graph: StateGraph | None = None,
    reviewer: Reviewer | None = None,
) -> dict[str, Any]:
    """Run (or resume) an episode; returns the final metrics.

    Args:
        config: The run config (for ``resume``, the one saved in the run directory).
        out: The run directory.
        resume: Continue from the last checkpoint instead of starting.
        on_event: Called with every trace event (the CLI prints progress from them).
        models, student: Ready objects overriding the config's (tests, notebooks).
        teacher_graph: An uncompiled teacher graph replacing the config's environment.
        reviewer: Answers each review pause (``teacher.review``); without one, or when it
            returns None, the run stays paused and the metrics carry ``paused_for_review``.
    """
    check_paths(config)  # a missing file fails here, before anything is created
    run_dir = RunDir(out)
    if not resume and run_dir.exists():
        if run_dir.has_checkpoint():
            if run_dir.read_metrics().get("stop_reason"):
                raise TeachgraphError(
                    f"run directory {run_dir.root} already holds a finished run; pick another --out "
                    "(or delete it to start over)"
                )
            raise TeachgraphError(
                f"run directory {run_dir.root} already holds a run; continue it with "
                f"`teachgraph run --resume {run_dir.root}`, or pick another --out (or delete it to start over)"
            )
        run_dir.discard_unstarted()  # left by a run that failed before its first checkpoint
    created = not run_dir.root.exists()
    try:
        return _run(
            config,
            run_dir,
            resume=resume,
            on_event=on_event,
            models=models,
            student=student,
            teacher_graph=teacher_graph,
            reviewer=reviewer,
        )
    except BaseException as err:
        if not run_dir.has_checkpoint():
            if not resume:
                run_dir.discard_unstarted(remove_root=created)  # nothing ran: leave nothing behind
        elif isinstance(err, TeachgraphError) and not isinstance(err, RunDirError):
            _report_anyway(run_dir)  # a run stopped by an error: its report says what failed
        raise


def _report_anyway(run_dir: RunDir) -> None:
    try:
        write_report(run_dir.root)
    except Exception as exc:  # the error that stopped the run is what the user must see, not this one
        logging.getLogger(__name__).debug("could not write the report of %s: %s", run_dir.root, exc, exc_info=True)


def _run(
    config: RunConfig,
    run_dir: RunDir,
    *,
    resume: bool,
    on_event: EventSink | None,
    models: ModelRouter | None,
    student: Any,
    teacher_graph: StateGraph | None,
    reviewer: Reviewer | None,
) -> dict[str, Any]:
    sandbox_in_use = check_sandbox(config, Sandbox(mode=config.sandbox))  # before anything is loaded
    ctx = build_context(config, run_dir, models=models, student=student, teacher_graph=teacher_graph)
    with stops_cleanly(run_dir):
        if not resume:
            run_dir.write_config(resolved_config(config, ctx.teacher_context.models, sandbox_in_use))
        conn = sqlite3.connect(run_dir.checkpoints_path, check_same_thread=False)
        try:
            graph = episode().compile(checkpointer=_checkpointer(conn, ctx))
            thread = thread_config()
            inputs: Any
            paused: dict[str, Any] | None = None
            if resume:
                run_dir.remove_partial_files()  # half-written temp files of a killed run
                snapshot = graph.get_state(thread)
                if not snapshot.values:
                    raise TeachgraphError(f"nothing to resume in {run_dir.root}: no checkpoint found")
                # Finished = no task left. (``next`` alone is empty too when the last task's
                # writes were saved but the run stopped before the step's checkpoint.)
                if not snapshot.tasks and not _reopen(graph, thread, config, snapshot.values):
                    # finished, and the (possibly raised) limits still say stop; perhaps killed
                    # while writing its report
                    if not run_dir.report_path.is_file():
                        write_report(run_dir.root)
                    return run_dir.read_metrics()
                inputs = None  # None = continue from the last checkpoint
                paused = pending_review(snapshot)
                if paused is not None:
                    inputs = _answer(paused, reviewer)  # a run stopped at a review continues there
            else:
                inputs = {"iteration": 0, "forest": {}, "known_questions": [], "accepted_total": 0, "adapter": None}
            start = time.perf_counter()
            while inputs is not _STAY_PAUSED:
                _drive(graph, inputs, thread, ctx, on_event)
                paused = pending_review(graph.get_state(thread))
                inputs = _answer(paused, reviewer) if paused is not None else _STAY_PAUSED
            metrics = run_dir.read_metrics()
            metrics["wall_seconds_this_session"] = round(time.perf_counter() - start, 2)
            if paused is not None:
                metrics["paused_for_review"] = {"iteration": paused.get("iteration"), "examples": len(paused["examples"])}
                return metrics
            if metrics.get("stop_reason"):
                failpoint("report")
                write_report(run_dir.root)  # the finished run's report.html
            return metrics
        finally:
            conn.close()


def _checkpointer(conn: sqlite3.Connection, ctx: EpisodeContext) -> Any:
    """The run's SQLite checkpointer; a custom teacher graph's state types are registered too, and
    the ``sql:`` failpoints are armed (see :mod:`teachgraph.failpoints`)."""
    watch_sql(conn)
    builder = getattr(ctx.teacher_graph, "builder", None)
    return sqlite_checkpointer(conn, *([builder.state_schema] if builder is not None else []))


_STAY_PAUSED: Any = object()


def pending_review(snapshot: Any) -> dict[str, Any] | None:
    """The payload of the review interrupt a run is paused at (with its ``interrupt_id``), or None."""
    for item in getattr(snapshot, "interrupts", ()) or ():
        value = getattr(item, "value", None)
        if isinstance(value, dict) and value.get("kind") == "review":
            return {**value, "interrupt_id": item.id}
    return None


def _answer(paused: dict[str, Any], reviewer: Reviewer | None) -> Any:
    """``Command(resume=...)`` with the reviewer's decision, or the marker to stay paused."""
    decision = reviewer(paused) if reviewer is not None else None
    # Addressed by interrupt id: a bare mapping would be read as an {id: value} resume map, and
    # the empty decision ("approve") as a map naming no interrupt at all.
    return _STAY_PAUSED if decision is None else Command(resume={paused["interrupt_id"]: decision})


def _reopen(graph: Any, thread: dict[str, Any], config: RunConfig, values: dict[str, Any]) -> bool:
    """Continue a stopped episode whose limits were raised on resume (iterations, budgets).

    The stop is decided again under the new loop settings; if it no longer holds, the stop is
    cleared *as if ``record`` had decided to go on*, so the next step is the teacher's.
    """
    stop = stop_reason(
        config.loop,
        values.get("iteration", 0),
        values.get("evaluations", []),
        values.get("rounds", []),
        values.get("accepted_total", 0),
    )
    if stop is not None:
        return False
    graph.update_state(thread, {"stop_reason": None}, as_node="record")
    return True


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
            failpoint(f"event:{event['node']}:{event['kind']}")
        elif mode == "updates" and isinstance(chunk, dict):
            for node in chunk:
                failpoint(f"update:{node}")


def start_run(
    config_path: str | Path,
    out: str | Path,
    *,
    preset: str | None = None,
    on_event: EventSink | None = None,
    loop: dict[str, Any] | None = None,
    reviewer: Reviewer | None = None,
) -> dict[str, Any]:
    """``teachgraph run CONFIG --out DIR`` (``loop``: settings given on the command line)."""
    config = with_loop(load_config(config_path, preset=preset), loop)
    return run_episode(config, out, on_event=on_event, reviewer=reviewer)


def with_loop(config: RunConfig, loop: dict[str, Any] | None) -> RunConfig:
    """``config`` with some ``loop`` settings replaced (iterations, budgets), re-validated."""
    if not loop:
        return config
    data = config.model_dump(mode="json")
    data["loop"] = {**data["loop"], **loop}
    return parse_config(data, source="--" + "/--".join(k.replace("_", "-") for k in loop))


def resume_run(
    out: str | Path,
    *,
    on_event: EventSink | None = None,
    loop: dict[str, Any] | None = None,
    reviewer: Reviewer | None = None,
) -> dict[str, Any]:
    """``teachgraph run --resume DIR``: reload the saved config and continue from the last checkpoint.

    ``loop`` raises limits for the rest of the run (``{"cost_budget": 2.0, "iterations": 6}``): a
    run stopped by a budget or its iterations goes on. The change is saved in config.yaml, with
    the iteration it took effect at under ``resumed_with``.
    """
    run_dir = RunDir(out)
    if not run_dir.exists():
        raise TeachgraphError(f"no run to resume in {run_dir.root} (config.yaml missing)")
    config = load_run_config(run_dir)
    if loop:
        before = config.loop.model_dump()
        config = with_loop(config, loop)
        saved = yaml.safe_load(run_dir.config_path.read_text())
        saved["loop"] = config.loop.model_dump(mode="json")
        evaluations = run_dir.read_metrics().get("evaluations") or [{}]
        saved.setdefault("resumed_with", []).append(
            {
                "at_iteration": evaluations[-1].get("iteration", 0),
                "loop": {k: {"from": before[k], "to": v} for k, v in config.loop.model_dump().items() if before[k] != v},
            }
        )
        run_dir.write_config(saved)
    return run_episode(config, out, resume=True, on_event=on_event, reviewer=reviewer)


def load_run_config(run_dir: RunDir) -> RunConfig:
    """The config saved in a run directory (resolved model labels and run history dropped)."""
    data = yaml.safe_load(run_dir.config_path.read_text())
    data["teacher"].pop("resolved_models", None)
    data.pop("forked_from", None)
    data.pop("sandbox_in_use", None)
    data.pop("resumed_with", None)
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
        # Programmatic specs: a relative scripted: path is relative to the current directory.
        models = resolve_paths({"teacher": {"models": models}}, Path.cwd())["teacher"]["models"]
        config = config.model_copy(
            update={"teacher": config.teacher.model_copy(update={"models": {**config.teacher.models, **models}})}
        )
        config = parse_config(config.model_dump(mode="json"), source="fork")  # re-validate node names and specs
    check_paths(config)
    sandbox_in_use = check_sandbox(config, Sandbox(mode=config.sandbox))
    shutil.copytree(src.root, dst.root, ignore=shutil.ignore_patterns("report.html"))
    for i in dst.iterations_with_data():
        if i >= iteration:
            dst.data_path(i).unlink(missing_ok=True)
            dst.forest_path(i).unlink(missing_ok=True)
            shutil.rmtree(dst.adapter_dir(i), ignore_errors=True)
    events = [e for e in dst.read_events() if e.iteration < iteration]
    dst.trace_path.write_text("".join(e.model_dump_json() + "\n" for e in events))
    dst.write_llm_calls([c for c in dst.read_llm_calls() if c.iteration < iteration])
    data = resolved_config(config, ModelRouter(config.teacher.models), sandbox_in_use)
    data["forked_from"] = {"run": str(src.root), "iteration": iteration, "models": dict(models or {})}
    dst.write_config(data)

    ctx = build_context(config, dst, student=student)
    conn = sqlite3.connect(dst.checkpoints_path, check_same_thread=False)
    try:
        graph = episode().compile(checkpointer=_checkpointer(conn, ctx))
        target = None
        for snapshot in graph.get_state_history(thread_config()):
            if snapshot.next == ("teacher",) and snapshot.values.get("iteration") == iteration:
                target = snapshot.config["configurable"]["checkpoint_id"]
                break
        if target is None:
            raise TeachgraphError(f"run {src.root} has no checkpoint before the teacher step of iteration {iteration}")
        with stops_cleanly(dst):
            _drive(graph, None, thread_config(target), ctx, on_event)
            write_report(dst.root)
        return dst.read_metrics()
    finally:
        conn.close()
