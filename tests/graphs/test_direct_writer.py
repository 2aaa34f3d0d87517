"""The direct writer (``engine: examples``): sampling with a seed per call, distinct quotas, and
what it is shown of earlier iterations."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import BaseMessage

from teachgraph.domain import RejectionReason
from teachgraph.graphs import teacher as builders
from teachgraph.nodes.llm import with_sampling
from teachgraph.providers import ScriptedChatModel
from teachgraph.providers.resolve import resolve_model
from teachgraph.skills import SkillForest
from teachgraph.state import SkillAction
from teachgraph.testing import scripted_router
from tests.graphs.conftest import run_teacher


def first_root(quota: int):
    def policy(forest, **_):
        return [
            SkillAction(skill=r, kind="exploit", reason="t", quotas={r: quota if i == 0 else 0})
            for i, r in enumerate(forest.roots())
        ]

    return policy


def example(a: int) -> dict[str, Any]:
    return {"question": f"What is {a} + 1000?", "answer": str(a + 1000), "program": f"print({a} + 1000)"}


def test_top_up_replaces_duplicates_so_the_quota_is_distinct(task, evaluated):
    replies = iter([[example(1), example(1), example(2), example(2)], [example(3), example(4)]])
    writer = ScriptedChatModel(
        responses=[lambda _m: json.dumps({"examples": next(replies)})], mode="cycle", script_name="repeats"
    )
    out = run_teacher(
        builders.skill_tree(policy=first_root(4)), task, evaluated, router=scripted_router(data_writing=writer)
    )
    reasons = [ex.verdict.reason for ex in out["examples"]]
    assert len(writer.calls) == 2  # one batch of 4 (2 distinct), one top-up for the missing 2
    assert reasons.count(RejectionReason.ACCEPTED) == 4
    assert reasons.count(RejectionReason.DUPLICATE) == 2
    assert not any("under-filled" in f.error for f in out["failures"])


def test_writer_sees_questions_accepted_for_the_skill_before(task, evaluated):
    first = run_teacher(builders.skill_tree(policy=first_root(2)), task, evaluated)
    forest = SkillForest.from_data(first["forest"])
    root = forest.roots()[0]
    accepted = [ex.input for ex in first["examples"] if ex.accepted]
    assert forest.node(root).recent_questions == accepted
    seen: list[str] = []

    def respond(messages: list[BaseMessage]) -> str:
        seen.append(str(messages[-1].content))
        return json.dumps({"examples": [example(7), example(8)]})

    writer = ScriptedChatModel(responses=[respond], mode="cycle", script_name="sees")
    run_teacher(
        builders.skill_tree(policy=first_root(2)),
        task,
        evaluated,
        router=scripted_router(data_writing=writer),
        forest=first["forest"],
        iteration=1,
    )
    assert seen and all(q[:100] in seen[0] for q in accepted)


def test_sampling_overrides_temperature_and_seed_per_call():
    local = resolve_model("scripted:examples/smoke_script.yaml", node="data_writing")
    assert with_sampling(local, {"temperature": 0.7, "seed": 3}) is local  # a scripted model has neither
    from langchain_openai import ChatOpenAI

    from teachgraph.providers.resolve import ResolvedModel
    from teachgraph.providers.spec import ModelSpec

    chat = ChatOpenAI(model="m", api_key="sk-test", base_url="http://127.0.0.1:9/v1", temperature=0.0)
    resolved = ResolvedModel(ModelSpec.parse("openai-compatible:http://127.0.0.1:9/v1#m"), chat, "function_calling")
    sampled = with_sampling(resolved, {"temperature": 0.7, "seed": 3})
    assert sampled.chat_model.temperature == 0.7 and sampled.chat_model.seed == 3
    assert chat.temperature == 0.0 and chat.seed is None  # the shared model is untouched
