"""The program data engine with scripted teachers: generators written, validated stage by stage,
repaired, stored on the forest, re-drawn without LLM calls, and probed (issue: data engine)."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from teachgraph.domain import RejectionReason
from teachgraph.graphs import teacher as builders
from teachgraph.providers import ScriptedChatModel
from teachgraph.skills import SkillForest
from teachgraph.state import SkillAction
from teachgraph.testing import check_responder, generator_source, scripted_router
from tests.graphs.conftest import run_teacher

PROGRAMS = {"engine": "programs", "programs": {"validation_seeds": 8}, "validation": {"program_timeout_s": 3}}


def only_first_root(quota: int):
    """Exploit the first root skill with ``quota``; pause the others."""

    def policy(forest, **_):
        return [
            SkillAction(skill=r, kind="exploit", reason="test", quotas={r: quota if i == 0 else 0})
            for i, r in enumerate(forest.roots())
        ]

    return policy


def writer(*sources: str) -> ScriptedChatModel:
    """A writer whose n-th generator reply (first try, then repairs) is ``sources[n]`` (the last repeats);
    independent checks are answered correctly."""

    def respond(messages: list[BaseMessage]) -> str:
        text = "\n".join(str(m.content) for m in messages)
        if "For each question, write a Python 3 program" in text:
            return check_responder(messages)
        attempt = text.count("Your previous generator:")
        return json.dumps({"source": sources[min(attempt, len(sources) - 1)]})

    return ScriptedChatModel(responses=[respond], mode="cycle", script_name="program-writer")


def step(task, evaluated, model: ScriptedChatModel, events: list, quota: int = 6, **settings: Any) -> dict[str, Any]:
    return run_teacher(
        builders.skill_tree(policy=only_first_root(quota), engine="programs"),
        task,
        evaluated,
        router=scripted_router(data_writing=model),
        events=events,
        **(PROGRAMS | settings),
    )


def verdicts(events: list[dict]) -> list[dict]:
    return [e["data"] for e in events if e["kind"] == "generator"]


GOOD = generator_source("a skill")
CONSTANT = "def generate(rng):\n    return {'question': 'What is 2 + 3?', 'answer': '5'}\n"
NONDETERMINISTIC = (
    "import random\n"
    "def generate(rng):\n"
    "    a, b = random.SystemRandom().randint(100, 999), random.randint(100, 999)\n"
    "    return {'question': f'What is {a} + {b}?', 'answer': str(a + b)}\n"
)
CRASHING = (
    "def generate(rng):\n    a = rng.randint(1, 9)\n    return {'question': f'What is {a}/0?', 'answer': str(a / 0)}\n"
)
HANGING = "def generate(rng):\n    while True:\n        pass\n"
CONSTANT_ANSWER = (
    "def generate(rng):\n    a = rng.randint(1, 10**6)\n    return {'question': f'What is {a} - {a}?', 'answer': '0'}\n"
)
MISSING_FIELDS = "def generate(rng):\n    return {'text': str(rng.random())}\n"


def copying(task) -> str:
    """Copies validation items, with a cosmetic suffix so its questions still look distinct."""
    items = [(i.prompt, i.answer) for i in task.instances("validation")]
    return (
        f"ITEMS = {items!r}\n"
        "def generate(rng):\n"
        "    q, a = rng.choice(ITEMS)\n"
        "    return {'question': q + f' (variant {rng.randint(1, 10**6)})', 'answer': a}\n"
    )


def test_one_llm_call_fills_a_quota_with_provenance(task, evaluated):
    events: list[dict] = []
    out = step(task, evaluated, writer(GOOD), events, quota=30)
    examples = out["examples"]
    assert len(examples) == 30 and all(ex.accepted for ex in examples)
    forest = SkillForest.from_data(out["forest"])
    root = forest.roots()[0]
    [record] = forest.node(root).generators
    assert record.status == "active" and record.draws == 30 and record.accepted == 30
    assert record.stats.checked == 3 and record.stats.agreed == 3 and record.stats.seeds == 8
    assert {ex.provenance.generator for ex in examples} == {record.hash}
    assert len({ex.provenance.seed for ex in examples}) == 30
    assert all(ex.provenance.node == "data_writing" and ex.solution_program is None for ex in examples)
    purposes = Counter(e["data"]["purpose"] for e in events if e["kind"] == "llm_call" and e["node"] == "data_writing")
    assert purposes == {"write generator": 1, "independent check": 1}


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (generator_source("a skill", offset=1), "check_disagrees"),
        (CONSTANT, "not_diverse"),
        (NONDETERMINISTIC, "nondeterministic"),
        (CRASHING, "crashed"),
        (HANGING, "timed_out"),
        (CONSTANT_ANSWER, "constant_answer"),
        (MISSING_FIELDS, "missing_fields"),
        ("print('no function here')", "no_source"),
        ("copying", "contaminated"),
    ],
)
def test_bad_generators_are_rejected_with_their_own_reason(task, evaluated, source, reason):
    source = copying(task) if source == "copying" else source
    events: list[dict] = []
    out = step(task, evaluated, writer(source), events)
    found = verdicts(events)
    assert [v["reason"] for v in found] == [reason, reason]  # the first version and its one repair
    assert [v["attempt"] for v in found] == [0, 1] and not any(v["accepted"] for v in found)
    assert all(v["detail"] for v in found)
    # The repair is the same program: its verdict stands, without validating (or checking) it again.
    assert found[1]["detail"].startswith("unchanged by the repair: ")
    purposes = Counter(e["data"]["purpose"] for e in events if e["kind"] == "llm_call" and e["node"] == "data_writing")
    assert purposes["independent check"] <= 1
    assert out["examples"] == []
    forest = SkillForest.from_data(out["forest"])
    [record] = forest.node(forest.roots()[0]).generators  # the same source twice is one record
    assert record.status == "rejected" and record.reason == reason and record.draws == 0
    assert any("under-filled" in f.error and "no valid generator" in f.error for f in out["failures"])


def test_code_using_the_global_random_module_is_seeded_like_rng(task, evaluated):
    source = (
        "def generate(rng):\n"  # no import: the harness provides random, seeded per draw
        "    a, b = random.randint(100, 9999), random.randint(10, 99)\n"
        "    return {'question': f'What is {a} + {b}?', 'answer': str(a + b)}\n"
    )
    events: list[dict] = []
    out = step(task, evaluated, writer(source), events)
    assert [v["reason"] for v in verdicts(events)] == ["accepted"]
    assert len(out["examples"]) == 6 and all(ex.accepted for ex in out["examples"])


def test_off_by_one_is_caught_by_the_independent_check(task, evaluated):
    events: list[dict] = []
    step(task, evaluated, writer(generator_source("a skill", offset=1)), events)
    first = verdicts(events)[0]
    assert first["stats"]["checked"] == 3 and first["stats"]["agreed"] == 0
    assert "independent solution gives" in first["sample"]


def test_one_check_program_printing_every_answer_counts_line_by_line(task, evaluated):
    """Small models answer the independent check with one block of prints: its lines are the answers."""

    def respond(messages: list[BaseMessage]) -> str:
        text = "\n".join(str(m.content) for m in messages)
        if "For each question, write a Python 3 program" in text:
            blocks = re.findall(r"```python\n(.*?)\n```", check_responder(messages), flags=re.S)
            return "```python\n" + "\n".join(blocks) + "\n```"
        return f"```python\n{GOOD}```"

    events: list[dict] = []
    out = step(task, evaluated, ScriptedChatModel(responses=[respond], mode="cycle", script_name="w"), events)
    [verdict] = verdicts(events)
    assert verdict["reason"] == "accepted" and verdict["stats"]["agreed"] == 3
    assert len(out["examples"]) == 6


def test_a_failing_generator_is_repaired_once_then_accepted(task, evaluated):
    events: list[dict] = []
    model = writer(CRASHING, GOOD)
    out = step(task, evaluated, model, events)
    found = verdicts(events)
    assert [(v["reason"], v["attempt"]) for v in found] == [("crashed", 0), ("accepted", 1)]
    repair_prompts = [c for c in model.calls if "Your previous generator:" in str(c[-1].content)]
    assert len(repair_prompts) == 1
    assert "ZeroDivisionError" in str(repair_prompts[0][-1].content)  # the error went back to the model
    assert len(out["examples"]) == 6 and all(ex.accepted for ex in out["examples"])
    forest = SkillForest.from_data(out["forest"])
    records = forest.node(forest.roots()[0]).generators
    assert [r.status for r in records] == ["rejected", "active"]
    assert records[1].stats.repaired and records[1].draws == 6


def test_exploit_redraws_stored_generators_without_llm_calls(task, evaluated):
    def explore(forest, **_):
        return [SkillAction(skill=r, kind="explore", reason="t", num_new=2, new_quota=5) for r in forest.roots()]

    first = run_teacher(builders.skill_tree(policy=explore, engine="programs"), task, evaluated, **PROGRAMS)
    forest = SkillForest.from_data(first["forest"])
    leaves = [leaf for leaf in forest.leaves() if forest.node(leaf).active_generators()]
    assert len(leaves) == 4

    def exploit(forest, **_):
        return [
            SkillAction(skill=r, kind="exploit", reason="t", quotas=dict.fromkeys(forest.children(r), 7))
            for r in forest.roots()
        ]

    events: list[dict] = []
    second = run_teacher(
        builders.skill_tree(policy=exploit, engine="programs"),
        task,
        evaluated,
        forest=first["forest"],
        iteration=1,
        events=events,
        **PROGRAMS,
    )
    calls = [e for e in events if e["kind"] == "llm_call" and e["skill"] in leaves]
    assert calls == []
    assert not any(e["kind"] == "generator" for e in events)
    written = {e["skill"]: e["data"] for e in events if e["kind"] == "written"}
    assert all(written[leaf]["llm_calls"] == 0 and written[leaf]["written"] == 7 for leaf in leaves)
    after = SkillForest.from_data(second["forest"])
    old_seeds = {ex.provenance.seed for ex in first["examples"]}
    for leaf in leaves:
        [record] = after.node(leaf).generators
        assert record.hash == forest.node(leaf).generators[0].hash and record.draws == 5 + 7
        drawn = [ex for ex in second["examples"] if ex.skill == leaf]
        assert len(drawn) == 7 and all(ex.accepted and ex.provenance.generator == record.hash for ex in drawn)
        assert not {ex.provenance.seed for ex in drawn} & old_seeds  # fresh seeds


class OracleStudent:
    """Answers every question it is asked correctly, when the answer is the sum of its first two numbers."""

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.adapters: list[Any] = []

    def load_adapter(self, adapter_dir: Any) -> None:
        self.adapters.append(adapter_dir)

    def predict(self, prompts: list[str]) -> list[str]:
        import re

        self.prompts += prompts
        sums = [sum(int(n) for n in re.findall(r"\d+", p)[:2]) for p in prompts]
        return [f"Answer: {s}" for s in sums]


def test_probe_records_accuracy_on_generated_data_and_retires_solved_generators(task, evaluated):
    from teachgraph.config import TeacherSettings
    from teachgraph.state import TeacherContext

    student = OracleStudent()
    settings = TeacherSettings(
        examples_per_iteration=8,
        **(PROGRAMS | {"programs": {"validation_seeds": 8, "probe_sample": 3, "skip_if_solved": 0.9}}),
    )
    ctx = TeacherContext(
        task=task, models=scripted_router(data_writing=writer(GOOD)), settings=settings, student=student
    )
    app = builders.skill_tree(policy=only_first_root(6), engine="programs").compile()
    out = app.invoke(
        {"iteration": 0, "evaluated": evaluated, "forest": {}, "known_questions": [], "adapter": None}, context=ctx
    )
    assert len(student.prompts) == 3 and student.adapters == [None]
    forest = SkillForest.from_data(out["forest"])
    root = forest.roots()[0]
    assert forest.latest_accuracy(root, "generated") == 1.0
    [record] = forest.node(root).generators
    assert record.status == "too_easy" and record.probe_accuracy == 1.0
    assert Counter(ex.verdict.reason for ex in out["examples"]) == {RejectionReason.TOO_EASY: 6}
    assert forest.node(root).generated_last == 0 and forest.node(root).rejected_total == 6


def test_raw_newlines_in_string_literals_are_escaped_again():
    # What a small model's JSON-encoded source often decodes to: "\n" meant inside an f-string.
    from teachgraph.nodes.program_contract import GeneratorReply, escape_raw_newlines

    broken = 'def generate(rng):\n    a = rng.randint(1, 9)\n    return {"question": f"{a} + 1 =\n", "answer": a + 1}\n'
    reply = GeneratorReply(source=broken)
    namespace: dict = {}
    exec(compile(reply.source, "<generator>", "exec"), namespace)
    assert namespace["generate"](__import__("random").Random(0))["question"].endswith("=\n")
    valid = 'x = "a\\nb"  # "quoted" in a comment\ns = """one\ntwo"""\n'
    assert escape_raw_newlines(valid) == valid  # valid code is never changed
    assert escape_raw_newlines("def f(:\n") == "def f(:\n"  # other errors are left for the sandbox to report


def _skeleton_program(start):
    code = start.code.replace("answer = ...", "answer = 0")
    namespace: dict = {}
    exec(compile(code, "<skeleton>", "exec"), namespace)
    return namespace["generate"]


@pytest.mark.parametrize(
    "question",
    ["Calculate 6 - 1 + 2.", 'Find the GCD of 10, 48 ("only" {the} number).', "What is 0 plus 3.5\\?"],
)
def test_skeleton_words_the_question_like_the_task(question):
    """The program the writer is asked to complete draws the task's own question from rng."""
    from random import Random

    from teachgraph.nodes.program_skeleton import skeleton

    start = skeleton([question])
    assert start is not None
    drawn = _skeleton_program(start)(Random(3))["question"]
    assert re.sub(r"\d+", "N", drawn.replace("3.5", "x")) == re.sub(r"\d+", "N", question.replace("3.5", "x"))
    assert skeleton(["Name a colour."]) is None
    with pytest.raises(TypeError, match="a list of questions"):
        skeleton(question)


