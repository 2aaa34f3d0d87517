"""Teacher graphs with scripted models: one step per environment, provenance, explore/exploit,
model-per-node routing, malformed output, decontamination (issue: teacher graphs)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from teachgraph.domain import RejectionReason
from teachgraph.graphs import teacher as builders
from teachgraph.providers import ScriptedChatModel
from teachgraph.skills import SkillForest
from teachgraph.state import SkillAction
from teachgraph.testing import scripted_model, scripted_router
from tests.graphs.conftest import run_teacher


@pytest.mark.parametrize("environment", ["open_ended", "skill_list", "skill_tree"])
@pytest.mark.parametrize("with_state", [True, False])
def test_one_step_writes_validated_examples_with_provenance(task, evaluated, environment, with_state):
    events: list[dict] = []
    out = run_teacher(
        builders.BUILDERS[environment](with_state=with_state), task, evaluated, events=events, iteration=2
    )
    examples = out["examples"]
    accepted = [ex for ex in examples if ex.accepted]
    assert accepted, [ex.verdict for ex in examples]
    for ex in examples:
        assert ex.verdict is not None
        p = ex.provenance
        assert p.node == "data_writing"
        assert p.model == "scripted:fake-data_writing"
        assert p.iteration == 2
        assert p.skill == ex.skill and ex.skill in SkillForest.from_data(out["forest"])
    # the answer in the target is the verified one
    assert all(ex.target.endswith(f"Answer: {ex.answer}") for ex in accepted)
    # no-state: the teacher never saw a failure
    sources = {i for ex in examples for i in ex.provenance.source_errors}
    if not with_state:
        assert sources == set()
        assert not any(e["node"] == "error_analysis" for e in events)
    elif environment != "open_ended":
        failed = {e.instance.id for e in evaluated if not e.correct}
        assert sources and sources <= failed


def test_every_instance_assigned_to_exactly_one_skill(task, evaluated):
    out = run_teacher(builders.skill_list(), task, evaluated)
    forest = SkillForest.from_data(out["forest"])
    assert set(forest.assignments) == {e.instance.id for e in evaluated}
    assert set(forest.assignments.values()) <= set(forest.roots())


def test_skill_induction_merges_across_iterations(task, evaluated):
    first = run_teacher(builders.skill_list(), task, evaluated, iteration=0)
    second = run_teacher(builders.skill_list(), task, evaluated, iteration=1, forest=first["forest"])
    f1, f2 = SkillForest.from_data(first["forest"]), SkillForest.from_data(second["forest"])
    assert f1.roots() == f2.roots()  # stable names, no duplicates
    assert f1.assignments == f2.assignments


def fixed_explore(n: int, q: int):
    def policy(forest, **_):
        return [
            SkillAction(skill=r, kind="explore", reason="fixed test action", num_new=n, new_quota=q)
            for r in forest.roots()
        ]

    return policy


def test_explore_adds_n_subskills_with_quota_and_writes_quota_less_rejections(task, evaluated):
    n, q = 3, 2
    out = run_teacher(builders.skill_tree(policy=fixed_explore(n, q)), task, evaluated, examples_per_iteration=100)
    forest = SkillForest.from_data(out["forest"])
    for root in forest.roots():
        kids = forest.children(root)
        assert len(kids) == n
        assert all(forest.node(k).quota == q for k in kids)
        assert forest.node(root).quota == 0
    per_skill = Counter(ex.skill for ex in out["examples"] if ex.accepted)
    rejected = Counter(ex.skill for ex in out["examples"] if not ex.accepted)
    for leaf in forest.leaves():
        assert per_skill[leaf] == q - rejected[leaf]
        assert forest.node(leaf).generated_last == per_skill[leaf]


def test_exploit_moves_quota_and_the_diff_shows_it(task, evaluated):
    explored = run_teacher(builders.skill_tree(policy=fixed_explore(2, 2)), task, evaluated)
    before = SkillForest.from_data(explored["forest"])
    root = before.roots()[0]
    a, b = before.children(root)

    def exploit(forest, **_):
        return [SkillAction(skill=root, kind="exploit", reason="move data to b", quotas={a: 0, b: 4})]

    after_out = run_teacher(
        builders.skill_tree(policy=exploit), task, evaluated, forest=explored["forest"], iteration=1
    )
    after = SkillForest.from_data(after_out["forest"])
    assert after.node(a).quota == 0 and after.node(b).quota == 4
    diff = before.diff(after)
    assert diff.changed[a]["quota"] == (2, 0)
    assert diff.changed[b]["quota"] == (2, 4)
    written = Counter(ex.skill for ex in after_out["examples"])
    assert written[a] == 0 and written[b] == 4


def test_node_calls_its_own_configured_model(task, evaluated):
    analyst = scripted_model("error_analysis", name="analyst-model")
    writer = scripted_model("data_writing", name="writer-model")
    router = scripted_router(error_analysis=analyst, data_writing=writer)
    out = run_teacher(builders.open_ended(), task, evaluated, router=router)
    assert analyst.calls and writer.calls
    assert all("diagnoses" in str(call[0].content) for call in analyst.calls)
    assert all("practice questions" in str(call[0].content) for call in writer.calls)
    assert {ex.provenance.model for ex in out["examples"]} == {"scripted:writer-model"}


BAD_OUTPUTS = [
    "this is not json at all",
    '{"examples": "not a list"}',
    "",
    '{"unexpected": true}',
]


@pytest.mark.parametrize("bad", BAD_OUTPUTS)
def test_malformed_writer_output_never_crashes(task, evaluated, bad):
    writer = ScriptedChatModel(responses=[bad], mode="cycle", script_name="broken")
    events: list[dict] = []
    out = run_teacher(
        builders.skill_list(), task, evaluated, router=scripted_router(data_writing=writer), events=events
    )
    assert out["examples"] == []
    failures = out["failures"]
    assert failures and all(f.node == "data_writing" for f in failures)
    assert any(e["kind"] == "failure" and e["node"] == "data_writing" for e in events)
    assert any("under-filled" in f.error for f in failures)


def test_malformed_examples_are_rejected_with_reasons(task, evaluated):
    batch = {
        "examples": [
            {"question": "What is 12 + 30?", "answer": "42", "program": "print(12 + 30)"},  # fine
            {"question": "What is 12 + 31?", "answer": "42", "program": "print(12 + 31)"},  # disagrees
            {"question": "", "answer": "3", "program": "print(3)"},  # empty question
            {"question": "What is 5 * 5?", "answer": "25", "program": "while True: pass"},  # hangs
            {
                "question": "What is 6 * 6?",
                "answer": "36",
                "program": "import os; print(os.environ['OPENAI_API_KEY'])",
            },  # no env
            {"question": "What is 12 + 30?", "answer": "42", "program": "print(40 + 2)"},  # duplicate
            {"question": "What is 9 + 9?", "answer": "18", "program": "print(18)"},  # prints a constant
            {"question": "What is 7 * 7?", "answer": "49"},  # no program
        ]
    }
    writer = ScriptedChatModel(responses=[json.dumps(batch)], mode="cycle", script_name="mixed")

    def one_skill(forest, **_):
        root = forest.roots()[0]
        return [SkillAction(skill=root, kind="exploit", reason="all on one", quotas={root: 8})] + [
            SkillAction(skill=r, kind="exploit", reason="pause", quotas={r: 0}) for r in forest.roots()[1:]
        ]

    out = run_teacher(
        builders.skill_tree(policy=one_skill),
        task,
        evaluated,
        router=scripted_router(data_writing=writer),
        examples_per_iteration=8,
        batch_size=8,
        validation={"program_timeout_s": 2},
    )
    reasons = [ex.verdict.reason for ex in out["examples"]]
    assert reasons[:8] == [
        RejectionReason.ACCEPTED,
        RejectionReason.ANSWER_MISMATCH,
        RejectionReason.MALFORMED,
        RejectionReason.PROGRAM_ERROR,
        RejectionReason.PROGRAM_ERROR,
        RejectionReason.DUPLICATE,
        RejectionReason.MALFORMED,
        RejectionReason.MALFORMED,
    ]
    # Two of the eight were not distinct questions, so the top-up asked again; the scripted
    # writer repeats itself: the one good question comes back as a duplicate, the rest as before.
    assert reasons[8:] == [RejectionReason.DUPLICATE, *reasons[1:8]]
    assert "timed out" in out["examples"][3].verdict.detail
    assert "KeyError" in out["examples"][4].verdict.detail


def test_planted_validation_item_is_rejected_by_decontamination(task, evaluated):
    planted = task.instances("validation")[5]
    test_item = task.instances("test")[3]
    batch = {
        "examples": [
            {
                "question": planted.prompt,
                "answer": planted.answer,
                "program": f"print(str({planted.answer!r}).strip())",
            },
            {
                "question": f"Please solve: {test_item.prompt}",
                "answer": test_item.answer,
                "program": f"print(str({test_item.answer!r}).strip())",
            },
            {
                "question": "A farmer has 1234 sheep and buys 4321 more. How many sheep?",
                "answer": "5555",
                "program": "print(1234 + 4321)",
            },
        ]
    }
    writer = ScriptedChatModel(responses=[json.dumps(batch)], mode="cycle", script_name="leaky")

    def one_skill(forest, **_):
        return [
            SkillAction(skill=r, kind="exploit", reason="t", quotas={r: 3 if i == 0 else 0})
            for i, r in enumerate(forest.roots())
        ]

    out = run_teacher(
        builders.skill_tree(policy=one_skill),
        task,
        evaluated,
        router=scripted_router(data_writing=writer),
        batch_size=3,
    )
    verdicts = [ex.verdict for ex in out["examples"]]
    assert verdicts[0].reason == RejectionReason.CONTAMINATED and planted.id in verdicts[0].detail
    assert verdicts[1].reason == RejectionReason.CONTAMINATED and test_item.id in verdicts[1].detail
    assert verdicts[2].accepted


def test_over_quota_output_is_truncated_and_recorded(task, evaluated):
    many = {
        "examples": [
            {"question": f"What is {i} + 1000?", "answer": str(i + 1000), "program": f"print({i}+1000)"}
            for i in range(6)
        ]
    }
    writer = ScriptedChatModel(responses=[json.dumps(many)], mode="cycle", script_name="chatty")

    def quota2(forest, **_):
        return [
            SkillAction(skill=r, kind="exploit", reason="t", quotas={r: 2 if i == 0 else 0})
            for i, r in enumerate(forest.roots())
        ]

    out = run_teacher(builders.skill_tree(policy=quota2), task, evaluated, router=scripted_router(data_writing=writer))
    reasons = Counter(ex.verdict.reason for ex in out["examples"])
    assert reasons[RejectionReason.ACCEPTED] == 2
    assert reasons[RejectionReason.OVER_QUOTA] == 4


def test_llm_policy_decisions_carry_reasons(task, evaluated):
    events: list[dict] = []
    run_teacher(builders.skill_tree(), task, evaluated, policy="llm", events=events)
    decisions = [e for e in events if e["kind"] == "decision"]
    assert decisions and all(d["data"]["reason"] for d in decisions)
    assert {d["data"]["policy"] for d in decisions} == {"llm"}


@pytest.mark.parametrize("policy", ["alternating", "random", "bandit"])
def test_programmatic_policies_run_two_iterations(task, evaluated, policy):
    first = run_teacher(builders.skill_tree(), task, evaluated, policy=policy, iteration=0)
    second = run_teacher(builders.skill_tree(), task, evaluated, policy=policy, iteration=1, forest=first["forest"])
    assert sum(ex.accepted for ex in second["examples"]) > 0
    forest = SkillForest.from_data(second["forest"])
    assert sum(forest.quotas().values()) <= 8


def test_subskill_exploration_reasks_when_short_and_truncates_when_long(task, evaluated):
    replies = [
        json.dumps({"subskills": [{"name": "alpha"}, {"name": "Alpha "}]}),  # one distinct of 3
        json.dumps(
            {"subskills": [{"name": "beta"}, {"name": "gamma"}, {"name": "delta"}]}
        ),  # re-ask: 2 needed, 3 given
    ]
    explorer = ScriptedChatModel(responses=replies * 10, mode="sequence", script_name="explorer")

    def explore_first(forest, **_):
        return [
            SkillAction(
                skill=r,
                kind="explore" if i == 0 else "exploit",
                reason="t",
                num_new=3,
                new_quota=1,
                quotas={} if i == 0 else {r: 0},
            )
            for i, r in enumerate(forest.roots())
        ]

    out = run_teacher(
        builders.skill_tree(policy=explore_first),
        task,
        evaluated,
        router=scripted_router(subskill_exploration=explorer),
    )
    forest = SkillForest.from_data(out["forest"])
    root = forest.roots()[0]
    assert [forest.node(c).name for c in forest.children(root)] == ["alpha", "beta", "gamma"]
    assert len(explorer.calls) == 2
