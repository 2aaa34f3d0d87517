"""Quota nodes: ``rebalance`` (skill tree), ``allocation`` (skill list), ``open_ended_targets``.

Each turns decisions into per-(sub)skill quotas on the forest and plans one writing job per
(sub)skill with a positive quota. They are the only writers of quotas, so the forest diff of an
iteration shows exactly what the policy moved.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from teachgraph.nodes.data_writing import plan_jobs
from teachgraph.nodes.llm import NodeCalls, messages, trace
from teachgraph.nodes.policies import root_budgets, split_budget
from teachgraph.nodes.policy import QuotaSetting
from teachgraph.skills import SkillForest
from teachgraph.state import TeacherContext, TeacherState


def _finish(
    state: TeacherState,
    runtime: Runtime[TeacherContext],
    forest: SkillForest,
    before: SkillForest,
    node: str,
    actions: dict[str, str],
) -> dict[str, Any]:
    iteration = state.get("iteration", 0)
    diff = before.diff(forest)
    trace(runtime, "quotas", node=node, iteration=iteration, quotas=forest.quotas(), forest_diff=diff.summary())
    jobs = plan_jobs({**state, "forest": forest.to_data()}, runtime.context, forest, actions)
    return {"forest": forest.to_data(), "jobs": jobs}


def rebalance(state: TeacherState, runtime: Runtime[TeacherContext]) -> dict[str, Any]:
    """Apply the policy's actions: add explored subskills with their quota, set exploit quotas."""
    iteration = state.get("iteration", 0)
    forest = SkillForest.from_data(state["forest"])
    before = forest.copy()
    explored = {e.skill: e for e in state.get("explored", [])}
    for action in state.get("actions", []):
        for path, quota in action.quotas.items():
            if path in forest:
                forest.set_quota(path, quota)
        if action.kind == "explore" and action.skill in explored:
            for name, description in explored[action.skill].subskills:
                path = forest.add_skill(name, parent=action.skill, description=description, iteration=iteration)
                forest.set_quota(path, explored[action.skill].quota)
        if forest.children(action.skill):
            forest.set_quota(action.skill, 0)  # data is written for leaves once a skill has subskills
    # A skill whose exploration produced nothing still writes data for itself, not nothing.
    for action in state.get("actions", []):
        if action.kind == "explore" and not forest.children(action.skill) and forest.node(action.skill).quota == 0:
            forest.set_quota(action.skill, action.new_quota * max(action.num_new, 1))
    return _finish(state, runtime, forest, before, "rebalance", {a.skill: a.kind for a in state.get("actions", [])})


class Allocation(BaseModel):
    """The allocation model's split of the budget over skills."""

    quotas: list[QuotaSetting] = Field(description="One entry per skill: name as shown, and examples to write.")
    reason: str = ""


ALLOC_SYSTEM = "You plan how a teacher spends its data budget across the skills a student is learning."
ALLOC_USER = """Budget: {budget} training examples this round. Skills (validation accuracy; examples written so far):
{skills}
Split the budget across the skills: more examples where the student is weak and can still improve.
Give one quota per skill (whole numbers adding up to at most {budget}) and a one-sentence reason."""


def allocation(state: TeacherState, runtime: Runtime[TeacherContext]) -> dict[str, Any]:
    """Skill list: spend the iteration budget across root skills (error-weighted, uniform or LLM)."""
    ctx, iteration = runtime.context, state.get("iteration", 0)
    s = ctx.settings
    forest = SkillForest.from_data(state["forest"])
    before = forest.copy()
    with_state = state.get("with_state", True)
    calls = NodeCalls(runtime, "allocation", iteration)
    mode = s.allocation if with_state else "uniform"
    quotas = root_budgets(forest, s.examples_per_iteration, with_state=with_state and mode != "uniform")
    reason = "error-weighted: weaker skills get more" if mode == "error_weighted" else "uniform split"
    if mode == "llm":
        lines = []
        for r in forest.roots():
            acc = forest.latest_accuracy(r)
            lines.append(
                f"- {forest.node(r).name}: accuracy {'unknown' if acc is None else f'{acc:.2f}'}; {forest.node(r).generated_total} written"
            )
        answer = calls.ask(
            Allocation,
            messages(ALLOC_SYSTEM, ALLOC_USER.format(budget=s.examples_per_iteration, skills="\n".join(lines))),
        )
        if answer.value is None:
            reason = "fallback to error-weighted (model failed)"
        else:
            asked = {p: q.quota for q in answer.value.quotas if (p := forest.find(q.subskill)) is not None}
            if sum(asked.values()) > 0:
                quotas = dict.fromkeys(forest.roots(), 0) | asked
                if sum(quotas.values()) > s.examples_per_iteration:
                    quotas = split_budget({k: float(v) for k, v in quotas.items()}, s.examples_per_iteration)
                reason = answer.value.reason or "model allocation"
            else:
                reason = "fallback to error-weighted (model allocated nothing)"
    for root, quota in quotas.items():
        forest.set_quota(root, quota)
    trace(runtime, "decision", node="allocation", iteration=iteration, policy=mode, reason=reason, quotas=quotas)
    return calls.update(**_finish(state, runtime, forest, before, "allocation", dict.fromkeys(quotas, "allocate")))


def open_ended_targets(state: TeacherState, runtime: Runtime[TeacherContext]) -> dict[str, Any]:
    """Open-ended: each error-analysis group becomes a target with an equal share of the budget.

    Without state (or when analysis failed) there is one target: general practice for the task.
    Targets are recorded in the forest too, so reports show what the teacher aimed at.
    """
    ctx, iteration = runtime.context, state.get("iteration", 0)
    forest = SkillForest.from_state(state.get("forest"))
    before = forest.copy()
    for path in forest.quotas():
        forest.set_quota(path, 0)
    analysis = state.get("analysis")
    groups = analysis.groups if analysis and state.get("with_state", True) else []
    targets: dict[str, list[str]] = {}
    for g in groups:
        path = forest.find(g.name) or forest.add_skill(g.name, description=g.description, iteration=iteration)
        targets.setdefault(path, []).extend(g.instance_ids)
    if not targets:
        path = forest.find("general practice") or forest.add_skill(
            "general practice", description=f"Questions like those of the {ctx.task.name} task.", iteration=iteration
        )
        targets[path] = []
    for path, share in split_budget(dict.fromkeys(targets, 1.0), ctx.settings.examples_per_iteration).items():
        forest.set_quota(path, share)
    # The instances each group cites are "its" failures: assign them so writers see them.
    for path, ids in targets.items():
        for iid in ids:
            forest.assign(iid, path)
    evaluated = [
        e.model_copy(update={"skill": forest.assignments.get(e.instance.id, "").split("/")[0] or None})
        for e in state.get("evaluated", [])
    ]
    out = _finish(
        {**state, "evaluated": evaluated},
        runtime,
        forest,
        before,
        "open_ended_targets",
        dict.fromkeys(targets, "fix errors"),
    )
    out["evaluated"] = evaluated
    return out
