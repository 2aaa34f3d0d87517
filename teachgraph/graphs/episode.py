"""The episode graph: evaluate -> teacher -> train -> evaluate -> ... until a stop condition.

``evaluate`` and ``train`` are tool nodes over the student; ``teacher`` runs one step of a
compiled teacher graph (any environment, or your own) as a subgraph, so its nodes are
checkpointed and streamed with the episode. Every artefact is written to the run directory by
the node that makes it, atomically, so a resumed run rewrites rather than duplicates.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from teachgraph.config import LoopSettings
from teachgraph.costs import format_cost, ledger, merge_ledgers, price_table
from teachgraph.nodes.evaluate import evaluate
from teachgraph.nodes.train import train
from teachgraph.state import EpisodeContext, EpisodeState
from teachgraph.text import question_key
from teachgraph.tracing.events import emit


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
    spent = ledger(usage, price_table(ctx.config.prices))
    record = {
        "iteration": iteration,
        "written": len(examples),
        "accepted": len(accepted),
        "rejected": dict(sorted(reasons.items())),
        "accepted_per_skill": dict(sorted(Counter(ex.skill for ex in accepted).items())),
        "teacher_input_tokens": tokens_in,
        "teacher_output_tokens": tokens_out,
        "teacher_cost_usd": spent["cost_usd"],
        "ledger": spent,
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
    stop = stop_reason(loop, iteration, evaluations, state.get("rounds", []), state.get("accepted_total", 0))
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


def stop_reason(
    loop: LoopSettings,
    iteration: int,
    evaluations: list[dict[str, Any]],
    rounds: list[dict[str, Any]],
    accepted_total: int,
) -> str | None:
    """Why the episode stops after evaluating ``iteration`` (None: go on). Checked at every
    iteration boundary, so a budget stops the first boundary past it, never mid-step."""
    tokens = sum(r.get("teacher_input_tokens", 0) + r.get("teacher_output_tokens", 0) for r in rounds)
    cost = sum(r.get("teacher_cost_usd", 0.0) for r in rounds)
    if iteration >= loop.iterations:
        return f"iterations: {loop.iterations} done"
    if loop.data_budget is not None and accepted_total >= loop.data_budget:
        return f"data budget: {accepted_total} >= {loop.data_budget} accepted examples"
    if loop.token_budget is not None and tokens >= loop.token_budget:
        return f"token budget: {tokens:,} >= {loop.token_budget:,} teacher tokens (raise loop.token_budget to go on: teachgraph run --resume DIR --token-budget N)"
    if loop.cost_budget is not None and cost >= loop.cost_budget:
        return f"cost budget: {format_cost(cost)} >= {format_cost(loop.cost_budget)} spent by the teacher (raise loop.cost_budget to go on: teachgraph run --resume DIR --cost-budget USD)"
    if loop.plateau_patience is not None and len(evaluations) > loop.plateau_patience:
        accs = [e["validation"]["accuracy"] for e in evaluations]
        best_before = max(accs[: -loop.plateau_patience])
        if max(accs[-loop.plateau_patience :]) <= best_before + loop.plateau_min_delta:
            return f"plateau: no validation gain in {loop.plateau_patience} iterations"
    return None


def advance(state: EpisodeState) -> dict[str, Any]:
    """Move to the next iteration (after training)."""
    return {"iteration": state.get("iteration", 0) + 1}


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    n, correct = report["n"], report["correct"]
    return {
        "accuracy": correct / n if n else 0.0,
        "n": n,
        "per_skill": {s["skill"]: (s["correct"] / s["n"] if s["n"] else 0.0) for s in report["per_skill"]},
        # Per-item results (split order), so runs can be compared item by item (teachgraph.stats).
        "outcomes": report.get("outcomes", ""),
    }


def build_metrics(
    ctx: EpisodeContext, evaluations: list[dict[str, Any]], rounds: list[dict[str, Any]], stop: str | None
) -> dict[str, Any]:
    """metrics.json: accuracy per iteration (overall and per skill, validation and test), per-round
    data/tokens, and the cost ledger (``cost``: run totals, by node, by model, by iteration)."""
    tests = [e["test"]["accuracy"] for e in evaluations if "test" in e]
    spent = merge_ledgers(r["ledger"] for r in rounds if "ledger" in r)
    spent["by_iteration"] = {
        str(r["iteration"]): {k: r["ledger"][k] for k in ("calls", "input_tokens", "output_tokens", "cost_usd")}
        for r in rounds
        if "ledger" in r
    }
    return {
        "run_id": ctx.run_id,
        "task": ctx.config.task.name,
        "environment": ctx.config.teacher.environment,
        "with_state": ctx.config.teacher.with_state,
        "evaluations": evaluations,
        "rounds": rounds,
        "test_accuracy_before": tests[0] if tests else None,
        "test_accuracy_after": tests[-1] if tests else None,
        "cost": spent,
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
