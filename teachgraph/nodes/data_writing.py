"""data_writing: write training examples for one (sub)skill within its quota (fanned out with ``Send``).

The writer asks its model for examples in small batches (small local models keep a handful of
items straight, not thirty), sampling at ``writer_temperature`` with a seed per call (so a rerun
writes the same). Only distinct questions count toward the quota: the single top-up replaces
duplicates and short batches, and anything beyond the quota is marked ``over_quota`` instead of
dropped. The writer sees the questions accepted for the skill in earlier iterations. Every
example carries its provenance. On a code task the writer asks for a problem, a reference
solution and unit tests instead (:mod:`.code_writing`), and tests whose expected values the solution
disputes are settled by an independent solution (:mod:`.code_expectations`). (``teacher.engine: programs`` swaps this node for
:mod:`.program_writing`, under the same node name.)
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send
from pydantic import BaseModel, Field, create_model

from teachgraph.domain import EvaluatedInstance, Provenance, RejectionReason, TaskInstance, TrainingExample, Verdict
from teachgraph.nodes import code_writing
from teachgraph.nodes.code_expectations import settle_expectations
from teachgraph.nodes.error_analysis import failure_columns, format_failure
from teachgraph.nodes.llm import NodeCalls, messages, trace
from teachgraph.skills import SkillForest
from teachgraph.state import ShownQuestion, TeacherContext, TeacherState, WritingInput, WritingJob
from teachgraph.tasks.code import CodeTask
from teachgraph.text import question_key

NODE = "data_writing"

SYSTEM = (
    "You are an expert teacher who writes practice questions for a student model. Every question "
    "you write has one exact final answer, and a short Python program that computes that answer "
    "and prints it."
)

USER = """Write {n} NEW practice questions for the skill: {skill}{description}
{errors}{style}{avoid}
For each question give: "question" (self-contained), "answer" (the final answer only, e.g. 42 or 3/4),
"rationale" (one or two short sentences), and "program" (Python 3 that computes the answer from
the numbers in the question and prints only the answer, standard library only)."""


class WrittenExample(BaseModel):
    """One example as the writer model returns it; checked field by field later, in validation."""

    question: str = Field(default="", max_length=1500)
    answer: str = Field(default="", max_length=200)
    rationale: str = Field(default="", max_length=800)
    program: str = Field(default="", max_length=2000, description="Python that prints the answer.")


class WrittenBatch(BaseModel):
    """A batch of written examples."""

    examples: list[WrittenExample] = Field(max_length=16)


@functools.cache
def batch_schema(n: int) -> type[WrittenBatch]:
    """``WrittenBatch`` whose JSON schema asks for exactly ``n`` examples.

    Grammar-constrained local models then write all ``n`` instead of stopping after one; pydantic
    still accepts fewer (the top-up and the shortfall record handle those), so other providers
    are not failed over a count.
    """
    return create_model(
        "WrittenBatch",
        __base__=WrittenBatch,
        __doc__=WrittenBatch.__doc__,
        examples=(list[WrittenExample], Field(max_length=16, json_schema_extra={"minItems": n, "maxItems": n})),
    )


def style_examples(ctx: TeacherContext, gold_skills: set[str], k: int, seed: int) -> list[TaskInstance]:
    """A few *train*-split questions showing the task's format (never validation or test)."""
    cache = ctx.extras.setdefault("_train_instances", {})
    if "all" not in cache:
        cache["all"] = ctx.task.instances("train")
    pool = [i for i in cache["all"] if not gold_skills or i.gold_skill in gold_skills] or cache["all"]
    return random.Random(seed).sample(pool, min(k, len(pool)))


