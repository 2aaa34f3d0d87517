"""skill_induction methods with scripted models: one skill per instance, stable across iterations,
frames grouped deterministically (issue: skills that match what the student gets wrong)."""

from __future__ import annotations

import re

import pytest

from teachgraph.graphs import teacher as builders
from teachgraph.nodes.induction_methods import FALLBACK_SKILL, FRAMES_KEY
from teachgraph.providers import ScriptedChatModel
from teachgraph.skills import SkillForest
from teachgraph.skills.structure import group_frames, nearest_frame, question_frame
from teachgraph.testing import scripted_model, scripted_router
from tests.graphs.conftest import run_teacher

METHODS = ["structure", "two_stage", "direct"]


def _induce(task, evaluated, method, *, forest=None, iteration=0, router=None):
    events: list[dict] = []
    out = run_teacher(
        builders.skill_list(),
        task,
        evaluated,
        forest=forest,
        iteration=iteration,
        events=events,
        router=router,
        induction=method,
    )
    calls = [e for e in events if e["node"] == "skill_induction" and e["kind"] == "llm_call"]
    return SkillForest.from_data(out["forest"]), calls


@pytest.mark.parametrize("method", METHODS)
def test_every_method_gives_every_instance_one_named_skill(task, evaluated, method):
    forest, calls = _induce(task, evaluated, method)
    assert calls and all(c["data"]["ok"] for c in calls)
    assert set(forest.assignments) == {e.instance.id for e in evaluated}
    assert FALLBACK_SKILL not in forest.roots()
    by_id = {e.instance.id: e.instance for e in evaluated}
    for iid, path in forest.assignments.items():
        gold = by_id[iid].gold_skill.rsplit("/", 1)[-1]
        # The scripted teacher puts gcd/lcm questions under 'divisibility', the rest under 'computation'.
        assert path == ("divisibility" if gold in ("gcd", "lcm") else "computation"), (iid, path)


@pytest.mark.parametrize("method", METHODS)
def test_the_same_instances_get_the_same_skills_in_a_second_iteration(task, evaluated, method):
    first, _ = _induce(task, evaluated, method)
    again = first.copy()
    again.assignments = {}  # the same questions arrive as new instances; the skills stay
    second, calls = _induce(task, evaluated, method, forest=again.to_data(), iteration=1)
    assert second.roots() == first.roots()
    assert second.assignments == first.assignments
    if method == "structure":
        assert calls == []  # every frame is known: no model call at all


def test_structure_asks_the_model_only_about_unseen_frames(task, evaluated):
    model = scripted_model("skill_induction")
    first, _ = _induce(task, evaluated, "structure", router=scripted_router(skill_induction=model))
    known = first.graph.graph[FRAMES_KEY]
    assert set(known) == {question_frame(e.instance.prompt) for e in evaluated}
    prompt = str(model.calls[0][-1].content)
    assert prompt.count("[g") == len(set(known))  # one group per frame, each named once
    assert "student wrong on" in prompt
    # A question worded in a new way is new work; the known ones are not shown again.
    odd = evaluated[0].model_copy(
        update={
            "instance": evaluated[0].instance.model_copy(update={"id": "new/1", "prompt": "How many legs: 3 ducks?"})
        }
    )
    second, calls = _induce(
        task, [*evaluated, odd], "structure", forest=first.to_data(), iteration=1, router=scripted_router()
    )
    assert len(calls) == 1
    assert second.assignments["new/1"] in second.roots()
    assert {k: v for k, v in second.assignments.items() if k != "new/1"} == first.assignments


def test_structure_without_model_output_leaves_questions_in_the_fallback(task, evaluated):
    broken = ScriptedChatModel(responses=["not json"], mode="cycle", script_name="broken")
    forest, calls = _induce(task, evaluated, "structure", router=scripted_router(skill_induction=broken))
    assert calls and not calls[0]["data"]["ok"]
    assert forest.roots() == [FALLBACK_SKILL]
    assert len(forest.instances_of(FALLBACK_SKILL)) == len(evaluated)
    # Fallback frames are not remembered, so a later iteration asks again.
    assert forest.graph.graph[FRAMES_KEY] == {}


def test_frames_ignore_numbers_operators_and_variables():
    assert question_frame("Solve for x: 3*x + 4 = 19") == question_frame("Solve for q: 7*q - 2 = 40") == "solve for"
    assert question_frame("Find the GCD of 12, 18.") == "find the gcd of"


def test_group_frames_keeps_identical_frames_together_and_respects_the_cap():
    frames = ["find the gcd of", "calculate", "find the gcd of", "find the lcm of", "solve for", "calculate"]
    assert group_frames(frames, 10) == [0, 1, 0, 2, 3, 1]
    capped = group_frames(frames, 3)
    assert len(set(capped)) == 3
    assert capped[0] == capped[2] and capped[1] == capped[5]
    assert capped[0] == capped[3]  # the two most alike frames are the ones merged
    assert group_frames(frames, 3) == capped  # deterministic
    with pytest.raises(ValueError):
        group_frames(frames, 0)
    assert nearest_frame("find the lcm of these", ["calculate", "find the lcm of"]) == (1, 0.8)


def test_structure_keeps_apart_groups_a_model_gave_one_name_but_described_apart(task, evaluated):
    """The 1.5B teacher's habit: one name for every group; the descriptions name the rest, at no call."""
    import json

    def first_name_for_all(messages):
        groups = re.findall(r"^\[(g\d+)\]", "\n".join(str(m.content) for m in messages), flags=re.M)
        skills = [
            {"group": g, "name": "arithmetic", "description": f"Students need to solve {g} correctly."} for g in groups
        ]
        return json.dumps({"skills": skills})

    model = ScriptedChatModel(responses=[first_name_for_all], mode="cycle", script_name="one-name")
    forest, calls = _induce(task, evaluated, "structure", router=scripted_router(skill_induction=model))
    assert [c["data"]["purpose"] for c in calls] == ["name groups"]
    roots = forest.roots()
    assert "arithmetic" in roots and "solve g2" in roots and len(roots) >= 3 and FALLBACK_SKILL not in roots
    # The scripted teacher's deliberate merge (same name, same description) stays a merge.
    forest, _ = _induce(task, evaluated, "structure")
    assert sorted(forest.roots()) == ["computation", "divisibility"]
