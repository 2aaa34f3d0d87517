"""policy (skill tree): choose explore or exploit per skill, with a reason, and route accordingly.

The policy is the one named in the settings (``llm``, ``alternating``, ``random``, ``bandit``) or a
callable passed to the graph builder. The LLM policy reads each skill's history from the forest;
anything it leaves out or gets wrong falls back to the handwritten policy, and the fallback is
recorded in the decision's reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Send
from pydantic import BaseModel, Field

from teachgraph.config import TeacherSettings
from teachgraph.nodes.llm import NodeCalls, messages, trace
from teachgraph.nodes.policies import (
    Policy,
    alternating_policy,
    make_bandit_policy,
    make_random_policy,
    root_budgets,
    split_budget,
    working_leaves,
)
from teachgraph.skills import SkillForest
from teachgraph.state import ExplorationInput, SkillAction, TeacherContext, TeacherState

NODE = "policy"

SYSTEM = (
    "You are the planner of a teacher that writes training data for a student model. Each round you "
    "decide, per skill, whether to EXPLORE (add new, distinct subskills to write data for) or to "
    "EXPLOIT (move the data budget between existing subskills, towards those where the student "
    "still improves or still fails)."
)

USER = """Round {iteration}. Data budget this round: {budget} examples in total.

{skills}

Give exactly one action for EACH of these {count} skills: {names}. For each, decide:
- action "explore" with num_new_subskills (1-{explore_n}); the skill's share is split evenly among
  them (for a skill without subskills this creates its first ones), or
- action "exploit" with a quota for each existing subskill: the quotas set how the skill's share is
  divided (0 pauses a subskill; a skill without subskills has only its own quota).
Each skill's whole share is spent. Give a one-sentence reason per skill."""


class QuotaSetting(BaseModel):
    subskill: str = Field(max_length=100, description="Existing subskill name, as shown.")
    quota: int = Field(ge=0)


class PlannedAction(BaseModel):
    skill: str = Field(max_length=100, description="Skill name, as shown.")
    action: Literal["explore", "exploit"]
    reason: str = Field(max_length=400)
    num_new_subskills: int = Field(default=0, ge=0)
    quota_per_new_subskill: int = Field(default=0, ge=0)
    quotas: list[QuotaSetting] = Field(default_factory=list, max_length=12)


class PolicyDecision(BaseModel):
    """The LLM policy's decisions, one per skill."""

    actions: list[PlannedAction] = Field(max_length=12)


def describe_skill(forest: SkillForest, root: str, share: int) -> str:
    """The history the LLM policy sees for one skill."""
    node = forest.node(root)
    # "round N" as in the prompt's header: the full traces showed the local model misreading this
    # history ("iteration 0" next to "Round 0") and "(no subskills yet)" as "nothing to explore".
    points = [p for p in node.accuracy_history if p.split == "validation"]
    history = "; ".join(f"round {p.iteration}: {p.value:.0%} of {p.n}" for p in points)
    accuracy = f"student accuracy {history} (latest {points[-1].value:.0%})" if points else "accuracy not measured"
    lines = [f"Skill {node.name!r} (share {share}): {accuracy}"]
    for leaf in working_leaves(forest, root):
        if leaf == root:
            lines.append("  no subskills yet (explore to create them)")
            continue
        n = forest.node(leaf)
        generated = n.latest_accuracy("generated")
        on_generated = "" if generated is None else f", student accuracy on its generated questions {generated:.0%}"
        lines.append(
            f"  subskill {n.name!r}: quota {n.quota}, examples so far {n.generated_total}, last round {n.generated_last}"
            + on_generated
        )
    return "\n".join(lines)