def test_skeleton_numbers_follow_the_task_digits_and_widen_only_when_too_few():
    """Numbers have the shown numbers' digit counts, as often as shown (chain_sum mixes one- and
    two-digit numbers), within the task's range; a digit more only when too few combinations."""
    from collections import Counter
    from random import Random

    from teachgraph.nodes.program_skeleton import MIN_DISTINCT, skeleton

    shown = ["Add 6 - 1 + 2.", "Add 88 - 55 + 4.", "Add 20 - 31 + 4.", "Add 3 - 2 + 1."]
    generate = _skeleton_program(skeleton(shown))
    numbers = [int(n) for seed in range(400) for n in re.findall(r"\d+", generate(Random(seed))["question"])]
    digits = Counter(len(str(n)) for n in numbers)
    assert set(digits) == {1, 2} and 0.5 < digits[1] / len(numbers) < 0.8  # shown: 8 of 12 have one digit
    assert max(numbers) <= 90 and min(numbers) >= 1  # 88 rounds up to 90; no 0 was shown
    one_digit = skeleton(["Calculate 6 - 9.", "Calculate 2 - 1."])  # 81 pairs: too few, a digit more
    assert "(1, 9), (10, 99)" in one_digit.code and MIN_DISTINCT <= 99 * 99
    many = skeleton(["Calculate 6 - 9 + 2.", "Calculate 2 - 1 * 3."])  # 729 triples: enough
    assert "return rng.randint(1, 9)" in many.code


