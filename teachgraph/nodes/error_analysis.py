"""error_analysis: group the student's failures and name what it gets wrong, citing instances."""

from __future__ import annotations

import functools
from typing import Any

from langgraph.runtime import Runtime
from pydantic import Field, create_model

from teachgraph.domain import EvaluatedInstance
from teachgraph.nodes.llm import NodeCalls, messages, trace
from teachgraph.state import ErrorAnalysis, ErrorGroup, TeacherContext, TeacherState
from teachgraph.tasks.base import Task, teacher_text

NODE = "error_analysis"

SYSTEM = (
    "You are an expert teacher who diagnoses a student model's mistakes. "
    "You group failures by the underlying skill the student lacks and name that skill precisely."
)

USER = """The student answered these questions wrongly. Each line: {columns}.

{failures}

Group the failures into at most {max_groups} groups by the specific skill the student is missing
(compare the student's answer with what was expected, step by step). For each group give a short name,
a one-sentence description of the mistake, and the ids of up to {max_cited} failures in it (use the ids
exactly as written above)."""
#: Most failures one group cites: examples of the mistake, not a census of it.
MAX_CITED = 8


@functools.cache
def analysis_schema(shown: int, max_groups: int) -> type[ErrorAnalysis]:
    """:class:`ErrorAnalysis` whose JSON schema allows only the ids ``q1`` .. ``q{shown}``, at most
    ``MAX_CITED`` per group, and at most ``max_groups`` groups.

    Under a grammar (llama.cpp) the schema is the generation's limit: unbounded, the local teacher
    listed ids q1, q5, q9, ... q93 of 16 shown until max_tokens, three attempts in a row (211 s
    and 1,800 output tokens an iteration, for nothing). Parsing stays as lenient as
    :class:`ErrorAnalysis` (unknown ids are dropped by the node), so other providers fail nothing.
    """
    ids = [f"q{n}" for n in range(1, shown + 1)]
    group = create_model(
        "ErrorGroup",
        __base__=ErrorGroup,
        __doc__=ErrorGroup.__doc__,
        instance_ids=(
            list[str],
            Field(
                max_length=40,
                description=ErrorGroup.model_fields["instance_ids"].description,
                json_schema_extra={"items": {"type": "string", "enum": ids}, "maxItems": min(shown, MAX_CITED)},
            ),
        ),
    )
    return create_model(
        "ErrorAnalysis",
        __base__=ErrorAnalysis,
        __doc__=ErrorAnalysis.__doc__,
        groups=(list[group], Field(max_length=12, json_schema_extra={"maxItems": max_groups})),  # type: ignore[valid-type]
    )


def format_failure(
    e: EvaluatedInstance, alias: str | None = None, width: int = 300, *, task: Task | None = None
) -> str:
    """One compact line per failure, as shown to the teacher (``alias`` replaces a long id).

    Where the reference answer is a program (a code task), the last column is what the scorer
    saw instead (which test failed and how): the reference program would not fit on a line.
    With ``task``, the question is the task's view of it for the teacher (a VQA image as a short
    scene description, not its JSON reference).
    """
    prompt = e.instance.prompt if task is None else teacher_text(task, e.instance.prompt)
    question = " ".join(prompt.split())[:width]
    student = " ".join((e.extracted_answer or e.prediction or "(no answer)").split())[:80]
    reference = e.instance.answer
    if "\n" in reference:
        reference = "tests: " + " ".join((e.feedback or "failed").split())[:width]
    return f"[{alias or e.instance.id}] {question} | {student} | {reference}"


def failure_columns(failures: list[EvaluatedInstance]) -> str:
    """What :func:`format_failure`'s columns hold, for the prompt that shows them."""
    if any("\n" in e.instance.answer for e in failures):  # a code task: the scorer's test report
        return "[id] problem | student's answer | which test failed and how"
    return "[id] question | student's answer | correct answer"


def analysis_prompt(shown: list[EvaluatedInstance], max_groups: int, task: Task | None = None) -> str:
    """The user prompt that shows ``shown`` (as ``q1``, ``q2``, ...) and asks for groups."""
    # Short aliases instead of long instance ids: fewer tokens to read and write.
    return USER.format(
        failures="\n".join(format_failure(e, f"q{n}", task=task) for n, e in enumerate(shown, 1)),
        columns=failure_columns(shown),
        max_groups=max_groups,
        max_cited=MAX_CITED,
    )


def select_failures(evaluated: list[EvaluatedInstance], limit: int) -> list[EvaluatedInstance]:
    """Failures first, spread across gold skills so one skill can't crowd out the rest."""
    failures = [e for e in evaluated if not e.correct]
    by_skill: dict[str, list[EvaluatedInstance]] = {}
    for e in failures:
        by_skill.setdefault(e.skill or e.instance.gold_skill or "", []).append(e)
    picked: list[EvaluatedInstance] = []
    while len(picked) < limit and any(by_skill.values()):
        for bucket in by_skill.values():
            if bucket and len(picked) < limit:
                picked.append(bucket.pop(0))
    return picked


def error_analysis(state: TeacherState, runtime: Runtime[TeacherContext]) -> dict[str, Any]:
    """Ask the node's model to group failures; ids that don't name a shown failure are dropped."""
    ctx, iteration = runtime.context, state.get("iteration", 0)
    shown = select_failures(state.get("evaluated", []), ctx.settings.failures_shown)
    if not shown:
        trace(runtime, "analysis", node=NODE, iteration=iteration, groups=[], note="no failures to analyse")
        return {"analysis": ErrorAnalysis(groups=[])}
    prompt = messages(SYSTEM, analysis_prompt(shown, ctx.settings.max_skills, ctx.task))
    calls = NodeCalls(runtime, NODE, iteration)
    answer = calls.ask(analysis_schema(len(shown), ctx.settings.max_skills), prompt)
    if answer.value is None:
        return calls.update(analysis=None)
    by_alias = {f"q{n}": e.instance.id for n, e in enumerate(shown, 1)}
    by_alias |= {e.instance.id: e.instance.id for e in shown}  # a model that echoes real ids is fine too
    groups: list[ErrorGroup] = []
    for group in answer.value.groups[: ctx.settings.max_skills]:
        cited = list(dict.fromkeys(by_alias[i] for i in group.instance_ids if i in by_alias))
        if group.name.strip():  # a plain ErrorGroup: the bounded schema's class is not importable on resume
            groups.append(ErrorGroup(name=group.name, description=group.description, instance_ids=cited))
    trace(
        runtime,
        "analysis",
        node=NODE,
        iteration=iteration,
        model=answer.model,
        groups=[g.model_dump() for g in groups],
        failures_shown=len(shown),
    )
    return calls.update(analysis=ErrorAnalysis(groups=groups))
