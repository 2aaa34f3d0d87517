"""data_writing, program engine: one generator program per (sub)skill, then many draws from it.

For a (sub)skill with a quota the node either re-draws from the generators stored on its forest
node (exploit: new seeds, no LLM call) or asks the writer model for a generator (a skill without
one: new subskills, first iterations, retired generators), validates it stage by stage
(:mod:`.program_validation`), repairs it once with the error and a failing sample (a repair that
returns the same program keeps its verdict, with no second validation or check call), and fills the
quota by drawing with fresh seeds: one LLM call yields as many examples as the quota asks.
Only distinct questions count toward the quota: duplicates, and draws that happen to be eval
items, are replaced by further draws (and counted in the ``drawn`` trace event).

A task that computes answers itself (:class:`~teachgraph.tasks.base.ComputesAnswers`: the VQA
scenes) says what a generator returns and gives the program to start from
(``generator_guide``); its items become examples through the task, which refuses the ones it
cannot answer (counted as ``refused`` and replaced by further draws).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from langgraph.runtime import Runtime

from teachgraph.domain import Provenance, TrainingExample
from teachgraph.nodes.answer_mix import AnswerMix
from teachgraph.nodes.data_writing import report_written
from teachgraph.nodes.decontamination import question_key
from teachgraph.nodes.error_analysis import failure_columns, format_failure
from teachgraph.nodes.llm import NodeCalls, messages, trace
from teachgraph.nodes.policies import split_budget
from teachgraph.nodes.program_contract import Draw, GeneratorReply, derive_seed, draw, item_hook
from teachgraph.nodes.program_skeleton import Skeleton, skeleton
from teachgraph.nodes.program_validation import GeneratorRejection, GeneratorVerdict, validate_generator
from teachgraph.nodes.question_forms import TaskFrames, form
from teachgraph.nodes.validation import eval_index
from teachgraph.skills.generator import GeneratorRecord, source_hash
from teachgraph.state import GeneratorUpdate, TeacherContext, WritingJob
from teachgraph.tasks.base import ComputesAnswers, teacher_text

NODE = "data_writing"
MAX_DRAW_ROUNDS = 4

SYSTEM = (
    "You write Python programs that generate practice questions for a student model. "
    "The program computes each question's exact answer."
)
USER = """Write a Python function generate(rng) that makes practice questions for the skill: {skill}{description}
{errors}{style}{solved}
Rules:
- generate(rng) receives a random.Random: draw every random choice from rng (rng.randint, rng.choice).
- Use only the standard library, and import what you use (for example: import math).
- It returns {returns}.

{start}"""
RETURNS = """{{"question": ..., "answer": ...{rationale_field}}}. The question is the text the student
  sees, in the task's format, without its answer; the answer is the final answer as a string,
  computed by the code{rationale_text}"""
EXAMPLE = """An example for a different skill:
```python
def generate(rng):
    a = rng.randint(10, 99)
    b = rng.randint(2, 9)
    question = f"What is the remainder when {{a}} is divided by {{b}}?"
    return {{"question": question, "answer": str(a % b){rationale_example}}}
```"""
REPAIR = """

Your previous generator:
{source}
It failed validation ({reason}): {detail}
{sample}
Write a corrected generator."""
#: The repair of a reply that gave only the skeleton's answer lines asks for the lines again (a
#: whole program of six long forms ran past max_tokens and was cut off).
REPAIR_LINES = """

Your previous generator (its answer lines):
{source}
It failed validation ({reason}): {detail}
{sample}
Reply with the corrected lines: each an expression of that question's numbers (a, b, ...), never a
number worked out by hand."""


def shown_questions(job: WritingJob) -> tuple[list[str], list[float]]:
    """The skill's questions the teacher sees, with their weight in the skeleton: its root's
    evaluated questions (a failure weighs double, when the teacher sees results), then the
    task's style examples; the shown failures alone for a job planned without them."""
    questions = [q.question for q in job.task_questions] or [e.instance.prompt for e in job.errors]
    weights = [2.0 if q.failed else 1.0 for q in job.task_questions] or [2.0] * len(questions)
    questions += [i.prompt for i in job.style_examples]
    return questions, weights + [1.0] * len(job.style_examples)


