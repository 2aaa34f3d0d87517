"""The teacher for images: scene generators through the program engine with a scripted writer.

Answers come from the scene graph (the task's ``item_from_draw``), never from the model; items the
picture cannot answer are refused and replaced; a generator whose items are mostly refused, that
returns no scene, answers one way only or copies eval scenes is rejected with its own reason; the
writer sees scenes described, not their JSON; there is no independent-check call."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from teachgraph.domain import EvaluatedInstance
from teachgraph.graphs import teacher as builders
from teachgraph.providers import ScriptedChatModel
from teachgraph.skills import SkillForest
from teachgraph.state import SkillAction
from teachgraph.tasks.vqa import ShapeScenesTask, image_of, split_image
from teachgraph.tasks.vqa.parsing import parse_question
from teachgraph.tasks.vqa.programs import answer
from teachgraph.testing import scene_generator_source, scripted_router
from tests.graphs.conftest import run_teacher
from tests.graphs.test_program_engine import verdicts

SETTINGS = {
    "engine": "programs",
    "use_gold_skills": True,
    "programs": {"validation_seeds": 10},
    "validation": {"program_timeout_s": 5},
}


@pytest.fixture(scope="module")
def scenes() -> ShapeScenesTask:
    return ShapeScenesTask({"families": ["count"], "train_size": 8, "validation_size": 8, "test_size": 16})


@pytest.fixture(scope="module")
def failures(scenes: ShapeScenesTask) -> list[EvaluatedInstance]:
    return [
        EvaluatedInstance(instance=i, prediction="Answer: 9", correct=False, score=0.0, extracted_answer="9")
        for i in scenes.instances("validation")
    ]


def _exploit(quota: int):
    def policy(forest, **_):
        return [SkillAction(skill=r, kind="exploit", reason="test", quotas={r: quota}) for r in forest.roots()]

    return policy


def writer(*sources: str) -> ScriptedChatModel:
    """The n-th generator reply (first try, then repairs) is ``sources[n]``; ``"complete"`` fills in
    the prompt's own starting program (the scripted VQA writer)."""

    def respond(messages: list[BaseMessage]) -> str:
        text = "\n".join(str(m.content) for m in messages)
        attempt = text.count("Your previous generator:")
        source = sources[min(attempt, len(sources) - 1)]
        return json.dumps({"source": scene_generator_source(text) if source == "complete" else source})

    return ScriptedChatModel(responses=[respond], mode="cycle", script_name="scene-writer")


def step(scenes, failures, model, events, quota: int = 12) -> dict[str, Any]:
    return run_teacher(
        builders.skill_tree(policy=_exploit(quota), engine="programs"),
        scenes,
        failures,
        router=scripted_router(data_writing=model),
        events=events,
        **SETTINGS,
    )


def test_scene_generator_fills_the_quota_with_answers_from_the_scene(scenes, failures):
    events: list[dict] = []
    model = writer("complete")
    out = step(scenes, failures, model, events, quota=20)
    examples = out["examples"]
    assert len(examples) == 20 and all(ex.accepted for ex in examples)
    for ex in examples:
        ref, text = split_image(ex.input)
        assert ref is not None and ex.answer == answer(ref.scene, parse_question(text))  # type: ignore[union-attr]
        assert ex.target == f"Answer: {ex.answer}"
        assert ex.provenance.generator and ex.provenance.seed is not None and ex.skill == "count"
    assert len({ex.input for ex in examples}) == 20 and len({ex.answer for ex in examples}) >= 2
    [verdict] = verdicts(events)
    assert verdict["accepted"] and verdict["stats"]["checked"] == 0 and verdict["stats"]["seeds"] == 10
    purposes = Counter(e["data"]["purpose"] for e in events if e["kind"] == "llm_call" and e["node"] == "data_writing")
    assert purposes == {"write generator": 1}  # no independent check: nothing model-written to check
    prompt = str(model.calls[0][-1].content)
    assert "<image>" not in prompt and "[image 128x128" in prompt  # failures shown as scene descriptions
    assert '"objects": objects' in prompt and "place(rng, objects" in prompt
    forest = SkillForest.from_data(out["forest"])
    [record] = forest.node("count").generators
    assert record.status == "active" and record.accepted == 20
    assert (
        record.source.startswith("def generate(rng):") and record.source.count("def place(") == 1
    )  # the model's code, then the task's helpers
    verdict_events = [e["data"] for e in events if e["kind"] == "verdict"]
    assert verdict_events and all("<image>" not in v["question"] for v in verdict_events)


