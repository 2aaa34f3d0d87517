"""skill_induction: name skills from the task's instances and assign every instance to exactly one.

The method is ``teacher.induction`` (measured against gold labels in
``benchmarks/skill_induction.py``):

* ``structure`` (default): questions are grouped by their frame, the wording left when numbers
  and symbols are removed (:mod:`teachgraph.skills.structure`); the model only names the groups,
  in one short call, and may give groups that test the same skill the same name.
* ``two_stage``: DataEnvGym's method (dataenvgym.md §2.2): the model names one fine skill per
  question, then groups the names into categories.
* ``direct``: the model names skills and assigns every question in one call per chunk.

Skills are merged into the forest across iterations: names are matched case- and
punctuation-insensitively against existing skills, so the forest keeps stable names and no
duplicates. Instances already assigned keep their skill; only new ones are sent to the model,
and existing skills are offered to it first (``structure`` assigns a new question whose frame it
has seen before without asking). With ``use_gold_skills`` the task's own labels stand in.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from teachgraph.domain import EvaluatedInstance
from teachgraph.nodes.induction_methods import (
    FALLBACK_SKILL,
    NODE,
    Induced,
    assign_fallback,
    existing_skills_text,
    structure_assign,
    two_stage_assign,
)
from teachgraph.nodes.llm import NodeCalls, messages, trace
from teachgraph.skills import SkillForest
from teachgraph.state import TeacherContext, TeacherState

__all__ = ["FALLBACK_SKILL", "skill_induction"]

CHUNK = 30  # instances per call: keeps prompts within a small local model's context

SYSTEM = (
    "You are an expert curriculum designer. You name the skills a student needs to solve "
    "questions, at a useful level of detail for writing practice material."
)

USER = """Here are questions from a {task} task. Each line: [id] question.

{questions}

{existing}Name at most {max_skills} skills (short, specific, mutually exclusive) that together cover
these questions, with a one-sentence description each. Then assign EVERY question id above to
exactly one skill name from your list."""


class InducedSkill(BaseModel):
    name: str = Field(max_length=100, description="Short skill name, e.g. 'greatest common divisor'.")
    description: str = Field(default="", max_length=500, description="One sentence.")


class Assignment(BaseModel):
    id: str = Field(max_length=200, description="Question id exactly as shown.")
    skill: str = Field(max_length=100, description="One of the skill names.")


class SkillInduction(BaseModel):
    """Skills named by the model and the assignment of every question to one of them."""

    skills: list[InducedSkill] = Field(max_length=16)
    assignments: list[Assignment] = Field(max_length=CHUNK + 10)


def _gold_assign(forest: SkillForest, ctx: TeacherContext, pending: list[EvaluatedInstance]) -> None:
    descriptions = {g.name: g.description for g in ctx.task.gold_skills() or []}
    for e in pending:
        label = e.instance.gold_skill or FALLBACK_SKILL
        # Gold labels may be paths ("arithmetic/gcd"): the last segment names the skill.
        name = label.rsplit("/", 1)[-1]
        path = forest.find(name) or forest.add_skill(
            name, description=descriptions.get(label, descriptions.get(name, "")), gold_label=e.instance.gold_skill
        )
        forest.assign(e.instance.id, path)


def _direct_assign(
    forest: SkillForest, runtime: Runtime[TeacherContext], pending: list[EvaluatedInstance], iteration: int
) -> Induced:
    ctx = runtime.context
    out = Induced(NodeCalls(runtime, NODE, iteration))
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start : start + CHUNK]
        existing = forest.roots()
        room = max(ctx.settings.max_skills - len(existing), 0)
        prompt = messages(
            SYSTEM,
            USER.format(
                task=ctx.task.name,
                # Short aliases instead of long ids: the model writes one per assignment.
                questions="\n".join(
                    f"[q{n}] {' '.join(e.instance.prompt.split())[:300]}" for n, e in enumerate(chunk, 1)
                ),
                existing=existing_skills_text(forest),
                max_skills=max(room, 1) if not existing else ctx.settings.max_skills,
            ),
        )
        answer = out.calls.ask(SkillInduction, prompt, purpose="induce+assign")
        name_to_path: dict[str, str] = {}
        if answer.value is not None:
            for skill in answer.value.skills:
                path = forest.find(skill.name)
                if path is None and len(forest.roots()) < ctx.settings.max_skills and skill.name.strip():
                    path = forest.add_skill(skill.name, description=skill.description, iteration=iteration)
                if path is not None:
                    name_to_path[skill.name.strip().lower()] = path
            by_alias = {f"q{n}": e.instance.id for n, e in enumerate(chunk, 1)} | {
                e.instance.id: e.instance.id for e in chunk
            }
            for a in answer.value.assignments:
                path = name_to_path.get(a.skill.strip().lower()) or forest.find(a.skill)
                iid = by_alias.get(a.id.strip().strip("[]"))
                if iid is not None and path is not None and iid not in forest.assignments:
                    forest.assign(iid, path)
        out.fallbacks += assign_fallback(forest, chunk, iteration)
    return out


def skill_induction(state: TeacherState, runtime: Runtime[TeacherContext]) -> dict[str, Any]:
    """Induce/merge skills, assign instances, and record per-skill accuracy when the teacher sees state."""
    ctx, iteration = runtime.context, state.get("iteration", 0)
    forest = SkillForest.from_state(state.get("forest"))
    evaluated = state.get("evaluated", [])
    pending = [e for e in evaluated if e.instance.id not in forest.assignments]
    induced = Induced(NodeCalls(runtime, NODE, iteration))
    source = "assigned earlier"
    if pending:
        if ctx.settings.use_gold_skills and ctx.task.gold_skills():
            _gold_assign(forest, ctx, pending)
            source = "gold labels"
        else:
            method = ctx.settings.induction
            if method == "structure":
                induced = structure_assign(
                    forest, runtime, pending, iteration, system=SYSTEM, show_results=state.get("with_state", True)
                )
            elif method == "two_stage":
                induced = two_stage_assign(forest, runtime, pending, iteration, system=SYSTEM)
            else:
                induced = _direct_assign(forest, runtime, pending, iteration)
            source = f"model ({method})"
    # Attach each instance's root skill so later nodes can pick errors per skill.
    root_of = {iid: path.split("/")[0] for iid, path in forest.assignments.items()}
    evaluated = [e.model_copy(update={"skill": root_of.get(e.instance.id)}) for e in evaluated]
    if state.get("with_state", True):
        for root in forest.roots():
            mine = [e for e in evaluated if e.skill == root]
            if mine:
                forest.record_accuracy(
                    root,
                    iteration=iteration,
                    split="validation",
                    value=sum(e.correct for e in mine) / len(mine),
                    n=len(mine),
                )
    trace(
        runtime,
        "skills",
        node=NODE,
        iteration=iteration,
        source=source,
        skills={r: forest.node(r).description for r in forest.roots()},
        newly_assigned=len(pending),
        fallback_assignments=induced.fallbacks,
        sizes={r: len(forest.instances_of(r)) for r in forest.roots()},
    )
    return induced.calls.update(forest=forest.to_data(), evaluated=evaluated)
