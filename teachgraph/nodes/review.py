"""human_review: a person approves, rejects or edits the validated batch before training sees it.

With ``teacher.review: true`` the teacher graph pauses after validation with LangGraph's
``interrupt()``; the episode's checkpointed thread keeps the batch, so the pause survives the
process (``teachgraph run --resume DIR`` shows it again) and Studio can answer the same interrupt
with ``Command(resume=...)``. The resume value is a :class:`ReviewDecision` as a mapping, addressed to the interrupt by its
id (``Command(resume={interrupt.id: decision})``; LangGraph reads a bare mapping as such a map)::

    {}                                               approve the batch as validated
    {"reject": {"ex-1a2b...": "answer is wrong"}}   reject by example id (or batch number "3")
    {"edit": {"3": {"answer": "42"}}}               edit question / answer / program

A rejection is a verdict like any other (``rejected_by_reviewer`` with the person's reason), so
the example stays in the data file and is never trained on. An edited example is judged again by
validation's checks. Every example records what the person did in ``provenance.review``.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from teachgraph.domain import RejectionReason, TrainingExample, Verdict
from teachgraph.errors import describe_validation_error
from teachgraph.nodes.llm import trace
from teachgraph.nodes.validation import judge, trace_verdict
from teachgraph.skills import SkillForest
from teachgraph.state import TeacherContext, TeacherState
from teachgraph.text import question_key

NODE = "human_review"
EDITABLE = ("question", "answer", "program")


class ExampleEdit(BaseModel):
    """New text for some fields of one example (fields left out keep theirs)."""

    model_config = ConfigDict(extra="forbid")

    question: str | None = None
    answer: str | None = None
    program: str | None = None


class ReviewDecision(BaseModel):
    """What a person decided about one batch; empty = approve it as validated."""

    model_config = ConfigDict(extra="forbid")

    reject: dict[str, str] = Field(default_factory=dict, description="Example id (or batch number) -> reason.")
    edit: dict[str, ExampleEdit] = Field(default_factory=dict, description="Example id (or batch number) -> edit.")


def review_request(iteration: int, examples: list[TrainingExample], error: str | None = None) -> dict[str, Any]:
    """The interrupt payload: the batch as a person reads it (number, id, skill, Q/A, verdict)."""
    return {
        "kind": "review",
        "iteration": iteration,
        "error": error,
        "how": "resume with {} to approve, {'reject': {ID: reason}}, {'edit': {ID: {'answer': ...}}}; ID = id or number",
        "examples": [
            {
                "n": n,
                "id": ex.id,
                "skill": ex.skill,
                "question": ex.input,
                "answer": ex.answer,
                "program": ex.solution_program,
                "accepted": ex.accepted,
                "verdict": ex.verdict.reason.value if ex.verdict else None,
                "detail": ex.verdict.detail if ex.verdict else "",
            }
            for n, ex in enumerate(examples, 1)
        ],
    }


def parse_decision(raw: Any, examples: list[TrainingExample]) -> tuple[ReviewDecision | None, str | None]:
    """Validate a resume value against the batch; ids given as batch numbers become example ids."""
    if raw is None:
        raw = {}
    try:
        decision = ReviewDecision.model_validate(raw)
    except ValidationError as err:
        return None, f"invalid review decision at {describe_validation_error(err, limit=1, root='top')}"
    ids = {ex.id for ex in examples}
    by_number = {str(n): ex.id for n, ex in enumerate(examples, 1)}

    def resolve(key: str) -> str | None:
        key = key.strip()
        return key if key in ids else by_number.get(key)

    reject, edit = {}, {}
    for key, reason in decision.reject.items():
        if (eid := resolve(key)) is None:
            return None, f"no example {key!r} in this batch (ids or numbers 1-{len(examples)})"
        reject[eid] = reason.strip() or "no reason given"
    for key, change in decision.edit.items():
        if (eid := resolve(key)) is None:
            return None, f"no example {key!r} in this batch (ids or numbers 1-{len(examples)})"
        edit[eid] = change
    both = sorted(set(reject) & set(edit))
    if both:
        return None, f"example {both[0]} is both rejected and edited; choose one"
    return ReviewDecision(reject=reject, edit=edit), None


def apply_review(
    examples: list[TrainingExample], decision: ReviewDecision, ctx: TeacherContext, known_questions: set[str]
) -> list[TrainingExample]:
    """The batch after the person's decision (pure apart from re-running edited programs)."""
    out: list[TrainingExample] = []
    for ex in examples:
        if ex.id in decision.reject and ex.accepted:
            reason = decision.reject[ex.id]
            out.append(
                ex.model_copy(
                    update={
                        "verdict": Verdict(
                            accepted=False, reason=RejectionReason.REVIEWER, detail=f"rejected by reviewer: {reason}"
                        ),
                        "provenance": ex.provenance.model_copy(update={"review": f"rejected: {reason}"}),
                    }
                )
            )
        elif ex.id in decision.edit:
            out.append(_edited(ex, decision.edit[ex.id], ctx))
        else:
            what = "approved" if ex.accepted else None  # a validation rejection the person let stand
            out.append(ex.model_copy(update={"provenance": ex.provenance.model_copy(update={"review": what})}))
    pending = [i for i, ex in enumerate(out) if ex.verdict is None]
    if pending:
        # Edited examples face validation again, against everything else the batch keeps.
        seen = set(known_questions) | {question_key(ex.input) for ex in out if ex.accepted}
        judged = judge([out[i] for i in pending], ctx, seen)
        for i, ex in zip(pending, judged, strict=True):
            out[i] = ex
    return out