def _to_action(
    forest: SkillForest, root: str, plan: PlannedAction, share: int, explore_n: int, max_leaves: int
) -> SkillAction | None:
    room = max_leaves - len(forest.children(root))
    if plan.action == "explore" and room > 0:
        n = min(max(plan.num_new_subskills, 1), explore_n, room)
        # The data budget is the run's, not the model's: it picks explore and how many subskills,
        # and each new subskill gets an equal part of this skill's share (a model that asks for
        # less would leave budget unspent and make strategies incomparable at "equal budget").
        quota = max(share // n, 1)
        pause = {leaf: 0 for leaf in working_leaves(forest, root)}
        return SkillAction(skill=root, kind="explore", reason=plan.reason, num_new=n, new_quota=quota, quotas=pause)
    if plan.action == "exploit":
        quotas: dict[str, int] = {}
        for q in plan.quotas:
            path = forest.find(q.subskill, parent=root) or (root if forest.find(q.subskill) == root else None)
            if path is not None:
                quotas[path] = q.quota
        total = sum(quotas.values())
        if not quotas or total == 0:
            return None
        if total != share:  # the model decides the proportions; the share is spent in full
            quotas = split_budget({k: float(v) for k, v in quotas.items()}, share)
        return SkillAction(skill=root, kind="exploit", reason=plan.reason, quotas=quotas)
    return None


# Policies by their ``teacher.policy`` name, each built from the teacher settings.
POLICIES: dict[str, Callable[[TeacherSettings], Policy]] = {
    "alternating": lambda s: alternating_policy,
    "random": lambda s: make_random_policy(s.seed),
    "bandit": lambda s: make_bandit_policy(),
}


def llm_policy(forest: SkillForest, calls: NodeCalls) -> list[SkillAction]:
    """Ask the policy model; fall back to the handwritten policy per skill it got wrong."""
    s, iteration = calls.runtime.context.settings, calls.iteration
    shares = root_budgets(forest, s.examples_per_iteration, with_state=True)
    prompt = messages(
        SYSTEM,
        USER.format(
            iteration=iteration,
            budget=s.examples_per_iteration,
            skills="\n\n".join(describe_skill(forest, r, shares[r]) for r in forest.roots()),
            explore_n=s.explore_subskills,
            count=len(forest.roots()),
            names=", ".join(repr(forest.node(r).name) for r in forest.roots()),
        ),
    )
    answer = calls.ask(PolicyDecision, prompt, purpose="explore/exploit")
    fallback = {
        a.skill: a
        for a in alternating_policy(
            forest,
            iteration=iteration,
            budget=s.examples_per_iteration,
            explore_n=s.explore_subskills,
            max_leaves=s.max_subskills,
            with_state=True,
        )
    }
    planned: dict[str, SkillAction] = {}
    for plan in answer.value.actions if answer.value else []:
        root = forest.find(plan.skill)
        if root is not None and root in shares and root not in planned:
            action = _to_action(forest, root, plan, shares[root], s.explore_subskills, s.max_subskills)
            if action is not None:
                planned[root] = action
    actions = []
    for root in forest.roots():
        if root in planned:
            actions.append(planned[root])
        else:
            fb = fallback[root]
            why = "model failed" if answer.value is None else "model gave no usable decision for this skill"
            actions.append(fb.model_copy(update={"reason": f"fallback to handwritten ({why}): {fb.reason}"}))
    return actions


def make_policy_node(custom: Policy | None = None) -> Callable[..., dict[str, Any]]:
    """Build the policy node; ``custom`` overrides the policy named in the settings."""

    def policy(state: TeacherState, runtime: Runtime[TeacherContext]) -> dict[str, Any]:
        """Decide explore/exploit per root skill and record every decision with its reason."""
        s, iteration = runtime.context.settings, state.get("iteration", 0)
        forest = SkillForest.from_data(state["forest"])
        with_state = state.get("with_state", True)
        calls = NodeCalls(runtime, NODE, iteration)
        kwargs = dict(
            iteration=iteration,
            budget=s.examples_per_iteration,
            explore_n=s.explore_subskills,
            max_leaves=s.max_subskills,
            with_state=with_state,
        )
        if custom is not None:
            actions, name = custom(forest, **kwargs), getattr(custom, "__name__", "custom")
        elif s.policy == "llm" and with_state:  # the one policy that calls a model: it needs the node's calls
            actions, name = llm_policy(forest, calls), "llm"
        else:  # "llm" without state (nothing to decide from) falls back to the handwritten policy
            name = s.policy if s.policy in POLICIES else "alternating"
            actions = POLICIES[name](s)(forest, **kwargs)
        for a in actions:
            trace(
                runtime,
                "decision",
                node=NODE,
                iteration=iteration,
                skill=a.skill,
                policy=name,
                action=a.kind,
                **a.model_dump(exclude={"skill", "kind"}),
            )
        return calls.update(actions=actions, forest=forest.to_data())

    return policy


def route_after_policy(state: TeacherState) -> list[Send] | str:
    """Explore actions fan out to subskill exploration (one branch per skill); else rebalance."""
    explores = [a for a in state.get("actions", []) if a.kind == "explore"]
    if not explores:
        return "rebalance"
    return [
        Send(
            "subskill_exploration",
            ExplorationInput(iteration=state.get("iteration", 0), forest=state["forest"], actions=[a]),
        )
        for a in explores
    ]
