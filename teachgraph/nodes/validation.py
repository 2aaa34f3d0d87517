"""validation: check every written example before any training sees it.

Checks, in order (the first failure is the verdict): structure; the solution program, run in a
sandbox, must print a result equal to the stated answer (examples drawn from a validated
generator program have no program of their own: the generator was checked instead); no duplicate of an earlier example;
no copy of a validation or test instance (n-gram overlap). Rejected examples stay in the output
with their reason; the forest records accepted and rejected counts per (sub)skill.

For a code task the answer is a reference solution with unit tests instead of a program: the
solution must pass them, and they must fail a trivially wrong solution and most mutants of the
reference (``CodeTask.check_examples``); the task's ``contamination_items`` (HumanEval's prompts)
join the decontamination index.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from teachgraph.domain import RejectionReason, TrainingExample, Verdict
from teachgraph.nodes.decontamination import NgramIndex
from teachgraph.nodes.llm import trace
from teachgraph.nodes.sandbox import computes, run_programs
from teachgraph.skills import SkillForest
from teachgraph.state import TeacherContext, TeacherState
from teachgraph.tasks.base import ContaminationIndex, IndexesEvalItems, teacher_text
from teachgraph.tasks.code import CodeTask, WrittenCode
from teachgraph.text import question_key

NODE = "validation"
RECENT_QUESTIONS = 6  # accepted questions kept per skill for the writer's "already written" list


def eval_index(ctx: TeacherContext) -> ContaminationIndex:
    """n-gram index over the task's validation and test questions (built once per run); a task
    that says itself what copies its eval items (``IndexesEvalItems``: the VQA scenes) gives its own."""
    v = ctx.settings.validation
    key = ("_eval_index", v.ngram, v.contamination_threshold)
    if key not in ctx.extras and isinstance(ctx.task, IndexesEvalItems):
        ctx.extras[key] = ctx.task.contamination_index()
    if key not in ctx.extras:
        items = [(i.id, i.prompt) for split in ("validation", "test") for i in ctx.task.instances(split)]
        if isinstance(ctx.task, CodeTask):
            items += ctx.task.contamination_items()
        ctx.extras[key] = NgramIndex(items, n=v.ngram, threshold=v.contamination_threshold)
    return ctx.extras[key]


def _structure(ex: TrainingExample, ctx: TeacherContext) -> str | None:
    if not ex.input.strip():
        return "empty question"
    if not ex.answer.strip():
        return "empty answer"
    if len(ex.input) > 4000:
        return f"question too long ({len(ex.input)} chars)"
    if isinstance(ctx.task, CodeTask):
        return None if ex.tests else "no unit tests"  # the code checks judge the solution and tests
    if not ctx.task.answers_equal(ex.answer, ex.answer):
        return f"answer {ex.answer[:40]!r} is not a valid answer for this task"
    if ctx.settings.validation.require_program and not ex.provenance.generator:
        if not (ex.solution_program or "").strip():
            return "no solution program"
        if not computes(ex.solution_program or ""):
            return "the solution program prints a constant instead of computing the answer"
    return None


def judge(examples: list[TrainingExample], ctx: TeacherContext, known_questions: set[str]) -> list[TrainingExample]:
    """Return the examples with verdicts (pure apart from running programs; used by the node and tests)."""
    v = ctx.settings.validation
    verdicts: dict[int, Verdict] = {}
    pending = [i for i, ex in enumerate(examples) if ex.verdict is None]
    for i in pending:
        problem = _structure(examples[i], ctx)
        if problem:
            verdicts[i] = Verdict(accepted=False, reason=RejectionReason.MALFORMED, detail=problem)
    if isinstance(ctx.task, CodeTask):
        _judge_code(examples, [i for i in pending if i not in verdicts], ctx, verdicts)
    elif v.require_program:
        # Drawn examples were computed by a generator that passed its own validation, independent
        # check included; there is no per-example program to run.
        to_run = [i for i in pending if i not in verdicts and not examples[i].provenance.generator]
        results = run_programs(
            [examples[i].solution_program or "" for i in to_run],
            timeout_s=v.program_timeout_s,
            memory_mb=v.program_memory_mb,
            sandbox=ctx.sandbox,
        )
        for i, result in zip(to_run, results, strict=True):
            if not result.ok:
                verdicts[i] = Verdict(accepted=False, reason=RejectionReason.PROGRAM_ERROR, detail=result.error)
            elif not result.result:
                verdicts[i] = Verdict(
                    accepted=False, reason=RejectionReason.PROGRAM_ERROR, detail="program printed nothing"
                )
            elif not ctx.task.answers_equal(result.result, examples[i].answer):
                verdicts[i] = Verdict(
                    accepted=False,
                    reason=RejectionReason.ANSWER_MISMATCH,
                    detail=f"program printed {result.result[:60]!r}, stated answer {examples[i].answer[:60]!r}",
                )
    index = eval_index(ctx)
    seen = set(known_questions)
    for i in pending:
        if i in verdicts:
            continue
        key = question_key(examples[i].input)
        if key in seen:
            verdicts[i] = Verdict(
                accepted=False, reason=RejectionReason.DUPLICATE, detail="same question as an earlier example"
            )
            continue
        hit = index.match(examples[i].input)
        if hit is not None:
            verdicts[i] = Verdict(
                accepted=False,
                reason=RejectionReason.CONTAMINATED,
                detail=f"overlaps eval item {hit[0]} ({hit[1]:.0%} of its n-grams)",
            )
            continue
        seen.add(key)
        verdicts[i] = Verdict(accepted=True, reason=RejectionReason.ACCEPTED)
    return [ex.model_copy(update={"verdict": verdicts[i]}) if i in verdicts else ex for i, ex in enumerate(examples)]


def _judge_code(
    examples: list[TrainingExample], to_check: list[int], ctx: TeacherContext, verdicts: dict[int, Verdict]
) -> None:
    """Run the code checks on ``to_check`` (solution passes its tests; tests fail wrong solutions)."""
    assert isinstance(ctx.task, CodeTask)
    v = ctx.settings.validation
    checked = ctx.task.check_examples(
        [WrittenCode(examples[i].answer, examples[i].tests) for i in to_check],
        ctx.sandbox,
        mutant_count=v.mutants,
        min_killed=v.min_mutants_killed,
    )
    for i, verdict in zip(to_check, checked, strict=True):
        if not verdict.accepted:
            verdicts[i] = Verdict(accepted=False, reason=verdict.reason, detail=verdict.detail)


def trace_verdict(
    runtime: Runtime[TeacherContext], kind: str, node: str, iteration: int, ex: TrainingExample, **extra: Any
) -> None:
    """One example's verdict as a trace event (``verdict`` here, ``review`` after a reviewer)."""
    assert ex.verdict is not None
    trace(
        runtime,
        kind,
        node=node,
        iteration=iteration,
        skill=ex.skill,
        example_id=ex.id,
        accepted=ex.verdict.accepted,
        reason=ex.verdict.reason.value,
        detail=ex.verdict.detail,
        **extra,
        question=teacher_text(runtime.context.task, ex.input)[:200],
    )


