"""Text replies: code asked for in fenced blocks, without a JSON grammar, parsed by the schema."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from teachgraph.nodes.program_contract import CheckPrograms, GeneratorReply
from teachgraph.providers import ModelSpec, resolve_model, structured_call
from teachgraph.providers.text_reply import code_blocks

from .conftest import FakeOpenAIServer, completion
from .test_structured import scripted

SOURCE = "def generate(rng):\n    op = '+'\n    return {'question': f'1 {op} 1?', 'answer': '2'}"
MESSAGES = [SystemMessage("You write programs."), HumanMessage("Write generate(rng).")]


@pytest.mark.parametrize(
    "reply",
    [
        f"```python\n{SOURCE}\n```",
        f"Here it is:\n```py\n{SOURCE}\n```\nIt draws from rng.",
        f"```\n{SOURCE}\n```",
        f"```python\n{SOURCE}\n",  # cut off before the closing fence
        '{"source": ' + __import__("json").dumps(SOURCE) + "}",  # a JSON-era script
        SOURCE,  # bare code
    ],
)
def test_generator_reply_forms(reply: str) -> None:
    assert GeneratorReply.from_text(reply).source == SOURCE


def test_generator_reply_picks_the_block_that_defines_generate() -> None:
    reply = f"```python\nimport math\n```\n```python\n{SOURCE}\n```"
    assert GeneratorReply.from_text(reply).source == SOURCE


def test_check_programs_one_block_each() -> None:
    reply = "1.\n```python\nprint(2)\n```\n2.\n```python\nprint(3)\n```"
    assert CheckPrograms.from_text(reply).programs == ["print(2)", "print(3)"]
    assert CheckPrograms.from_text('{"programs": ["print(1)"]}').programs == ["print(1)"]
    with pytest.raises(ValueError, match="no ```python code blocks"):
        CheckPrograms.from_text("the answer is 2")


def test_code_blocks_ignores_other_languages() -> None:
    assert code_blocks("```json\n{}\n```\n```python\nx = 1\n```") == ["x = 1"]


def test_unusable_reply_is_reasked_with_the_format() -> None:
    model = scripted("I would draw two numbers.", f"```python\n{SOURCE}\n```", method="json_object")
    result = structured_call(model, GeneratorReply, MESSAGES)
    assert result.value is not None and result.value.source == SOURCE
    assert result.attempts == 2 and result.method == "text"
    repair = result.conversation[-1].content
    assert "no ```python code block" in repair and "one ```python code block" in repair


def test_text_reply_sends_no_response_format(
    fake_openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a JSON grammar a coder model loses line-ending quotes: text replies never bind one."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    fake_openai_server.replies = [(200, completion(f"```python\n{SOURCE}\n```"))]
    spec = {"spec": f"openai-compatible:{fake_openai_server.base_url}#m", "structured_method": "json_object"}
    result = structured_call(resolve_model(ModelSpec.parse(spec)), GeneratorReply, MESSAGES)
    assert result.value is not None and result.value.source == SOURCE, result.error
    body = fake_openai_server.requests[0]
    assert "response_format" not in body
    assert "```python code block" in body["messages"][-1]["content"]