def task_frames(job: WritingJob, ctx: TeacherContext) -> TaskFrames:
    """The frames a generator's questions for ``job`` must keep (see :mod:`.question_forms`); none
    for a task that computes its answers (its scene questions are the task's own families)."""
    if isinstance(ctx.task, ComputesAnswers):
        return TaskFrames.of([])
    return TaskFrames.of(shown_questions(job)[0])


def answer_mix(job: WritingJob) -> AnswerMix:
    """The mix of answers a quota for ``job`` follows (see :mod:`.answer_mix`)."""
    return AnswerMix.of([q.answer for q in job.task_questions] + [i.answer for i in job.style_examples])


def _prompt(job: WritingJob, ctx: TeacherContext, retired: list[GeneratorRecord]) -> tuple[str, Skeleton | None]:
    errors = ""
    if job.errors:
        errors = (
            f"\nThe student got these wrong ({failure_columns(job.errors)}):\n"
            + "\n".join(format_failure(e, f"e{n}", task=ctx.task) for n, e in enumerate(job.errors, 1))
            + "\n"
        )
    style = ""
    if job.style_examples:
        style = "\nQuestions of the task look like this:\n" + "\n".join(
            f"- Question: {' '.join(teacher_text(ctx.task, i.prompt).split())[:300]}  Answer: {i.answer}"
            for i in job.style_examples
        )
    solved = ""
    if retired:
        solved = "\nThe student already solves the questions of an earlier generator; make them harder."
    rationale = ctx.settings.target_style == "rationale"
    rationale_example = ', "rationale": f"{a} = {b} * {a // b} + {a % b}."' if rationale else ""
    returns = RETURNS.format(
        rationale_field=', "rationale": ...' if rationale else "",
        rationale_text="; the rationale is one sentence that works it out" if rationale else "",
    )
    start: Skeleton | None = None
    if isinstance(ctx.task, ComputesAnswers):  # the task's own contract and starting program
        guide = ctx.task.generator_guide(
            "/".join(job.skill_path), [e.instance for e in job.errors] + job.style_examples
        )
        returns, start_text = guide.returns, guide.start
    else:
        start = skeleton(*shown_questions(job), rationale_example=', "rationale": ...' if rationale else "")
        start_text = start.prompt if start else None
    text = USER.format(
        skill=" / ".join(job.skill_path),
        description=f" — {job.description}" if job.description else "",
        errors=errors,
        style=style,
        solved=solved,
        returns=returns,
        start=start_text or EXAMPLE.format(rationale_example=rationale_example),
    )
    return text, start


def _prelude(job: WritingJob, ctx: TeacherContext) -> str:
    """Definitions the task puts before its generators' code (``GeneratorGuide.prelude``), if any."""
    if not isinstance(ctx.task, ComputesAnswers):
        return ""
    return ctx.task.generator_guide(
        "/".join(job.skill_path), [e.instance for e in job.errors] + job.style_examples
    ).prelude


def _trace_verdict(
    runtime: Runtime[TeacherContext], job: WritingJob, record: GeneratorRecord, attempt: int, sample: str
) -> None:
    trace(
        runtime,
        "generator",
        node=NODE,
        iteration=job.iteration,
        skill="/".join(job.skill_path),
        generator=record.hash,
        accepted=record.status == "active",
        reason=record.reason,
        detail=record.detail,
        attempt=attempt,
        stats=record.stats.model_dump(),
        sample=sample[:300],
        source=record.source[:2000],
    )


