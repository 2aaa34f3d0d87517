"""Program engine: a branch's shortfall is drawn from the generators that worked (``top_up``)."""

from __future__ import annotations

import json
from collections import Counter

from langchain_core.messages import BaseMessage

from teachgraph.domain import Provenance, TrainingExample
from teachgraph.graphs import teacher as builders
from teachgraph.nodes.program_top_up import plan_top_up
from teachgraph.providers import ScriptedChatModel
from teachgraph.skills import SkillForest
from teachgraph.skills.generator import GeneratorRecord
from teachgraph.state import GeneratorUpdate, SkillAction, WritingJob
from teachgraph.testing import check_responder, scripted_router
from tests.graphs.conftest import run_teacher
from tests.graphs.test_program_engine import CRASHING, GOOD, PROGRAMS


def two_roots_with(quota: int, roots: list[str]):
    """Exploit the first two root skills with ``quota`` each (their names land in ``roots``)."""

    def policy(forest, **_):
        roots[:] = forest.roots()[:2]
        return [
            SkillAction(skill=r, kind="exploit", reason="test", quotas={r: quota if r in roots else 0})
            for r in forest.roots()
        ]

    return policy


def writer_failing_for(roots: list[str]) -> ScriptedChatModel:
    """Writes a good generator for the first root and a crashing one (even when repaired) for the second."""

    def respond(messages: list[BaseMessage]) -> str:
        text = "\n".join(str(m.content) for m in messages)
        if "For each question, write a Python 3 program" in text:
            return check_responder(messages)
        failing = f"for the skill: {roots[1]}" in text
        return json.dumps({"source": CRASHING if failing else GOOD})

    return ScriptedChatModel(responses=[respond], mode="cycle", script_name="program-writer")


def step(task, evaluated, events: list, **settings) -> tuple[dict, list[str]]:
    roots: list[str] = []
    out = run_teacher(
        builders.skill_tree(policy=two_roots_with(6, roots), engine="programs"),
        task,
        evaluated,
        router=scripted_router(data_writing=writer_failing_for(roots)),
        events=events,
        **(PROGRAMS | settings),
    )
    return out, roots


def test_a_skill_without_a_valid_generator_is_refilled_from_one_that_worked(task, evaluated):
    events: list[dict] = []
    out, (good, failing) = step(task, evaluated, events)
    examples = out["examples"]
    assert len(examples) == 12 and all(ex.accepted for ex in examples)
    actions = Counter(ex.provenance.action for ex in examples)
    assert actions == {"exploit": 6, "top_up": 6}
    assert {ex.skill for ex in examples} == {good}  # drawn from the working root's generator, for that root
    assert len({ex.input for ex in examples}) == 12  # fresh seeds: the top-up does not repeat the first draws
    [event] = [e["data"] for e in events if e["kind"] == "top_up"]
    assert event["short"] == {failing: 6} and event["filled"] == 6 and event["unfilled"] == 0
    assert [e["data"]["shortfall"] for e in events if e["kind"] == "written" and e["skill"] == failing] == [6]
    forest = SkillForest.from_data(out["forest"])
    [record] = [g for g in forest.node(good).generators if g.status == "active"]
    assert record.draws == 12 and record.accepted == 12  # both draws credited to the generator
    assert all(g.status == "rejected" for g in forest.node(failing).generators)


def test_top_up_can_be_turned_off(task, evaluated):
    events: list[dict] = []
    out, _ = step(task, evaluated, events, programs={"validation_seeds": 8, "top_up": False})
    assert len(out["examples"]) == 6
    assert not [e for e in events if e["kind"] == "top_up"]


def _job(path: str, quota: int) -> WritingJob:
    return WritingJob(iteration=0, skill_path=path.split("/"), quota=quota)


def _written(path: str, n: int) -> list[TrainingExample]:
    provenance = Provenance(node="data_writing", model="m", iteration=0, skill=path)
    return [
        TrainingExample(
            id=f"{path}-{i}",
            input=f"q{i}",
            target="Answer: 1",
            answer="1",
            skill_path=path.split("/"),
            provenance=provenance,
        )
        for i in range(n)
    ]


def _active(path: str, digest: str) -> GeneratorUpdate:
    return GeneratorUpdate(skill=path, record=GeneratorRecord(hash=digest, source="", status="active"))


def test_a_shortfall_goes_to_its_own_root_first_and_a_generator_that_ran_short_gives_nothing():
    jobs = [_job("a/x", 10), _job("a/y", 10), _job("b/z", 10), _job("a/w", 10)]
    written = _written("a/x", 10) + _written("b/z", 10) + _written("a/w", 4)
    updates = [_active("a/x", "gx"), _active("b/z", "gz"), _active("a/w", "gw")]
    shortfalls, extra, _ = plan_top_up(jobs, written, updates)
    assert shortfalls == {"a/y": 10, "a/w": 6}
    assert extra == {"gx": 16}  # a/w ran out of distinct questions itself; b/z is another root


def test_a_shortfall_with_no_generator_under_its_root_goes_to_every_working_one():
    jobs = [_job("a", 10), _job("b", 10), _job("c", 10)]
    shortfalls, extra, _ = plan_top_up(
        jobs, _written("b", 10) + _written("c", 10), [_active("b", "gb"), _active("c", "gc")]
    )
    assert shortfalls == {"a": 10} and extra == {"gb": 5, "gc": 5}
