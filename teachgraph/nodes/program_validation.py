"""Validating a generator program before any of its draws is used, stage by stage.

Each stage rejects with its own reason (:class:`GeneratorRejection`), a detail line and the
failing sample, which the writer shows the model for one bounded repair:

1. it runs for K seeds without error or timeout and returns the required fields;
2. determinism: the same seed gives the same item (twice in one process, and in two processes);
3. diversity: a minimum share of distinct questions, and answers that are not all one value;
4. every answer parses for the task (``answers_equal(a, a)``);
5. the drawn questions pass dedup (against data accepted earlier) and decontamination;
6. on a templated skill, the drawn questions keep the task's frames (:mod:`.question_forms`);
7. an independent check of the answer code: the teacher answers a few drawn questions (one of each
   question form first) with its own solution programs (the direct writer's check), and the
   generator must agree on most; forms it disagrees on are never drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from teachgraph.nodes.decontamination import question_key
from teachgraph.nodes.llm import NodeCalls, messages
from teachgraph.nodes.program_contract import CheckPrograms, Draw, derive_seed, harness, parse_output, run_in_sandbox
from teachgraph.nodes.question_forms import TaskFrames, form, frame
from teachgraph.nodes.validation import eval_index
from teachgraph.skills.generator import GeneratorStats
from teachgraph.state import TeacherContext
from teachgraph.stats import binomial_upper_tail


class GeneratorRejection(StrEnum):
    """Why a generator was not accepted (``ACCEPTED`` for the ones kept)."""

    ACCEPTED = "accepted"
    NO_SOURCE = "no_source"  # the model wrote nothing usable
    CRASHED = "crashed"  # does not load, or raised for some seed
    TIMED_OUT = "timed_out"  # did not finish the K validation draws in time
    MISSING_FIELDS = "missing_fields"  # returned no dict with question and answer
    NONDETERMINISTIC = "nondeterministic"  # the same seed gave different items
    NOT_DIVERSE = "not_diverse"  # too few distinct questions
    CONSTANT_ANSWER = "constant_answer"  # every answer is the same value
    UNPARSABLE_ANSWER = "unparsable_answer"  # an answer the task cannot read
    DUPLICATE = "duplicate"  # its questions repeat data accepted earlier
    CONTAMINATED = "contaminated"  # its questions copy validation/test items
    OFF_TASK = "off_task"  # its questions are not worded like the task's (another template, more numbers)
    CHECK_DISAGREES = "check_disagrees"  # the teacher's own solutions disagree with its answers


@dataclass
class GeneratorVerdict:
    """The outcome of :func:`validate_generator`."""

    reason: GeneratorRejection
    detail: str = ""
    sample: str = ""
    stats: GeneratorStats = field(default_factory=GeneratorStats)

    @property
    def accepted(self) -> bool:
        return self.reason == GeneratorRejection.ACCEPTED


#: A generator is rejected when this few of its draws would be flagged at the tolerated share.
FLAGGED_SIGNIFICANCE = 0.05
#: Share of a generator's validation draws that may be off-task (they are skipped when drawing).
MAX_OFF_TASK_SHARE = 0.1
CHECK_SYSTEM = "You solve math questions by writing short Python programs."
CHECK_USER = """For each question, write a Python 3 program (standard library only) that computes its
final answer and prints only that answer (or one program that prints the answers in order, one per line).
{questions}
Give exactly {n} programs, one per question, in the same order."""


def _shown(d: Draw) -> str:
    return f"seed {d.seed}: question {d.question[:200]!r}, answer {d.answer[:60]!r}"


def _run_stage(source: str, seeds: list[int], ctx: TeacherContext) -> GeneratorVerdict | list[Draw]:
    """Stages 1 and 2: the K draws, twice each in two processes."""
    code = harness(source, seeds, repeat=2)
    runs = run_in_sandbox([code, code], ctx.settings.validation, ctx.sandbox)
    parsed = [parse_output(r, seeds) for r in runs]
    for result, (found, error) in zip(runs, parsed, strict=True):
        if error:
            reason = GeneratorRejection.TIMED_OUT if "timed out" in error else GeneratorRejection.CRASHED
            return GeneratorVerdict(reason, f"{error} (drawing {len(seeds)} seeds)", result.output[-300:])
        missing = [s for s in seeds if s not in found]
        if missing:
            return GeneratorVerdict(GeneratorRejection.CRASHED, f"printed no draw for seed {missing[0]}")
        for d in (found[s] for s in seeds):
            if d.error.startswith("raised") or d.error.startswith("returned something"):
                return GeneratorVerdict(GeneratorRejection.CRASHED, f"seed {d.seed}: {d.error}", f"seed {d.seed}")
            if d.error:
                return GeneratorVerdict(
                    GeneratorRejection.MISSING_FIELDS, f"seed {d.seed}: {d.error}", f"seed {d.seed}"
                )
    first, second = parsed[0][0], parsed[1][0]
    for s in seeds:
        a, b = first[s], second[s]
        if a.nondeterministic or b.nondeterministic or (a.question, a.answer) != (b.question, b.answer):
            return GeneratorVerdict(
                GeneratorRejection.NONDETERMINISTIC,
                f"seed {s} gave different items on two draws (use only the rng argument for randomness)",
                _shown(a),
            )
    return [first[s] for s in seeds]


def _content_stage(draws: list[Draw], ctx: TeacherContext, known: set[str]) -> GeneratorVerdict | None:
    """Stages 3 to 5: diversity, answers the task can read, dedup and decontamination."""
    s, k = ctx.settings.programs, len(draws)
    keys = [question_key(d.question) for d in draws]
    distinct = len(set(keys)) / k
    answers = {d.answer for d in draws}
    stats = GeneratorStats(seeds=k, distinct_share=round(distinct, 4), distinct_answers=len(answers))
    if distinct < s.min_distinct_share:
        return GeneratorVerdict(
            GeneratorRejection.NOT_DIVERSE,
            f"only {len(set(keys))} distinct questions in {k} draws (need {s.min_distinct_share:.0%})",
            _shown(draws[0]),
            stats,
        )
    if len(answers) == 1:
        return GeneratorVerdict(
            GeneratorRejection.CONSTANT_ANSWER, f"all {k} answers are {draws[0].answer!r}", _shown(draws[0]), stats
        )
    for d in draws:
        if not ctx.task.answers_equal(d.answer, d.answer):
            return GeneratorVerdict(
                GeneratorRejection.UNPARSABLE_ANSWER,
                f"answer {d.answer[:40]!r} is not a valid final answer for this task (a bare number or fraction)",
                _shown(d),
                stats,
            )
    index = eval_index(ctx)
    contaminated = [(d, hit) for d in draws if (hit := index.match(d.question)) is not None]
    duplicates = [d for d, key in zip(draws, keys, strict=True) if key in known]
    stats.flagged = len(contaminated) + len(duplicates)
    # Flagged draws are dropped when drawing anyway; the gate is for generators that copy. On a
    # task whose eval items cover much of its small question space (LCM of two numbers up to 30:
    # 112 eval items in 841 pairs), an honest generator's 10 draws hit 3 eval items 14% of the
    # time, so a raw share over K draws rejected honest generators by chance: reject only a share
    # significantly above the tolerated one.
    if binomial_upper_tail(stats.flagged, k, s.max_flagged_share) < FLAGGED_SIGNIFICANCE:
        if contaminated:
            d, hit = contaminated[0]
            return GeneratorVerdict(
                GeneratorRejection.CONTAMINATED,
                f"{len(contaminated)} of {k} questions copy eval items (e.g. {hit[0]}, {hit[1]:.0%} of its n-grams)",
                _shown(d),
                stats,
            )
        return GeneratorVerdict(
            GeneratorRejection.DUPLICATE,
            f"{len(duplicates)} of {k} questions repeat data accepted earlier",
            _shown(duplicates[0]),
            stats,
        )
    return GeneratorVerdict(GeneratorRejection.ACCEPTED, stats=stats)


def _frames_stage(draws: list[Draw], frames: TaskFrames) -> GeneratorVerdict | None:
    """Stage 6: a templated skill's questions keep its frames (a few strays are skipped later)."""
    off = frames.off_task([d.question for d in draws])
    if len(off) <= MAX_OFF_TASK_SHARE * len(draws):
        return None
    return GeneratorVerdict(
        GeneratorRejection.OFF_TASK,
        f"{len(off)} of {len(draws)} questions are not worded like the task's: {frame(off[0])!r} "
        f"(N a number, ∘ an operator); the task asks {frames.describe()}",
        _shown(next(d for d in draws if d.question == off[0])),
    )


