"""evaluate (tool node): the student answers a split; the task's verifier scores every answer."""

from __future__ import annotations

import time
from typing import Any

from langgraph.runtime import Runtime

from teachgraph.domain import EvaluatedInstance, EvaluationReport, Split, TaskInstance
from teachgraph.state import EpisodeContext, EpisodeState
from teachgraph.student.base import Student
from teachgraph.tasks.base import Task, score_all
from teachgraph.tracing.events import emit


def evaluate_split(student: Student, task: Task, instances: list[TaskInstance]) -> list[EvaluatedInstance]:
    """Predict in one batched call and score the predictions with the task's verifier (in one call
    where the task batches, as code tasks do their sandbox runs)."""
    predictions = student.predict([task.student_prompt(i.prompt) for i in instances])
    out = []
    for inst, pred, score in zip(instances, predictions, score_all(task, instances, predictions), strict=True):
        out.append(
            EvaluatedInstance(
                instance=inst,
                prediction=pred,
                correct=score.correct,
                score=score.score,
                extracted_answer=score.extracted_answer,
                feedback=score.feedback,
            )
        )
    return out


def evaluate(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Evaluate the current student on validation (and test), after loading the state's adapter.

    The adapter comes from state, not from the student object, so a resumed run evaluates the
    same model the interrupted one would have.
    """
    ctx = runtime.context
    iteration = state.get("iteration", 0)
    ctx.student.load_adapter(state.get("adapter"))
    splits: list[Split] = ["validation", "test"] if ctx.config.loop.evaluate_test else ["validation"]
    reports: dict[str, EvaluationReport] = {}
    evaluated_val: list[EvaluatedInstance] = []
    for split in splits:
        start = time.perf_counter()
        evaluated = evaluate_split(ctx.student, ctx.task, ctx.task.instances(split))
        reports[split] = EvaluationReport.from_evaluated(evaluated, split=split, iteration=iteration)
        if split == "validation":
            evaluated_val = evaluated
        emit(
            runtime.stream_writer,
            "evaluation",
            node="evaluate",
            iteration=iteration,
            run_id=ctx.run_id,
            split=split,
            accuracy=reports[split].accuracy,
            n=reports[split].n,
            per_skill={r.skill: r.accuracy for r in reports[split].per_skill},
            seconds=round(time.perf_counter() - start, 2),
        )
    return {"evaluated": evaluated_val, "reports": [r.model_dump(mode="json") for r in reports.values()]}
