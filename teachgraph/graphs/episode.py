"""The episode graph: evaluate -> teacher -> train -> evaluate -> ... until a stop condition.

``evaluate`` and ``train`` are tool nodes over the student; ``teacher`` runs one step of a
compiled teacher graph (any environment, or your own) as a subgraph, so its nodes are
checkpointed and streamed with the episode. Every artefact is written to the run directory by
the node that makes it, atomically, so a resumed run rewrites rather than duplicates.
"""

from __future__ import annotations

import operator
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from typing_extensions import TypedDict

from teachgraph.config import RunConfig
from teachgraph.domain import EvaluatedInstance
from teachgraph.graphs.state import TeacherContext
from teachgraph.nodes.decontamination import question_key
from teachgraph.nodes.evaluate import evaluate
from teachgraph.nodes.train import train
from teachgraph.student.base import Student
from teachgraph.tasks.base import Task
from teachgraph.tracing.events import emit
from teachgraph.tracing.rundir import RunDir


class EpisodeState(TypedDict, total=False):
    """Episode state: small, serialisable; data and adapters are referenced by path."""

    iteration: int
    forest: dict[str, Any]
    evaluated: list[EvaluatedInstance]
    reports: list[dict[str, Any]]
    adapter: str | None
    known_questions: list[str]
    accepted_total: int
    train_stats: dict[str, Any]
    evaluations: Annotated[list[dict[str, Any]], operator.add]
    rounds: Annotated[list[dict[str, Any]], operator.add]
    stop_reason: str | None


@dataclass
class EpisodeContext:
    """Run-scoped dependencies of the episode (``runtime.context``); never checkpointed."""

    config: RunConfig
    task: Task
    student: Student
    teacher_graph: Any  # a compiled teacher graph
    teacher_context: TeacherContext
    run_dir: RunDir
    run_id: str


def teacher(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """One teacher step as a subgraph; writes data/iter-N.jsonl and forest/iter-N.json."""
    ctx = runtime.context
    iteration = state.get("iteration", 0)
    out = ctx.teacher_graph.invoke(
        {
            "iteration": iteration,
            "evaluated": state.get("evaluated", []),
            "forest": state.get("forest") or {},
            "known_questions": state.get("known_questions", []),
            "adapter": state.get("adapter"),
        },
        context=ctx.teacher_context,
    )
    examples = out.get("examples", [])
    ctx.run_dir.write_examples(iteration, examples)
    ctx.run_dir.write_forest(iteration, out.get("forest") or {})
    accepted = [ex for ex in examples if ex.accepted]
    reasons = Counter(ex.verdict.reason.value for ex in examples if ex.verdict and not ex.verdict.accepted)
    # Token totals come from state (every call's usage is checkpointed with its node), so a
    # resumed step counts the calls made before the crash too.
    usage = out.get("usage") or []
    tokens_in = sum(u.input_tokens for u in usage)
    tokens_out = sum(u.output_tokens for u in usage)
    record = {
        "iteration": iteration,
        "written": len(examples),
        "accepted": len(accepted),
        "rejected": dict(sorted(reasons.items())),
        "accepted_per_skill": dict(sorted(Counter(ex.skill for ex in accepted).items())),
        "teacher_input_tokens": tokens_in,
        "teacher_output_tokens": tokens_out,
        "failures": [f.model_dump() for f in out.get("failures", [])],
        "actions": [a.model_dump() for a in out.get("actions", []) or []],
    }
    return {
        "forest": out.get("forest") or {},
        "known_questions": [*state.get("known_questions", []), *(question_key(ex.input) for ex in accepted)],
        "accepted_total": state.get("accepted_total", 0) + len(accepted),
        "rounds": [record],
    }


def record(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Append this evaluation to the history, decide whether to stop, and write metrics.json."""
    ctx = runtime.context
    loop = ctx.config.loop
    iteration = state.get("iteration", 0)
    entry: dict[str, Any] = {"iteration": iteration, **{r["split"]: _summary(r) for r in state.get("reports", [])}}
    if iteration > 0 and state.get("train_stats"):
        entry["train"] = state["train_stats"]  # the training that produced this evaluation's student
    evaluations = [*state.get("evaluations", []), entry]
    stop = None
    if iteration >= loop.iterations:
        stop = f"iterations: {loop.iterations} done"
    elif loop.data_budget is not None and state.get("accepted_total", 0) >= loop.data_budget:
        stop = f"data budget: {state.get('accepted_total', 0)} >= {loop.data_budget} accepted examples"
    elif loop.plateau_patience is not None and len(evaluations) > loop.plateau_patience:
        accs = [e["validation"]["accuracy"] for e in evaluations]
        best_before = max(accs[: -loop.plateau_patience])
        if max(accs[-loop.plateau_patience :]) <= best_before + loop.plateau_min_delta:
            stop = f"plateau: no validation gain in {loop.plateau_patience} iterations"
    metrics = build_metrics(ctx, evaluations, state.get("rounds", []), stop)
    ctx.run_dir.write_metrics(metrics)
    emit(
        runtime.stream_writer,
        "iteration",
        node="record",
        iteration=iteration,
        run_id=ctx.run_id,
        validation=entry.get("validation", {}).get("accuracy"),
        test=entry.get("test", {}).get("accuracy"),
        stop=stop,
    )
    return {"evaluations": [entry], "stop_reason": stop}


def advance(state: EpisodeState) -> dict[str, Any]:
    """Move to the next iteration (after training)."""
    return {"iteration": state.get("iteration", 0) + 1}


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    n, correct = report["n"], report["correct"]
    return {
        "accuracy": correct / n if n else 0.0,
        "n": n,
        "per_skill": {s["skill"]: (s["correct"] / s["n"] if s["n"] else 0.0) for s in report["per_skill"]},
    }


def build_metrics(
    ctx: EpisodeContext, evaluations: list[dict[str, Any]], rounds: list[dict[str, Any]], stop: str | None
) -> dict[str, Any]:
    """metrics.json: accuracy per iteration (overall and per skill, validation and test) and per-round data/tokens."""
    tests = [e["test"]["accuracy"] for e in evaluations if "test" in e]
    return {
        "run_id": ctx.run_id,
        "task": ctx.config.task.name,
        "environment": ctx.config.teacher.environment,
        "with_state": ctx.config.teacher.with_state,
        "evaluations": evaluations,
        "rounds": rounds,
        "test_accuracy_before": tests[0] if tests else None,
        "test_accuracy_after": tests[-1] if tests else None,
        "stop_reason": stop,
    }


def route_after_record(state: EpisodeState) -> str:
    return END if state.get("stop_reason") else "teacher"


def episode() -> StateGraph:
    """The uncompiled episode graph (compile with a checkpointer to make it resumable)."""
    graph = StateGraph(EpisodeState, context_schema=EpisodeContext)
    graph.add_node("evaluate", evaluate)
    graph.add_node("record", record)
    graph.add_node("teacher", teacher)
    graph.add_node("train", train)
    graph.add_node("advance", advance)
    graph.add_edge(START, "evaluate")
    graph.add_edge("evaluate", "record")
    graph.add_conditional_edges("record", route_after_record, ["teacher", END])
    graph.add_edge("teacher", "train")
    graph.add_edge("train", "advance")
    graph.add_edge("advance", "evaluate")
    return graph