def _check_answers(programs: list[str], n: int, ctx: TeacherContext) -> list[tuple[str, str]]:
    """``(answer, why it failed)`` per question, from one program each or one program for all.

    Asked for one block per question, small models often write one block that prints every
    answer in turn; its non-empty output lines are then the answers, in order.
    """
    if not programs:
        return []
    if len(programs) == 1 and n > 1:
        [result] = run_in_sandbox(programs, ctx.settings.validation, ctx.sandbox)
        lines = [line.strip() for line in result.output.splitlines() if line.strip()]
        if not result.ok:
            return [("", result.error[:80])] * n
        return (
            [(line, "") for line in lines[:n]]
            if len(lines) == n
            else [("", f"printed {len(lines)} lines for {n} questions")] * n
        )
    results = run_in_sandbox(programs[:n], ctx.settings.validation, ctx.sandbox)
    return [(r.result, "") if r.ok else ("", r.error[:80]) for r in results]


#: Most questions one independent check asks (``CheckPrograms`` takes at most 8 programs).
MAX_CHECKED = 8


def _check_picks(draws: list[Draw], sample: int) -> list[Draw]:
    """Distinct questions to check: one of each form first (a generator completed line by line can
    get one form wrong and the rest right), then more up to ``sample``."""
    distinct = list({question_key(d.question): d for d in draws}.values())
    by_form: dict[str, Draw] = {}
    for d in distinct:
        by_form.setdefault(form(d.question), d)
    first = list(by_form.values())
    rest = [d for d in distinct if d not in first]
    return (first + rest)[: min(max(sample, len(first)), MAX_CHECKED)]


