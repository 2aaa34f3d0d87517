"""ScriptedChatModel behaviour and ModelRouter default/override/caching rules."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from teachgraph.errors import ConfigError
from teachgraph.providers import (
    ModelRouter,
    ModelSpec,
    ScriptedChatModel,
    ScriptedProviderError,
    ScriptExhaustedError,
    resolve_model,
)

NODES = (
    "error_analysis",
    "skill_induction",
    "subskill_exploration",
    "policy",
    "data_writing",
    "validation",
)


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "script.yaml"
    path.write_text(
        textwrap.dedent(
            """
            default:
              - "default-1"
              - "default-2"
            data_writing:
              - {question: "2+2?", answer: 4}
              - raise: "HTTP 500 from upstream"
              - null
            """
        )
    )
    return path


# --- ScriptedChatModel ------------------------------------------------------------------------


def test_sequence_mode_records_calls_and_usage() -> None:
    model = ScriptedChatModel(["one", "two"])
    first = model.invoke([HumanMessage("hello there")])
    second = model.invoke("again")
    assert (first.content, second.content) == ("one", "two")
    assert [m[-1].content for m in model.calls] == ["hello there", "again"]
    usage = first.usage_metadata
    assert usage is not None
    assert usage["output_tokens"] == 1 and usage["input_tokens"] >= 3
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    with pytest.raises(ScriptExhaustedError, match="ran out of responses after 2 calls"):
        model.invoke("third")


def test_cycle_callable_and_exception_responses() -> None:
    def echo(messages: list) -> str:
        return f"echo: {messages[-1].content}"

    model = ScriptedChatModel([echo, RuntimeError("boom")], mode="cycle")
    assert model.invoke("hi").content == "echo: hi"
    with pytest.raises(RuntimeError, match="boom"):
        model.invoke("hi")
    assert model.invoke("x").content == "echo: x"  # wrapped around
    assert len(model.calls) == 3


def test_hash_mode_is_deterministic_within_and_across_processes() -> None:
    responses = [f"r{i}" for i in range(7)]
    prompts = [[SystemMessage("sys"), HumanMessage(f"question {i}")] for i in range(12)]
    model = ScriptedChatModel(responses, mode="hash")
    first = [model.invoke(p).content for p in prompts]
    assert [model.invoke(p).content for p in prompts] == first  # order/cursor independent
    assert len(set(first)) > 1  # actually spreads over the list

    code = textwrap.dedent(
        """
        from langchain_core.messages import HumanMessage, SystemMessage
        from teachgraph.providers import ScriptedChatModel
        m = ScriptedChatModel([f"r{i}" for i in range(7)], mode="hash")
        print(",".join(m.invoke([SystemMessage("sys"), HumanMessage(f"question {i}")]).content
                       for i in range(12)))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().split(",") == first


def test_from_yaml_selects_node_list(script: Path) -> None:
    writer = ScriptedChatModel.from_yaml(script, node="data_writing")
    assert writer.invoke("x").content == '{"question": "2+2?", "answer": 4}'
    with pytest.raises(ScriptedProviderError, match="HTTP 500"):
        writer.invoke("x")
    assert writer.invoke("x").content == ""  # null -> empty reply
    other = ScriptedChatModel.from_yaml(script, node="policy")  # falls back to default
    assert other.invoke("x").content == "default-1"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("- just a list\n", "must be a mapping"),
        ("policy: 'not a list'\n", "must be a non-empty list"),
        ("mode: random\ndefault: [a]\n", "mode must be sequence, cycle or hash"),
        ("policy: [a]\n", "no responses for node 'validation' and no 'default' list"),
        ("default: [a\n", "not valid YAML"),
    ],
)
def test_bad_script_files(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=fragment):
        ScriptedChatModel.from_yaml(path, node="validation")


def test_missing_script_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_model(ModelSpec.parse(f"scripted:{tmp_path / 'nope.yaml'}"), node="policy")


# --- ModelRouter ------------------------------------------------------------------------------


def test_router_requires_default() -> None:
    with pytest.raises(ConfigError, match="'default' entry"):
        ModelRouter({"policy": "openai:gpt-4o-mini"})


def test_router_reports_bad_node_spec_with_node_name() -> None:
    with pytest.raises(ConfigError, match=r"model for node 'policy': .*PROVIDER:MODEL"):
        ModelRouter({"default": "openai:gpt-4o-mini", "policy": "gpt-4o"})


def test_router_default_and_per_node_specs(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used")
    router = ModelRouter(
        {
            "default": f"scripted:{script}",
            "error_analysis": "openai-compatible:http://127.0.0.1:9/v1#qwen",
            "data_writing": f"scripted:{script}",
        }
    )
    assert router.specs() == {
        "default": f"scripted:{script}",
        "error_analysis": "openai-compatible:qwen@127.0.0.1:9",
        "data_writing": f"scripted:{script}",
    }
    writer = router.for_node("data_writing")
    policy = router.for_node("policy")
    assert writer.structured_method == policy.structured_method == "prompt"
    assert router.for_node("data_writing") is writer  # cached
    # scripted models are per node: each node reads its own list
    assert writer.chat_model is not policy.chat_model
    assert policy.chat_model.invoke("x").content == "default-1"
    assert writer.chat_model.invoke("x").content.startswith('{"question"')
    analysis = router.for_node("error_analysis")
    assert analysis.structured_method == "function_calling"
    assert analysis.label == "openai-compatible:qwen@127.0.0.1:9"
    assert router.spec_for("skill_induction").provider == "scripted"


def test_router_shares_one_client_per_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used")
    spec = "openai-compatible:http://127.0.0.1:9/v1#qwen"
    router = ModelRouter({"default": spec, "policy": spec})
    assert router.for_node("policy").chat_model is router.for_node("validation").chat_model


def test_router_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used")
    writer_fake = ScriptedChatModel(["w"])
    default_fake = ScriptedChatModel(["d"], mode="cycle")
    router = ModelRouter(
        {"default": "openai:gpt-4o-mini", "policy": "openai:gpt-4o"},
        overrides={"data_writing": writer_fake, "default": default_fake},
    )
    assert router.for_node("data_writing").chat_model is writer_fake
    assert router.for_node("data_writing").structured_method == "prompt"
    # provenance names the injected model itself, not the spec it replaced
    assert router.for_node("data_writing").label == f"scripted:{writer_fake.script_name}"
    # the default override covers nodes without their own entry ...
    for node in ("error_analysis", "validation"):
        assert router.for_node(node).chat_model is default_fake
    # ... but a node with its own spec keeps it
    assert router.for_node("policy").label == "openai:gpt-4o"
    assert router.specs()["data_writing"] == f"scripted:{writer_fake.script_name}"
    with pytest.raises(ConfigError, match="must be a BaseChatModel"):
        ModelRouter({"default": "openai:gpt-4o"}, overrides={"policy": "not a model"})  # type: ignore[dict-item]


def test_router_lets_tests_assert_which_model_a_node_called() -> None:
    fakes = {node: ScriptedChatModel([f"from {node}"], mode="cycle") for node in NODES}
    router = ModelRouter({"default": "openai:gpt-4o-mini"}, overrides=fakes)
    for node in NODES:
        reply = router.for_node(node).chat_model.invoke([HumanMessage(f"to {node}")])
        assert isinstance(reply, AIMessage) and reply.content == f"from {node}"
    for node, fake in fakes.items():
        assert [c[-1].content for c in fake.calls] == [f"to {node}"]