def author_generator(calls: NodeCalls, job: WritingJob, known: set[str], index: int) -> list[GeneratorRecord]:
    """Ask for a generator, validate it, repair it up to ``repair_attempts`` times.

    Returns every version written (the rejected ones too, each with its reason) in order; the
    last one is ``active`` when validation accepted it. The calls are recorded in ``calls``.
    """
    runtime = calls.runtime
    ctx = runtime.context
    skill = "/".join(job.skill_path)
    retired = [g for g in job.generators if g.status == "too_easy"]
    base, start = _prompt(job, ctx, retired)
    frames = task_frames(job, ctx)
    if index:  # several generators per skill: ask for a different kind of question each time
        base += f"\nThis is generator {index + 1} for this skill: ask a different kind of question than the others."
    records: list[GeneratorRecord] = []
    user = base
    prelude = _prelude(job, ctx)
    for attempt in range(ctx.settings.programs.repair_attempts + 1):
        purpose = "write generator" if attempt == 0 else "repair generator"
        answer = calls.ask(GeneratorReply, messages(SYSTEM, user), skill=skill, purpose=purpose)
        if answer.value is None:
            return records  # the model could not answer: a repair would not help
        reply = answer.value.source.strip()
        completed = start.complete(reply) if start is not None else None  # a reply of only the answer lines
        miscounted = start.miscounted(reply) if start is not None else None
        written = completed or reply
        # The task's definitions come last, so they win over any the model wrote of the same name
        # (the local teacher redefines described helpers, wrongly: a place() that never returned).
        source = f"{written}\n\n\n{prelude.strip()}\n" if prelude else written  # what runs, and is stored
        digest = source_hash(source)
        earlier = next((r for r in records if r.hash == digest), None)
        if miscounted:  # nothing to run: ask for the lines again, not for a whole program
            verdict = GeneratorVerdict(GeneratorRejection.NO_SOURCE, miscounted)
        elif earlier is not None:  # the repair is the rejected program again: no second check call
            verdict = GeneratorVerdict(
                GeneratorRejection(earlier.reason), f"unchanged by the repair: {earlier.detail}", stats=earlier.stats
            )
        else:
            verdict = validate_generator(calls, source, skill=skill, known=known, tag=digest, frames=frames)
        record = GeneratorRecord(
            hash=digest,
            source=source,
            author_model=answer.model,
            iteration=job.iteration,
            status="active" if verdict.accepted else "rejected",
            reason=verdict.reason.value,
            detail=verdict.detail,
            stats=verdict.stats.model_copy(update={"repaired": attempt > 0}),
        )
        records.append(record)
        _trace_verdict(runtime, job, record, attempt, verdict.sample)
        if verdict.accepted:
            break
        as_lines = completed or miscounted
        user = base + (REPAIR_LINES if as_lines else REPAIR).format(
            source=(reply if as_lines else written)[:2000],
            reason=verdict.reason.value,
            detail=verdict.detail,
            sample=verdict.sample,
        )
    return records


def draw_distinct(
    runtime: Runtime[TeacherContext],
    job: WritingJob,
    record: GeneratorRecord,
    quota: int,
    seen: set[str],
    purpose: str = "draw",
) -> tuple[list[Draw], dict[str, int]]:
    """Draw until ``quota`` new distinct questions (or the round limit); ``seen`` is extended.
    ``purpose`` salts the seeds, so a second draw from one generator in a step (the top-up)
    gets new seeds rather than the first draw's questions again."""
    ctx = runtime.context
    skill = "/".join(job.skill_path)
    taken: list[Draw] = []
    # seeds: draws used (kept, duplicates and errors up to the last kept one); surplus: drawn in
    # the last batch but not needed. Only the first count toward the generator's draws.
    counts = {
        "seeds": 0,
        "duplicates": 0,
        "contaminated": 0,
        "off_task": 0,
        "unchecked": 0,
        "errors": 0,
        "refused": 0,
        "skewed": 0,
        "surplus": 0,
    }
    unchecked = set(record.stats.unchecked_forms)
    hook = item_hook(ctx.task, skill)
    index = eval_index(ctx)
    frames = task_frames(job, ctx)
    # Answers follow the task's mix where its answers repeat; otherwise no answer may fill more
    # than its share of the quota (a two-answer generator may fill half).
    mix = answer_mix(job)
    share = max(ctx.settings.programs.max_answer_share, 1 / max(record.stats.distinct_answers, 1))
    per_answer_cap = max(2, math.ceil(share * quota))
    answers: dict[str, int] = {}
    unseen = 0

    def fits(answer: str) -> bool:
        if not mix.followed:
            return answers.get(answer, 0) < per_answer_cap
        if not mix.seen(answer) and unseen >= mix.unseen_cap(quota):
            return False
        return answers.get(answer, 0) < mix.cap(answer, quota)

    computed, error, kept_rate = 0, "", 1.0
    for _ in range(MAX_DRAW_ROUNDS):
        need = quota - len(taken)
        if need <= 0:
            break
        # Draw more when the last batch kept few (skewed answers, repeats): the rounds are capped.
        batch = math.ceil(need * 1.2 / max(kept_rate, 0.1)) + 2
        before = len(taken)
        seeds = [
            derive_seed(ctx.settings.seed, skill, record.hash, job.iteration, purpose, i)
            for i in range(computed, computed + batch)
        ]
        computed += batch
        result = draw(
            record.source,
            seeds,
            ctx.settings.validation,
            chunk=ctx.settings.programs.draws_per_process,
            sandbox=ctx.sandbox,
            hook=hook,
        )
        for d in result.draws:
            if len(taken) >= quota:
                counts["surplus"] += 1
                continue
            counts["seeds"] += 1
            key = question_key(d.question) if d.ok else ""
            if d.refused:
                counts["refused"] += 1  # the task cannot answer it (VQA): draw another
            elif not d.ok:
                counts["errors"] += 1
            elif key in seen:
                counts["duplicates"] += 1
            elif index.match(d.question) is not None:
                counts["contaminated"] += 1  # an eval item (small number ranges meet them): draw another
            elif not frames.on_task(d.question):
                counts["off_task"] += 1  # a stored generator may predate the frames it is held to now
            elif unchecked and form(d.question) in unchecked:
                counts["unchecked"] += 1  # the independent check disagreed on this form
            elif not fits(d.answer):
                counts["skewed"] += 1
            else:
                seen.add(key)
                taken.append(d)
                answers[d.answer] = answers.get(d.answer, 0) + 1
                if mix.followed and not mix.seen(d.answer):
                    unseen += 1
        kept_rate = (len(taken) - before) / batch
        if result.error:
            error = result.error
            counts["errors"] += batch - len(result.draws)
            counts["seeds"] += batch - len(result.draws)
            break
    trace(
        runtime,
        "drawn",
        node=NODE,
        iteration=job.iteration,
        skill=skill,
        generator=record.hash,
        quota=quota,
        kept=len(taken),
        **counts,
        error=error,
        first_seed=taken[0].seed if taken else None,
        answer_mix=mix.followed,
        purpose=purpose,
    )
    return taken, counts