AMBIGUOUS = (
    "def generate(rng):\n"
    "    n = rng.randint(1, 3)\n"
    "    objects = [{'shape': 'circle', 'color': 'red', 'size': 'small', 'x': 15 + 30 * k, 'y': 20} for k in range(n)]\n"
    "    objects.append({'shape': 'circle', 'color': 'red', 'size': 'small', 'x': 20, 'y': 100})\n"
    "    return {'objects': objects, 'question': 'How many red circles to the left of the red circle are there?'}\n"
)
NO_SCENE = "def generate(rng):\n    return {'question': f'How many circles are there? {rng.random()}'}\n"
ONE_ANSWER = (
    "def generate(rng):\n"
    "    x = rng.randint(20, 100)\n"
    "    return {'objects': [{'shape': 'circle', 'color': 'red', 'size': 'small', 'x': x, 'y': 50}],\n"
    "            'question': 'How many circles are there?'}\n"
)
OFF_FAMILY = (
    "def generate(rng):\n"
    "    x = rng.randint(20, 100)\n"
    "    return {'objects': [{'shape': 'circle', 'color': rng.choice(['red', 'blue']), 'size': 'small', 'x': x,\n"
    "            'y': 50}], 'question': 'Is there a red circle?'}\n"
)


def copying(scenes: ShapeScenesTask) -> str:
    """Copies validation scenes (the writer sees them among the failures), asking a fresh question."""
    objects = [[o.model_dump() for o in image_of(i.prompt).scene.objects] for i in scenes.instances("validation")]  # type: ignore[union-attr]
    return (
        f"SCENES = {objects!r}\n"
        "def generate(rng):\n"
        "    objects = rng.choice(SCENES)\n"
        "    size = rng.choice(['', 'small ', 'large '])\n"
        "    color = rng.choice(['', '', 'red ', 'blue ', 'green ', 'gray ', 'black '])\n"
        "    noun = rng.choice(['shape', 'shape', 'circle', 'triangle', 'rectangle'])\n"
        "    return {'objects': objects, 'question': f'How many {size}{color}{noun}s are there?'}\n"
    )


@pytest.mark.parametrize(
    ("source", "reason", "fragment"),
    [
        (AMBIGUOUS, "refused", "does not answer"),
        (OFF_FAMILY, "refused", "is a exist question"),
        (NO_SCENE, "missing_fields", "no 'objects' list"),
        (ONE_ANSWER, "constant_answer", "all 10 answers are '1'"),
        ("copying", "contaminated", "copy eval items"),
    ],
)
def test_bad_scene_generators_are_rejected_with_their_reason(scenes, failures, source, reason, fragment):
    source = copying(scenes) if source == "copying" else source
    events: list[dict] = []
    out = step(scenes, failures, writer(source), events)
    found = verdicts(events)
    assert [v["reason"] for v in found] == [reason, reason], found
    assert fragment in found[0]["detail"]
    assert out["examples"] == []


def test_a_refused_generator_is_repaired_with_the_reason_shown(scenes, failures):
    events: list[dict] = []
    model = writer(AMBIGUOUS, "complete")
    out = step(scenes, failures, model, events)
    assert [v["reason"] for v in verdicts(events)] == ["refused", "accepted"]
    repair = str(model.calls[1][-1].content)
    assert "It failed validation (refused)" in repair and "does not answer" in repair
    assert len(out["examples"]) == 12 and all(ex.accepted for ex in out["examples"])