def test_skeleton_asks_the_forms_as_often_as_the_task_and_failures_weigh_more():
    """One form per generator taught one operator pattern per skill: the skeleton asks the
    commonest forms of the shown questions (at most MAX_SKELETON_FORMS), each as often as it
    weighs (here a failure weighs double)."""
    from random import Random

    from teachgraph.nodes.program_skeleton import MAX_SKELETON_FORMS, skeleton

    shown = ["Calculate 6 - 1 + 2.", "Calculate 3 * 2.", "Calculate 5 * 5.", "Calculate 1 - 1 - 1."]
    shown += ["Calculate 4 + 1.", "Calculate 2 - 2.", "Calculate 8 * 8 * 8.", "Calculate 7 + 7 + 7.", "Calculate 9 + 9 * 9."]
    weights = [2.0] + [1.0] * (len(shown) - 1)
    start = skeleton(shown, weights)
    generate = _skeleton_program(start)
    forms = Counter(re.sub(r"\d+", "N", generate(Random(seed))["question"]) for seed in range(3000))
    assert len(forms) == MAX_SKELETON_FORMS and "each `answer = ...`" in start.prompt
    assert "Calculate N + N * N." not in forms and "Calculate N + N + N." not in forms  # the last shown: left out
    assert abs(forms["Calculate N * N."] / forms["Calculate N - N."] - 2) < 0.4  # shown twice vs once
    assert abs(forms["Calculate N - N + N."] / forms["Calculate N - N."] - 2) < 0.4  # a failure weighs double


