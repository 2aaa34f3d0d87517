"""train (tool node): LoRA fine-tune of the student on validated data; one adapter per iteration."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from teachgraph.domain import TrainingExample
from teachgraph.state import EpisodeContext, EpisodeState
from teachgraph.student.base import TrainingPair
from teachgraph.tasks.base import Task
from teachgraph.tracing.events import emit


def training_pairs(examples: list[TrainingExample], task: Task) -> list[TrainingPair]:
    """Accepted examples as (student prompt, target) pairs, prompts rendered exactly as in evaluation."""
    return [TrainingPair(prompt=task.student_prompt(ex.input), target=ex.target) for ex in examples if ex.accepted]


def train(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Train in a child process (the student's job) and point the state at the new adapter.

    ``continue`` mode trains the previous adapter further on this iteration's data;
    ``retrain`` trains a fresh adapter from the base on everything accepted so far
    (DataEnvGym's semantics). With no accepted data the adapter stays as it was.
    """
    ctx = runtime.context
    iteration = state.get("iteration", 0)
    mode = ctx.config.student.mode
    iterations = [iteration] if mode == "continue" else ctx.run_dir.iterations_with_data()
    examples = [ex for i in iterations if i <= iteration for ex in ctx.run_dir.read_examples(i)]
    pairs = training_pairs(examples, ctx.task)
    if not pairs:
        emit(
            runtime.stream_writer,
            "training",
            node="train",
            iteration=iteration,
            run_id=ctx.run_id,
            skipped=True,
            reason="no accepted examples",
        )
        return {"adapter": state.get("adapter"), "train_stats": {"steps": 0, "examples": 0}}
    init = state.get("adapter") if mode == "continue" else None
    result = ctx.student.train(pairs, ctx.run_dir.adapter_dir(iteration), init_adapter=init)
    stats = {
        "steps": result.steps,
        "examples": result.examples,
        "train_tokens": result.train_tokens,
        "seconds": round(result.seconds, 2),
        "final_loss": result.final_loss,
        "mode": mode,
    }
    emit(runtime.stream_writer, "training", node="train", iteration=iteration, run_id=ctx.run_id, **stats)
    return {"adapter": str(result.adapter_dir), "train_stats": stats}
