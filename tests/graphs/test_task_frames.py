"""Generators keep the task's question frames (measured: a subskill "LCM of three numbers" drew
``lcm(a, b, c)`` where the task asks two, and its skill fell from 23% to 8%)."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest
from langchain_core.messages import BaseMessage

from teachgraph.domain import EvaluatedInstance
from teachgraph.nodes.answer_mix import AnswerMix
from teachgraph.providers import ScriptedChatModel
from teachgraph.nodes.question_forms import TaskFrames, frame
from teachgraph.tasks import load_task
from tests.graphs.test_program_engine import step, verdicts, writer


def test_frames_hold_templated_skills_only():
    shown = ["Calculate 6 - 1 + 2.", "Calculate 3 * 2.", "Calculate 5 * 5 * 5.", "Calculate 9 + 9.", "Calculate 1 - 0."]
    arithmetic = TaskFrames.of([*shown, "Calculate 4 * 4."])
    assert arithmetic.templated and arithmetic.frames == {"Calculate N ∘ N.", "Calculate N ∘ N ∘ N."}
    assert arithmetic.on_task("Calculate 70 - 2 * 3.") and arithmetic.on_task("Calculate  7 / 2.")
    assert not arithmetic.on_task("Calculate 1 + 2 + 3 + 4.")  # a term more than the task asks
    assert not arithmetic.on_task("What is 6 - 1 + 2?")  # other wording
    lcm = TaskFrames.of([f"Find the LCM of these numbers: {a}, {b}" for a, b in [(8, 2), (14, 4), (3, 9), (30, 7)]])
    assert lcm.off_task(["Find the LCM of these numbers: 2, 17, 28", "Find the LCM of these numbers: 2, 17"]) == [
        "Find the LCM of these numbers: 2, 17, 28"
    ]
    free_form = TaskFrames.of(
        [f"Tom has {n} apples and {word} pears. How many fruits?" for n, word in [(3, "two")]] * 2
    )
    assert not free_form.templated and free_form.on_task("A train leaves at 9.")  # too few questions to hold to
    gsm = TaskFrames.of(["Ann buys 3 pens.", "Bo runs 5 km.", "Cy reads 2 books.", "Di eats 4 figs."])
    assert not gsm.templated  # every question its own frame: nothing is off-task
    assert frame("Find 3 ** 2 -7") == "Find N ∘ N ∘ N"


@pytest.fixture(scope="module")
def lcm_task():
    return load_task(
        {
            "name": "arithmetic",
            "params": {
                "skills": ["lcm"],
                "train_size": 12,
                "validation_size": 8,
                "test_size": 8,
                "seed": 3,
                "knobs": {"lcm": {"max_value": 30}},
            },
        }
    )


@pytest.fixture(scope="module")
def lcm_evaluated(lcm_task) -> list[EvaluatedInstance]:
    return [
        EvaluatedInstance(instance=i, prediction="Answer: 1", correct=False, score=0.0)
        for i in lcm_task.instances("validation")
    ]


def lcm_generator(numbers: int, stray: float = 0.0) -> str:
    """An LCM generator worded like the task, drawing ``numbers`` numbers (a third with ``stray`` odds)."""
    return (
        "import math\n"
        "def generate(rng):\n"
        f"    k = 3 if rng.random() < {stray} else {numbers}\n"
        "    xs = [rng.randint(2, 3000) for _ in range(k)]\n"
        "    q = 'Find the Least Common Multiple (LCM) of these numbers: ' + ', '.join(map(str, xs))\n"
        "    return {'question': q, 'answer': str(xs[0] + xs[1])}\n"  # the scripted check adds two numbers
    )


def test_an_off_task_generator_is_rejected_with_the_task_frames_and_repaired(lcm_task, lcm_evaluated):
    events: list[dict] = []
    model = writer(lcm_generator(3), lcm_generator(2))
    out = step(lcm_task, lcm_evaluated, model, events, quota=20)
    found = verdicts(events)
    assert [(v["reason"], v["attempt"]) for v in found] == [("off_task", 0), ("accepted", 1)]
    assert "'Find the Least Common Multiple (LCM) of these numbers: N, N'" in found[0]["detail"]
    repair = [c for c in model.calls if "Your previous generator:" in str(c[-1].content)]
    assert "off_task" in str(repair[0][-1].content) and "N, N, N" in str(repair[0][-1].content)
    assert len(out["examples"]) == 20


def test_strays_of_an_accepted_generator_are_skipped_when_drawing(lcm_task, lcm_evaluated):
    events: list[dict] = []
    out = step(lcm_task, lcm_evaluated, writer(lcm_generator(2, stray=0.05)), events, quota=120)
    [verdict] = verdicts(events)
    assert verdict["reason"] == "accepted"
    [drawn] = [e["data"] for e in events if e["kind"] == "drawn"]
    assert drawn["off_task"] > 0 and drawn["kept"] == 120
    assert Counter(ex.input.count(",") for ex in out["examples"]) == {1: 120}  # every example has two numbers


def test_answer_mix_is_read_only_where_answers_repeat():
    from teachgraph.nodes.answer_mix import SLACK

    gcd = AnswerMix.of(["2"] * 13 + ["1"] * 6 + ["3"] * 5 + ["4"] * 3 + ["5"] * 2 + ["6", "7"])
    assert gcd.followed and gcd.shares["2"] == 13 / 31
    assert gcd.cap("1", 100) == math.ceil(SLACK * 6 / 31 * 100) and gcd.cap("99", 100) == gcd.unseen_cap(100) == 10
    assert not AnswerMix.of([str(n) for n in range(40)]).followed  # sums, LCMs: no mix to follow
    assert not AnswerMix.of(["1", "1", "2"]).followed  # too few to read a mix from


@pytest.fixture(scope="module")
def gcd_task():
    return load_task(
        {"name": "arithmetic", "params": {"skills": ["gcd"], "train_size": 12, "validation_size": 40, "test_size": 8}}
    )


UNIFORM_GCD = (
    "import math\n"
    "def generate(rng):\n"
    "    a, b = rng.randint(2, 50), rng.randint(2, 50)\n"
    "    q = f'Find the Greatest Common Divisor (GCD) of these numbers: {a}, {b}. Give only the GCD as your final answer.'\n"
    "    return {'question': q, 'answer': str(math.gcd(a, b))}\n"
)


def gcd_writer() -> ScriptedChatModel:
    """Writes UNIFORM_GCD; answers the independent check with programs printing each GCD."""

    def respond(messages: list[BaseMessage]) -> str:
        text = "\n".join(str(m.content) for m in messages)
        if "For each question, write a Python 3 program" not in text:
            return f"```python\n{UNIFORM_GCD}```"
        pairs = re.findall(r"^\d+\. .*?numbers: (\d+), (\d+)\.", text, flags=re.M)
        return "\n".join(f"```python\nimport math\nprint(math.gcd({a}, {b}))\n```" for a, b in pairs)

    return ScriptedChatModel(responses=[respond], mode="cycle", script_name="gcd-writer")


def test_drawing_follows_the_answer_mix_the_teacher_sees(gcd_task):
    """Uniform pairs answer 1 in about 60% of draws; the task's GCDs far less often (its pairs share
    a factor). Drawing holds each answer near its share of the answers the teacher sees."""
    evaluated = [
        EvaluatedInstance(instance=i, prediction="Answer: 0", correct=False, score=0.0)
        for i in gcd_task.instances("validation")
    ]
    mix = AnswerMix.of([i.answer for i in gcd_task.instances("validation")])
    assert mix.followed and mix.shares["1"] < 0.3
    events: list[dict] = []
    out = step(gcd_task, evaluated, gcd_writer(), events, quota=60)
    [drawn] = [e["data"] for e in events if e["kind"] == "drawn"]
    assert drawn["answer_mix"] and drawn["skewed"] > 0
    answers = Counter(ex.answer for ex in out["examples"])
    # The job's mix also counts its two format examples (both answer 1 here): 9 of 42 answers.
    assert answers["1"] == math.ceil(1.25 * 9 / 42 * 60) == 17  # uniform pairs: about 36 of 60
    assert answers["2"] > answers["1"] and len(out["examples"]) == 60