SKEWED = (
    "def generate(rng):\n"
    "    a = rng.randint(100, 900)\n"
    "    b = 1000 - a if rng.random() < 0.6 else rng.randint(10, 99)\n"
    "    return {'question': f'What is {a} + {b}?', 'answer': str(a + b)}\n"
)


def test_no_answer_fills_more_than_its_share_of_a_quota(task, evaluated):
    """Three in five draws answer 1000: drawing skips them past a third of the quota and draws more
    (measured: uniform random GCD pairs answer 1 two times in three, and the student learned "1")."""
    events: list[dict] = []
    out = step(task, evaluated, writer(SKEWED), events, quota=12)
    answers = Counter(ex.answer for ex in out["examples"])
    assert len(out["examples"]) == 12 and answers["1000"] == 4
    [drawn] = [e["data"] for e in events if e["kind"] == "drawn"]
    assert drawn["skewed"] > 0 and drawn["kept"] == 12


def test_a_reply_of_answer_lines_completes_the_skeleton():
    """Copying the whole program back cost ~400 output tokens a generator; the answer lines do."""
    from random import Random

    from teachgraph.nodes.program_contract import GeneratorReply
    from teachgraph.nodes.program_skeleton import skeleton

    start = skeleton(["Calculate 6 - 1 + 2.", "Calculate 3 * 2.", "Calculate 5 * 5."])
    assert start.answers_only and start.placeholders == 2
    assert "answer = ...  # form 1, from a, b, c" in start.prompt
    reply = GeneratorReply.from_text("Here:\n```python\nanswer = a * b\nanswer = a - b + c\n```")
    namespace: dict = {}
    exec(compile(start.complete(reply.source), "<generator>", "exec"), namespace)
    for seed in range(20):
        item = namespace["generate"](Random(seed))
        assert str(eval(item["question"].removeprefix("Calculate ").rstrip("."))) == item["answer"]
    assert GeneratorReply.from_text("answer = a * b\nanswer = a - b + c").source.startswith("answer")  # unfenced
    assert start.complete("answer = a * b") is None  # one line for two forms: repaired as lines
    assert start.miscounted("answer = a * b") == (
        "the reply has 1 answer lines and the program 2 forms: one line per form, in the order listed"
    )
    assert start.miscounted(reply.source) is None and start.miscounted(GOOD) is None
    assert start.complete(GOOD) is None  # a whole program stands as it is
    whole = skeleton(["Calculate 6 - 1 + 2."], rationale_example=', "rationale": ...')
    assert not whole.answers_only and whole.complete("answer = a - b + c") is None  # a rationale needs the program