def example_from_draw(ctx: TeacherContext, job: WritingJob, record: GeneratorRecord, d: Draw) -> TrainingExample:
    """The training example of one draw, with its provenance (generator, seed, the job's action)."""
    skill = "/".join(job.skill_path)
    rationale = d.rationale if ctx.settings.target_style == "rationale" and d.rationale else None
    return TrainingExample(
        # Deterministic id: a resumed run that re-draws this step produces the same ids.
        id="ex-" + hashlib.sha256(f"{job.iteration}|{skill}|{record.hash}|{d.seed}".encode()).hexdigest()[:16],
        input=d.question,
        target=ctx.task.format_target(d.answer, rationale),
        answer=d.answer,
        skill_path=job.skill_path,
        provenance=Provenance(
            node=NODE,
            model=record.author_model,
            iteration=job.iteration,
            skill=skill,
            source_errors=[e.instance.id for e in job.errors],
            action=job.action,
            generator=record.hash,
            seed=d.seed,
        ),
    )


def program_writing(state: dict[str, Any], runtime: Runtime[TeacherContext]) -> dict[str, Any]:
    """Fill ``job.quota`` from the skill's generators, writing (and validating) one when it has none."""
    ctx = runtime.context
    job: WritingJob = state["job"]
    skill = "/".join(job.skill_path)
    known = set(state.get("known_questions", []))
    calls = NodeCalls(runtime, NODE, job.iteration)
    updates: list[GeneratorRecord] = []
    active = [g for g in job.generators if g.status == "active"]
    if not active:
        for index in range(ctx.settings.programs.generators_per_skill):
            records = author_generator(calls, job, known, index)
            updates += records
            active += [r for r in records if r.status == "active"]
    examples: list[TrainingExample] = []
    seen = set(known)
    shares = split_budget({g.hash: 1.0 for g in active}, job.quota) if active else {}
    drawn: dict[str, GeneratorRecord] = {}
    for record in active:
        taken, counts = draw_distinct(runtime, job, record, shares[record.hash], seen)
        examples += [example_from_draw(ctx, job, record, d) for d in taken]
        drawn[record.hash] = record.model_copy(update={"draws": record.draws + counts["seeds"]})
    updates = [drawn.pop(r.hash, r) for r in updates] + list(drawn.values())
    why = "(no valid generator)" if not active else "(generators ran out of distinct questions)"
    report_written(
        calls,
        job,
        len(examples),
        why,
        engine="programs",
        generators=[g.hash for g in active],
        llm_calls=len(calls.usage),
    )
    return calls.update(written=examples, generator_updates=[GeneratorUpdate(skill=skill, record=r) for r in updates])
