"""Scripted teacher models for offline tests and notebooks (DSPy's DummyLM idea, per node).

Each responder reads what the node asked for from the prompt (ids, counts, skill names) and
answers with well-formed JSON, deterministically: the same prompt always gets the same answer,
in any process. They exercise the real graph — prompts, parsing, fan-out, validation — without
a real LLM. Use :func:`scripted_router` to get a router where every teacher node has one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable

from langchain_core.messages import BaseMessage

from teachgraph.providers import ModelRouter, ScriptedChatModel
from teachgraph.providers.messages import message_text

Responder = Callable[[list[BaseMessage]], str]


def _text(messages: list[BaseMessage]) -> str:
    return "\n".join(message_text(m) for m in messages)


def _seed(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _ids(text: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"^\[([^\]\s]+)\]", text, flags=re.M)))


def error_analysis_responder(messages: list[BaseMessage]) -> str:
    """Two groups over the cited failures: first half 'sums', second half 'place value'."""
    ids = _ids(_text(messages))
    half = max(len(ids) // 2, 1)
    return json.dumps(
        {
            "groups": [
                {
                    "name": "multi-step sums",
                    "description": "Loses track of intermediate results.",
                    "instance_ids": ids[:half],
                },
                {"name": "place value", "description": "Misaligns digits.", "instance_ids": ids[half:]},
            ]
        }
    )


_DIVISIBILITY = re.compile(r"gcd|lcm|divisor|multiple|common", re.I)
_SKILLS = {
    "computation": "Carrying out arithmetic operations.",
    "divisibility": "Divisors, multiples, gcd and lcm.",
}


def _skill_for(text: str) -> str:
    return "divisibility" if _DIVISIBILITY.search(text) else "computation"


def skill_induction_responder(messages: list[BaseMessage]) -> str:
    """Two skills, 'divisibility' for questions mentioning gcd/lcm/divisors, 'computation' for the
    rest, in the shape each induction method asks for (group names, labels, categories, or
    skills + assignments)."""
    text = _text(messages)
    if "grouped by how they are worded" in text:  # structure: name each group
        blocks = re.findall(r"^\[(g\d+)\][^\n]*\n((?:  - .*\n?)*)", text, flags=re.M)
        names = [{"group": g, "name": _skill_for(body), "description": _SKILLS[_skill_for(body)]} for g, body in blocks]
        return json.dumps({"skills": names})
    if "snake_case" in text:  # two_stage, stage 1: one label per question
        lines = re.findall(r"^\[([^\]\s]+)\] (.*)$", text, flags=re.M)
        return json.dumps({"labels": [{"id": i, "skill": f"{_skill_for(q)}_questions"} for i, q in lines]})
    if "Group these labels" in text:  # two_stage, stage 2
        labels = re.findall(r"^- (\S+) \(\d+\)$", text, flags=re.M)
        cats = {name: [lab for lab in labels if lab.startswith(name)] for name in _SKILLS}
        return json.dumps(
            {"categories": [{"name": n, "description": _SKILLS[n], "members": m} for n, m in cats.items() if m]}
        )
    assignments = [
        {"id": iid, "skill": _skill_for(question)}
        for iid, question in re.findall(r"^\[([^\]\s]+)\] (.*)$", text, flags=re.M)
    ]
    return json.dumps(
        {"skills": [{"name": n, "description": d} for n, d in _SKILLS.items()], "assignments": assignments}
    )


def subskill_responder(messages: list[BaseMessage]) -> str:
    """Exactly the number of subskills asked for, with names unique per prompt."""
    text = _text(messages)
    n = int(m.group(1)) if (m := re.search(r"exactly (\d+) NEW", text)) else 2
    skill = m.group(1).strip() if (m := re.search(r"^Skill: (.*?) —", text, flags=re.M)) else "skill"
    base = _seed(text) % 1000
    return json.dumps(
        {
            "subskills": [
                {"name": f"{skill} drill {base + k}", "description": f"Practice set {base + k}."} for k in range(n)
            ]
        }
    )


NOUNS = ("apples", "pears", "books", "coins", "stamps", "shells", "marbles", "cards")


def generator_source(text: str, *, offset: int = 0) -> str:
    """A correct addition generator; its noun and ranges depend on the prompt (distinct per skill)."""
    seed = _seed(text)
    noun, low = NOUNS[seed % len(NOUNS)], 100 + seed % 500
    return (
        "def generate(rng):\n"
        f"    a = rng.randint({low}, {low + 5000})\n"
        "    b = rng.randint(10, 99)\n"
        f"    q = f'A shop had {{a}} {noun} and received {{b}} more. How many {noun} does it have now?'\n"
        f"    return {{'question': q, 'answer': str(a + b + {offset})}}\n"
    )


def completed_skeleton(text: str) -> str | None:
    """The ``answer = ...`` lines that complete the skeleton in ``text``
    (:mod:`teachgraph.nodes.program_skeleton`), each the sum of its form's first two numbers
    (what :func:`check_responder` computes), or None when ``text`` shows no skeleton."""
    found = re.search(r"```python\n(.*?def generate\(rng\):.*?)```", text, flags=re.S)
    if found is None or "answer = ..." not in found.group(1):
        return None
    lines, names = [], ["0"]
    for line in found.group(1).splitlines():
        if drawn := re.match(r"\s*(\w+(?:, \w+)*) = number\(rng\)", line):
            names = drawn.group(1).split(", ")
        if line.strip() == "answer = ...":
            lines.append(f"answer = {' + '.join(names[:2])}")
    return "\n".join(lines) + "\n"


def check_responder(messages: list[BaseMessage]) -> str:
    """The independent check: for each numbered question, a program adding its first two numbers."""
    programs = []
    for question in re.findall(r"^\d+\. (.*)$", _text(messages), flags=re.M):
        numbers = re.findall(r"\d+", question)[:2]
        programs.append(f"print({' + '.join(numbers) or '0'})")
    return "\n".join(f"```python\n{p}\n```" for p in programs)


def data_writing_responder(messages: list[BaseMessage]) -> str:
    """Examples (direct engine), a generator program or independent-check programs (program engine).

    Direct engine: the number of examples asked for, additions with correct answers and programs.
    """
    text = _text(messages)
    if "Write a Python function generate(rng)" in text:
        asked = text.split(chr(10) * 2 + "Your previous generator:")[0]
        return f"```python\n{completed_skeleton(asked) or generator_source(asked)}```"
    if "For each question, write a Python 3 program" in text:
        return check_responder(messages)
    if "NEW Python programming problems" in text:
        return code_writing_responder(messages)
    n = int(m.group(1)) if (m := re.search(r"Write (\d+) NEW", text)) else 1
    seed = _seed(text)
    examples = []
    for k in range(n):
        a, b = 100 + (seed + 37 * k) % 800, 10 + (seed // 7 + 13 * k) % 90
        examples.append(
            {
                "question": f"A shop had {a} apples and received {b} more. How many apples does it have now?",
                "answer": str(a + b),
                "rationale": f"{a} + {b} = {a + b}.",
                "program": f"print({a} + {b})",
            }
        )
    return json.dumps({"examples": examples})


def code_writing_responder(messages: list[BaseMessage]) -> str:
    """Code examples (direct engine on a code task): "add k" functions with a correct solution and tests."""
    text = _text(messages)
    n = int(m.group(1)) if (m := re.search(r"Write (\d+) NEW", text)) else 1
    seed = _seed(text)
    sections = []
    for k in range(n):
        step = 2 + (seed + 31 * k) % 900
        name = f"add_{step}"
        tests = "\n".join(f"assert {name}({x}) == {x + step}" for x in (0, 1, 7, -3, 100))
        sections.append(
            f"### Problem\nWrite {name}(x: int) -> int, which returns x plus {step}. Example: {name}(1) == {1 + step}\n"
            f"### Solution\n```python\ndef {name}(x: int) -> int:\n    return x + {step}\n```\n"
            f"### Tests\n```python\n{tests}\n```\n"
        )
    return "\n".join(sections)


def policy_responder(messages: list[BaseMessage]) -> str:
    """Explore every skill shown, one new subskill with quota 2, with a reason."""
    names = re.findall(r"^Skill '([^']+)'", _text(messages), flags=re.M)
    return json.dumps(
        {
            "actions": [
                {
                    "skill": n,
                    "action": "explore",
                    "reason": "accuracy is low; try a new angle",
                    "num_new_subskills": 1,
                    "quota_per_new_subskill": 2,
                }
                for n in names
            ]
        }
    )


def allocation_responder(messages: list[BaseMessage]) -> str:
    """Equal quotas of 3 for every skill listed."""
    names = re.findall(r"^- (.+?): accuracy", _text(messages), flags=re.M)
    return json.dumps({"quotas": [{"subskill": n, "quota": 3} for n in names], "reason": "even split"})


RESPONDERS: dict[str, Responder] = {
    "error_analysis": error_analysis_responder,
    "skill_induction": skill_induction_responder,
    "subskill_exploration": subskill_responder,
    "data_writing": data_writing_responder,
    "policy": policy_responder,
    "allocation": allocation_responder,
}


def scripted_model(node: str, name: str | None = None) -> ScriptedChatModel:
    """A scripted model answering like a competent teacher for ``node``."""
    return ScriptedChatModel(responses=[RESPONDERS[node]], mode="cycle", script_name=name or f"fake-{node}")


def scripted_router(**overrides: ScriptedChatModel) -> ModelRouter:
    """A router where every teacher node has its scripted model (``overrides`` replace some)."""
    models = {node: scripted_model(node) for node in RESPONDERS} | overrides
    return ModelRouter({"default": "scripted:inline"}, overrides=models)