def plan_jobs(
    state: TeacherState, ctx: TeacherContext, forest: SkillForest, actions: dict[str, str]
) -> list[WritingJob]:
    """One writing job per (sub)skill with a positive quota, with its root skill's failures."""
    iteration = state.get("iteration", 0)
    evaluated = state.get("evaluated", [])
    with_state = state.get("with_state", True)
    jobs = []
    siblings: dict[str, int] = {}
    for n, (path, quota) in enumerate(sorted(forest.quotas().items())):
        root = path.split("/")[0]
        mine = [e for e in evaluated if e.skill == root]
        failures = [e for e in mine if not e.correct] if with_state else []
        # Subskills of one root share its failures; each sibling starts from different ones, so
        # their writers (and the program engine's skeleton, built from the first) do not all
        # copy the same question.
        sibling = siblings[root] = siblings.get(root, -1) + 1
        offset = (sibling * ctx.settings.errors_per_writer) % len(failures) if failures else 0
        errors = (failures[offset:] + failures[:offset])[: ctx.settings.errors_per_writer]
        gold = {e.instance.gold_skill for e in mine if e.instance.gold_skill}
        node = forest.node(path)
        parents = path.split("/")
        description = node.description
        if len(parents) > 1:
            description = f"{description} (part of: {forest.node(root).name})".strip()
        analysis = state.get("analysis")
        notes = [
            f"{g.name}: {g.description}"
            for g in (analysis.groups if analysis else [])
            if any(forest.assignments.get(i, "").split("/")[0] == root for i in g.instance_ids) or g.name == node.name
        ]
        jobs.append(
            WritingJob(
                iteration=iteration,
                skill_path=parents,
                description=description,
                quota=quota,
                action=actions.get(root),
                notes=notes,
                errors=errors,
                task_questions=_shown(mine, failures),
                style_examples=style_examples(ctx, gold, 2, ctx.settings.seed * 1000 + iteration * 100 + n),
                accepted_before=node.recent_questions,
                generators=node.generators,
            )
        )
    return jobs


def _shown(mine: list[EvaluatedInstance], failures: list[EvaluatedInstance]) -> list[ShownQuestion]:
    """A root's evaluated questions as the teacher sees them, failures first."""
    failed = {e.instance.id for e in failures}
    ordered = sorted(mine, key=lambda e: e.instance.id not in failed)  # stable: the split's order within each
    return [
        ShownQuestion(question=e.instance.prompt, answer=e.instance.answer, failed=e.instance.id in failed)
        for e in ordered
    ]


def fan_out_jobs(state: TeacherState) -> list[Send] | str:
    """One ``data_writing`` branch per job; straight to validation when there is nothing to write."""
    jobs = state.get("jobs", [])
    if not jobs:
        return "validation"
    known = state.get("known_questions", [])
    return [Send(NODE, WritingInput(job=job, known_questions=known)) for job in jobs]


def _prompt(job: WritingJob, n: int, avoid: list[str], template: str = USER) -> str:
    errors = ""
    if job.notes:
        errors += "\nWhat the student gets wrong:\n" + "\n".join(f"- {n}" for n in job.notes) + "\n"
    if job.errors:
        errors += (
            f"\nThe student got these wrong ({failure_columns(job.errors)}):\n"
            + "\n".join(format_failure(e, f"e{n}") for n, e in enumerate(job.errors, 1))
            + "\nWrite questions that practise what these mistakes show, with different numbers and wording.\n"
        )
    style = ""
    if job.style_examples:
        # A code task's answer is a whole program: the problem alone shows the format.
        shown = [
            f"- {' '.join(i.prompt.split())[:300]}" + ("" if "\n" in i.answer else f" -> {i.answer}")
            for i in job.style_examples
        ]
        style = "\nExamples of the task's format (do not copy them):\n" + "\n".join(shown) + "\n"
    avoid = [*job.accepted_before, *avoid]
    avoid_text = (
        ("\nAlready written (write different ones):\n" + "\n".join(f"- {q[:200]}" for q in avoid[-12:]) + "\n")
        if avoid
        else ""
    )
    skill = " / ".join(job.skill_path)
    description = f" — {job.description}" if job.description else ""
    return template.format(n=n, skill=skill, description=description, errors=errors, style=style, avoid=avoid_text)


