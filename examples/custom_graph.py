"""Compose a custom teacher: the skill-tree graph plus a user node, a *difficulty probe*.

The probe asks the student to answer every accepted example and rejects (with reason
``too_easy``) the ones it already gets right, so training time goes to what it cannot do yet.
It is an ordinary node: a function of the state returning a partial update, reading the student
from the run context. ``insert_after`` splices it between ``validation`` and the end.

Run (offline, scripted teacher; add --local to use the embedded Qwen teacher):

    .venv/bin/python examples/custom_graph.py
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from langgraph.runtime import Runtime

from teachgraph.config import TeacherSettings
from teachgraph.domain import EvaluatedInstance, RejectionReason, Verdict
from teachgraph.graphs import TeacherContext, insert_after, skill_tree
from teachgraph.nodes.evaluate import evaluate_split
from teachgraph.nodes.llm import trace
from teachgraph.providers import ModelRouter
from teachgraph.state import TeacherState
from teachgraph.student import StudentConfig, build_student
from teachgraph.tasks import load_task
from teachgraph.tasks.answers import extract_answer
from teachgraph.testing import scripted_router


def difficulty_probe(state: TeacherState, runtime: Runtime[TeacherContext]) -> dict[str, Any]:
    """Reject accepted examples the student already answers correctly."""
    ctx = runtime.context
    examples = state.get("examples", [])
    accepted = [ex for ex in examples if ex.accepted]
    if not accepted or ctx.student is None:
        return {}
    predictions = ctx.student.predict([ctx.task.student_prompt(ex.input) for ex in accepted])
    too_easy = set()
    for ex, prediction in zip(accepted, predictions, strict=True):
        if _correct(ctx, ex, prediction):
            too_easy.add(ex.id)
    out = []
    for ex in examples:
        if ex.id in too_easy:
            ex = ex.model_copy(
                update={
                    "verdict": Verdict(
                        accepted=False, reason=RejectionReason.TOO_EASY, detail="the student already answers it"
                    )
                }
            )
        out.append(ex)
    trace(
        runtime,
        "custom",
        node="difficulty_probe",
        iteration=state.get("iteration", 0),
        probed=len(accepted),
        too_easy=len(too_easy),
    )
    return {"examples": out}


def _correct(ctx: TeacherContext, ex: Any, prediction: str) -> bool:
    """Compare the student's final answer with the example's verified answer."""
    answer = extract_answer(prediction)
    return answer is not None and ctx.task.answers_equal(answer, ex.answer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--local", action="store_true", help="use the embedded Qwen2.5-Coder-1.5B teacher for every node"
    )
    parser.add_argument(
        "--student", default="smollm2-135m-instruct", help="student model (smollm2-135m-instruct or tiny-llama)"
    )
    args = parser.parse_args()

    task = load_task({"name": "arithmetic", "params": {"validation_size": 24, "test_size": 24, "train_size": 40}})
    student = build_student(StudentConfig(model=args.student, max_new_tokens=12))
    models = ModelRouter({"default": "local:qwen2.5-coder-1.5b-instruct"}) if args.local else scripted_router()

    graph = skill_tree()
    insert_after(graph, "validation", "difficulty_probe", difficulty_probe)
    app = graph.compile()
    print(app.get_graph().draw_mermaid(with_styles=False))

    evaluated: list[EvaluatedInstance] = evaluate_split(student, task, task.instances("validation"))
    print(f"student validation accuracy: {sum(e.correct for e in evaluated) / len(evaluated):.3f}")
    ctx = TeacherContext(
        task=task, models=models, settings=TeacherSettings(examples_per_iteration=12, policy="bandit"), student=student
    )
    out = app.invoke({"iteration": 0, "evaluated": evaluated, "forest": {}, "known_questions": []}, context=ctx)
    verdicts = Counter(ex.verdict.reason.value for ex in out["examples"])
    print(f"examples written: {len(out['examples'])}; verdicts: {dict(verdicts)}")
    for ex in out["examples"][:5]:
        print(f"  [{ex.verdict.reason.value}] {ex.skill}: {ex.input[:70]!r} -> {ex.answer}")


if __name__ == "__main__":
    main()