def independent_check(calls: NodeCalls, draws: list[Draw], *, skill: str) -> GeneratorVerdict:
    """Stage 7: the teacher's own solution programs for a few draws must agree with the generator;
    the forms they disagree on are recorded (``unchecked_forms``) and never drawn."""
    ctx = calls.runtime.context
    s = ctx.settings.programs
    picked = _check_picks(draws, s.check_sample)
    questions = "\n".join(f"{i}. {' '.join(d.question.split())[:400]}" for i, d in enumerate(picked, 1))
    prompt = messages(CHECK_SYSTEM, CHECK_USER.format(questions=questions, n=len(picked)))
    answer = calls.ask(CheckPrograms, prompt, skill=skill, purpose="independent check")
    verdict = GeneratorVerdict(GeneratorRejection.ACCEPTED)
    programs = answer.value.programs if answer.value is not None else []
    agreed, disagreement, unchecked = 0, "", []
    results = _check_answers(programs, len(picked), ctx)
    results += [("", "no program for it")] * (len(picked) - len(results))
    for d, (got, failed) in zip(picked, results, strict=True):
        if got and ctx.task.answers_equal(got, d.answer):
            agreed += 1
            continue
        unchecked.append(form(d.question))
        if not disagreement:
            disagreement = f"{_shown(d)}; an independent solution gives {got[:60] or f'(its program failed: {failed})'}"
    verdict.stats = GeneratorStats(checked=len(picked), agreed=agreed, unchecked_forms=sorted(set(unchecked)))
    needed = max(1, -(-int(s.check_agreement * 1000) * len(picked) // 1000))  # ceil without float error
    if agreed < needed:
        verdict.reason = GeneratorRejection.CHECK_DISAGREES
        verdict.detail = f"the teacher's own solutions agree on {agreed} of {len(picked)} questions (need {needed})"
        verdict.sample = disagreement
    return verdict


def validate_generator(
    calls: NodeCalls, source: str, *, skill: str, known: set[str], tag: str, frames: TaskFrames | None = None
) -> GeneratorVerdict:
    """Run every stage on ``source``; the first failing stage is the verdict (the check's LLM
    call is recorded in ``calls``). ``frames``: the skill's question frames (none: no frame stage)."""
    ctx, iteration = calls.runtime.context, calls.iteration
    if "def generate" not in source:
        return GeneratorVerdict(GeneratorRejection.NO_SOURCE, "the reply defines no function generate(rng)")
    k = ctx.settings.programs.validation_seeds
    seeds = [derive_seed(ctx.settings.seed, skill, tag, iteration, "validate", i) for i in range(k)]
    drawn = _run_stage(source, seeds, ctx)
    if isinstance(drawn, GeneratorVerdict):
        drawn.stats.seeds = k
        return drawn
    content = _content_stage(drawn, ctx, known)
    if content is not None and not content.accepted:
        return content
    stats = content.stats if content is not None else GeneratorStats(seeds=k)
    off_task = _frames_stage(drawn, frames) if frames is not None else None
    if off_task is not None:
        off_task.stats = stats
        return off_task
    check = independent_check(calls, drawn, skill=skill)
    check.stats = stats.model_copy(
        update={
            "checked": check.stats.checked,
            "agreed": check.stats.agreed,
            "unchecked_forms": check.stats.unchecked_forms,
        }
    )
    return check