def validation(state: TeacherState, runtime: Runtime[TeacherContext]) -> dict[str, Any]:
    """Judge this step's written examples, trace each verdict, and update the forest's counts."""
    ctx, iteration = runtime.context, state.get("iteration", 0)
    judged = judge(state.get("written", []), ctx, set(state.get("known_questions", [])))
    forest = SkillForest.from_state(state.get("forest"))
    counts: dict[str, list[int]] = {}
    recent: dict[str, list[str]] = {}
    for ex in judged:
        assert ex.verdict is not None
        trace_verdict(runtime, "verdict", NODE, iteration, ex)
        c = counts.setdefault(ex.skill, [0, 0])
        c[0 if ex.verdict.accepted else 1] += 1
        if ex.verdict.accepted:
            recent.setdefault(ex.skill, []).append(teacher_text(ctx.task, ex.input)[:300])
    for path in forest:
        if path in recent:
            kept = [*forest.node(path).recent_questions, *recent[path]][-RECENT_QUESTIONS:]
            forest.update(path, recent_questions=kept)
        if path in counts:
            forest.record_generated(path, *counts[path])
        elif forest.node(path).generated_last:
            forest.update(path, generated_last=0)  # no data this round: the bandit must not credit it
    return {"examples": judged, "forest": forest.to_data()}