def _edited(ex: TrainingExample, change: ExampleEdit, ctx: TeacherContext) -> TrainingExample:
    fields = [f for f in EDITABLE if getattr(change, f) is not None]
    question = change.question if change.question is not None else ex.input
    answer = change.answer if change.answer is not None else ex.answer
    program = change.program if change.program is not None else ex.solution_program
    # A changed answer changes the target; a rationale written for the old answer is dropped.
    target = ctx.task.format_target(answer.strip()) if change.answer is not None else ex.target
    return ex.model_copy(
        update={
            "input": question.strip(),
            "answer": answer.strip(),
            "solution_program": program,
            "target": target,
            "verdict": None,
            "provenance": ex.provenance.model_copy(update={"review": "edited: " + ", ".join(fields)}),
        }
    )


def _recount(forest: SkillForest, before: list[TrainingExample], after: list[TrainingExample]) -> None:
    """Move the forest's accepted/rejected counts by what the review changed."""
    delta: dict[str, int] = {}
    for old, new in zip(before, after, strict=True):
        if old.accepted != new.accepted:
            delta[new.skill] = delta.get(new.skill, 0) + (1 if new.accepted else -1)
    for path, d in delta.items():
        if d and path in forest:
            node = forest.node(path)
            forest.update(
                path,
                generated_last=max(node.generated_last + d, 0),
                generated_total=max(node.generated_total + d, 0),
                rejected_total=max(node.rejected_total - d, 0),
            )


def human_review(state: TeacherState, runtime: Runtime[TeacherContext]) -> dict[str, Any]:
    """Pause for a person's decision on the batch (asked again while the decision is invalid)."""
    ctx, iteration = runtime.context, state.get("iteration", 0)
    if not ctx.settings.review:
        return {}
    examples = state.get("examples", [])
    if not examples:
        return {}
    error: str | None = None
    while True:
        # Each interrupt() in a node has its own resume value, so an invalid answer is simply
        # asked for again, with the reason, instead of failing the step.
        decision, error = parse_decision(interrupt(review_request(iteration, examples, error)), examples)
        if decision is not None:
            break
    reviewed = apply_review(examples, decision, ctx, set(state.get("known_questions", [])))
    for old, new in zip(examples, reviewed, strict=True):
        if (new.provenance.review not in (None, "approved")) or old.accepted != new.accepted:
            trace_verdict(runtime, "review", NODE, iteration, new, review=new.provenance.review)
    approved = sum(1 for ex in reviewed if ex.provenance.review == "approved")
    trace(
        runtime,
        "reviewed",
        node=NODE,
        iteration=iteration,
        approved=approved,
        rejected=len(decision.reject),
        edited=len(decision.edit),
        accepted_after=sum(ex.accepted for ex in reviewed),
    )
    forest = SkillForest.from_state(state.get("forest"))
    _recount(forest, examples, reviewed)
    return {"examples": reviewed, "forest": forest.to_data()}