def test_answer_lines_that_fail_are_repaired_as_lines(task, evaluated):
    """The repair shows the failed lines and asks for lines again, not for the whole program."""
    from teachgraph.testing import completed_skeleton

    def respond(messages: list[BaseMessage]) -> str:
        text = "\n".join(str(m.content) for m in messages)
        if "For each question, write a Python 3 program" in text:
            return check_responder(messages)
        lines = completed_skeleton(text.split("\n\nYour previous generator")[0])
        if "Your previous generator" not in text:  # first try: every answer off by one
            lines = "\n".join(f"{line} + 1" for line in lines.splitlines())
        return f"```python\n{lines}\n```"

    model = ScriptedChatModel(responses=[respond], mode="cycle", script_name="lines")
    events: list[dict] = []
    out = step(task, evaluated, model, events)
    assert [(v["reason"], v["attempt"]) for v in verdicts(events)] == [("check_disagrees", 0), ("accepted", 1)]
    repair = next(str(c[-1].content) for c in model.calls if "Your previous generator" in str(c[-1].content))
    assert "(its answer lines):\nanswer = " in repair and "Reply with the corrected lines" in repair
    assert "def generate" not in repair.split("Your previous generator")[1]
    assert len(out["examples"]) == 6


def test_answer_lines_one_short_are_asked_for_again_as_lines(task, evaluated):
    """The local teacher gave 5 lines for 6 forms; asked then for a whole program, it spent ~400
    tokens copying it back. A miscounted reply runs nothing and its repair asks for the lines."""
    from teachgraph.testing import completed_skeleton

    def respond(messages: list[BaseMessage]) -> str:
        text = "\n".join(str(m.content) for m in messages)
        if "For each question, write a Python 3 program" in text:
            return check_responder(messages)
        lines = completed_skeleton(text.split("\n\nYour previous generator")[0]).splitlines()
        if "Your previous generator" not in text:  # first try: one line short (or one too many)
            lines = lines[:-1] if len(lines) > 1 else lines * 2
        return "```python\n" + "\n".join(lines) + "\n```"

    model = ScriptedChatModel(responses=[respond], mode="cycle", script_name="lines")
    events: list[dict] = []
    out = step(task, evaluated, model, events)
    first, second = verdicts(events)
    assert (first["reason"], second["reason"], second["attempt"]) == ("no_source", "accepted", 1)
    assert first["detail"].startswith("the reply has ") and "one line per form" in first["detail"]
    repair = next(str(c[-1].content) for c in model.calls if "Your previous generator" in str(c[-1].content))
    assert "(its answer lines):" in repair and "Reply with the corrected lines" in repair
    assert len(out["examples"]) == 6


