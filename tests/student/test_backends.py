"""The evaluation-only backends: openai-compatible (against a local fake server) and vLLM."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from teachgraph.errors import MissingDependencyError, StudentError
from teachgraph.student import (
    OpenAICompatibleStudent,
    StudentConfig,
    TrainingPair,
    VLLMStudent,
    build_student,
)


class _ChatHandler(BaseHTTPRequestHandler):
    """Answers /v1/chat/completions with the upper-cased user message."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        if body["messages"][0]["content"] == "fail":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "boom"}}')
            return
        payload = {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {
                        "role": "assistant",
                        "content": " " + body["messages"][0]["content"].upper() + "\n",
                    },
                }
            ],
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass


@pytest.fixture
def fake_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChatHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _ChatHandler.requests = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def openai_config(base_url: str) -> StudentConfig:
    return StudentConfig(kind="openai-compatible", base_url=base_url, served_model="smol", max_new_tokens=7)


def test_openai_compatible_predicts_in_order(fake_server: str) -> None:
    student = build_student(openai_config(fake_server))
    assert isinstance(student, OpenAICompatibleStudent)
    prompts = [f"q{i}" for i in range(10)]
    assert student.predict(prompts) == [p.upper() for p in prompts]
    sent = _ChatHandler.requests[0]
    assert sent["model"] == "smol"
    assert sent["temperature"] == 0.0
    assert sent["max_tokens"] == 7  # not max_completion_tokens (ignored by llama.cpp's server)
    assert student.predict([]) == []


def test_openai_compatible_errors(fake_server: str, tmp_path: Path) -> None:
    student = build_student(openai_config(fake_server).model_copy(update={"request_timeout_s": 5}))
    with pytest.raises(StudentError, match="cannot be trained; use kind: hf"):
        student.train([TrainingPair(prompt="a", target="b")], tmp_path)
    with pytest.raises(StudentError, match="cannot load adapter"):
        student.load_adapter(tmp_path)
    student.load_adapter(None)
    with pytest.raises(StudentError, match="failed for model 'smol'"):
        student.predict(["fail"])


def test_openai_compatible_needs_url_and_model() -> None:
    with pytest.raises(ValueError, match="needs base_url and served_model"):
        StudentConfig(kind="openai-compatible", base_url="http://x/v1")


def test_missing_vllm_gives_clear_error(tiny_config: StudentConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes `import vllm` raise ImportError, installed or not.
    monkeypatch.setitem(sys.modules, "vllm", None)
    student = build_student(tiny_config.model_copy(update={"kind": "vllm"}))
    assert isinstance(student, VLLMStudent)
    with pytest.raises(MissingDependencyError) as info:
        student.predict(["What is 2+3?"])
    assert str(info.value) == (
        "vLLM evaluation needs the 'vllm' package, which is not installed; "
        "install it with: pip install 'teachgraph[gpu]'"
    )
    assert student.predict([]) == []
