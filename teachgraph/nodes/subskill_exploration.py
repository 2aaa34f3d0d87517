"""subskill_exploration: propose N new, distinct subskills under a skill (one branch per skill).

Names are checked against the skill's existing subskills (case/punctuation-insensitive) and
against each other. Too few: ask once more with the names so far excluded. Too many: truncate.
A remaining shortfall is recorded, never hidden.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from teachgraph.nodes.llm import NodeCalls, bounded, messages, trace
from teachgraph.skills import SkillForest
from teachgraph.skills.names import name_key
from teachgraph.state import ExplorationInput, ExploredSubskills, SkillAction, TeacherContext

NODE = "subskill_exploration"

SYSTEM = (
    "You are an expert curriculum designer. You break a skill into specific, teachable subskills "
    "that a student could practise separately."
)

USER = """Skill: {name} — {description}
{existing}
Propose exactly {n} NEW subskills of this skill, each different from the ones listed and from each
other. Give each a short name and a one-sentence description."""


class ProposedSubskill(BaseModel):
    name: str = Field(max_length=100, description="Short subskill name.")
    description: str = Field(default="", max_length=500, description="One sentence.")


class SubskillProposal(BaseModel):
    """New subskills for one skill."""

    subskills: list[ProposedSubskill] = Field(max_length=12)


def propose(calls: NodeCalls, forest: SkillForest, action: SkillAction) -> list[tuple[str, str]]:
    """Up to ``action.num_new`` distinct new subskills, asking at most twice."""
    node = forest.node(action.skill)
    taken = {name_key(forest.node(c).name) for c in forest.children(action.skill)} | {name_key(node.name)}
    chosen: list[tuple[str, str]] = []
    for _attempt in range(2):
        missing = action.num_new - len(chosen)
        if missing <= 0:
            break
        names = [forest.node(c).name for c in forest.children(action.skill)] + [n for n, _ in chosen]
        existing = ("Existing subskills (do not repeat): " + "; ".join(names) + "\n") if names else ""
        prompt = messages(
            SYSTEM, USER.format(name=node.name, description=node.description, existing=existing, n=missing)
        )
        # The cap is part of a local model's grammar: asked for 1, the 1.5B teacher listed 11 (243 tokens).
        schema = bounded(SubskillProposal, "subskills", ProposedSubskill, missing + 1)
        answer = calls.ask(schema, prompt, skill=action.skill)
        if answer.value is None:
            continue
        for sub in answer.value.subskills:
            key = name_key(sub.name)
            if key and key not in taken and "/" not in sub.name and len(chosen) < action.num_new:
                taken.add(key)
                chosen.append((" ".join(sub.name.split()), sub.description.strip()))
    return chosen


def subskill_exploration(state: ExplorationInput, runtime: Runtime[TeacherContext]) -> dict[str, Any]:
    """Handle one explore action (this node runs once per explored skill, via ``Send``)."""
    iteration = state.get("iteration", 0)
    forest = SkillForest.from_data(state["forest"])
    calls = NodeCalls(runtime, NODE, iteration)
    results = []
    for action in state["actions"]:
        chosen = propose(calls, forest, action)
        shortfall = action.num_new - len(chosen)
        results.append(
            ExploredSubskills(skill=action.skill, quota=action.new_quota, subskills=chosen, shortfall=shortfall)
        )
        trace(
            runtime,
            "subskills",
            node=NODE,
            iteration=iteration,
            skill=action.skill,
            proposed=[n for n, _ in chosen],
            requested=action.num_new,
            shortfall=shortfall,
            quota=action.new_quota,
        )
    return calls.update(explored=results)