TWO_FORMS_ONE_WRONG = (
    "def generate(rng):\n"
    "    a, b = rng.randint(100, 999), rng.randint(10, 99)\n"
    "    if rng.random() < 0.5:\n"
    "        return {'question': f'What is {a} + {b}?', 'answer': str(a + b)}\n"
    "    return {'question': f'What is {a} more than {b}?', 'answer': str(a - b)}\n"  # the check says a + b
)


def test_the_check_covers_every_form_and_a_form_it_disagrees_on_is_never_drawn(task, evaluated):
    """Completed line by line, a generator can get one form wrong and the rest right."""
    events: list[dict] = []
    programs = {"validation_seeds": 8, "check_sample": 1, "check_agreement": 0.5}
    out = step(task, evaluated, writer(TWO_FORMS_ONE_WRONG), events, quota=20, programs=programs)
    [verdict] = verdicts(events)
    # One question of each form is checked, though the sample asked for one question in all.
    assert verdict["reason"] == "accepted" and verdict["stats"]["checked"] == 2 and verdict["stats"]["agreed"] == 1
    assert verdict["stats"]["unchecked_forms"] == ["What is N more than N?"]
    [drawn] = [e["data"] for e in events if e["kind"] == "drawn"]
    assert drawn["unchecked"] > 0 and drawn["kept"] == 20
    assert all("more than" not in ex.input for ex in out["examples"])