def data_writing(state: WritingInput, runtime: Runtime[TeacherContext]) -> dict[str, Any]:
    """Write exactly ``job.quota`` examples if the model allows: batches, one top-up, truncation."""
    ctx = runtime.context
    job = state["job"]
    skill = "/".join(job.skill_path)
    batch = ctx.settings.batch_size
    drafts: list[tuple[WrittenExample | code_writing.WrittenCodeExample, str]] = []
    seen = set(state.get("known_questions", []))
    distinct = 0
    calls = NodeCalls(runtime, NODE, job.iteration)
    code = isinstance(ctx.task, CodeTask)
    system, template = (code_writing.SYSTEM, code_writing.USER) if code else (SYSTEM, USER)
    planned_calls = math.ceil(job.quota / batch)
    for call in range(planned_calls + 1):  # the +1 is the single top-up
        missing = job.quota - distinct
        if missing <= 0:
            break
        if call == planned_calls:
            trace(runtime, "written", node=NODE, iteration=job.iteration, skill=skill, top_up=missing)
        n = min(batch, missing) if call < planned_calls else missing
        prompt = messages(system, _prompt(job, n, [d.question for d, _ in drafts], template))
        seed = int(hashlib.sha256(f"{ctx.settings.seed}|{job.iteration}|{skill}|{call}".encode()).hexdigest()[:8], 16)
        answer = calls.ask(
            code_writing.CodeBatch if code else batch_schema(n),
            prompt,
            skill=skill,
            purpose="write examples",
            sampling={"temperature": ctx.settings.writer_temperature, "seed": seed},
        )
        if answer.value is None:
            continue
        for ex in answer.value.examples:
            drafts.append((ex, answer.model))
            key = question_key(ex.question)
            if ex.question.strip() and key not in seen:
                seen.add(key)
                distinct += 1
    source_errors = [e.instance.id for e in job.errors]
    examples = []
    known, counted = set(state.get("known_questions", [])), set()
    for i, (draft, model) in enumerate(drafts):
        example = TrainingExample(
            # Deterministic id: a resumed run that re-writes this step produces the same ids.
            id="ex-"
            + hashlib.sha256(f"{job.iteration}|{skill}|{i}|{draft.question}|{draft.answer}".encode()).hexdigest()[:16],
            input=draft.question.strip(),
            # No answer, no target (the formatter refuses one): kept and rejected below.
            target=ctx.task.format_target(
                draft.answer.strip(), draft.rationale.strip() if ctx.settings.target_style == "rationale" else None
            )
            if draft.answer.strip()
            else "",
            answer=draft.answer.strip(),
            skill_path=job.skill_path,
            solution_program=draft.program or None,
            tests=list(getattr(draft, "tests", [])),
            provenance=Provenance(
                node=NODE,
                model=model,
                iteration=job.iteration,
                skill=skill,
                source_errors=source_errors,
                action=job.action,
            ),
        )
        key = question_key(draft.question)
        fresh = bool(draft.question.strip()) and key not in known and key not in counted
        if fresh:
            counted.add(key)
        # Over quota: the quota-th distinct question was already written. Kept and marked, never
        # silently dropped; duplicates go on to validation, which rejects them as duplicates.
        if fresh and len(counted) > job.quota:
            example.verdict = Verdict(
                accepted=False, reason=RejectionReason.OVER_QUOTA, detail=f"beyond quota {job.quota}"
            )
        elif not example.answer:
            example.verdict = Verdict(accepted=False, reason=RejectionReason.MALFORMED, detail="no answer")
        elif not example.input:
            example.verdict = Verdict(accepted=False, reason=RejectionReason.MALFORMED, detail="no question")
        examples.append(example)
    if code:
        examples = settle_expectations(examples, ctx, calls)
    report_written(calls, job, min(distinct, job.quota), "examples missing", over_quota=max(distinct - job.quota, 0))
    return calls.update(written=examples)


def report_written(calls: NodeCalls, job: WritingJob, written: int, why: str, **extra: Any) -> None:
    """A writer's ``written`` trace event, and an ``under-filled`` failure when short of the quota
    (both engines)."""
    skill = "/".join(job.skill_path)
    shortfall = max(job.quota - written, 0)
    if shortfall:
        calls.fail(f"under-filled: {shortfall} of {job.quota} {why}", skill=skill)
    trace(
        calls.runtime,
        "written",
        node=calls.node,
        iteration=job.iteration,
        skill=skill,
        quota=job.quota,
        written=written,
        shortfall=shortfall,
        **extra,
    )
