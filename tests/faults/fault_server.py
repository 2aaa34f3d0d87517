"""A fault-injecting OpenAI-compatible chat server on 127.0.0.1, for reliability tests.

Successful answers come from a script: the responders of :mod:`teachgraph.testing`, chosen by the
name of the tool the request asks for (structured output by function calling), computed from the
prompt, so the same request always gets the same answer. A share ``fail_rate`` of requests fails
instead, with a fault drawn (seeded) from ``faults``:

* ``500``: HTTP 500 with an error body;
* ``429``: HTTP 429 with ``Retry-After``;
* ``slow``: the answer comes after ``slow_s`` seconds, past the client's timeout;
* ``truncated``: HTTP 200 whose JSON body is cut in the middle;
* ``garbage``: HTTP 200 with a body that is not JSON at all;
* ``drop``: the connection is closed without a response.

``plan`` lists outcomes to serve first, in order; ``mode`` overrides everything: ``"401"`` answers every request with HTTP 401 (a revoked key).
:meth:`stop` and :meth:`start` take the server down and bring it back on the same port.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from langchain_core.messages import HumanMessage

from teachgraph.testing import RESPONDERS

TRANSIENT_FAULTS = ("500", "429", "slow", "truncated", "garbage", "drop")
TOOL_TO_NODE = {
    "WrittenBatch": "data_writing",
    "ErrorAnalysis": "error_analysis",
    "SkillInduction": "skill_induction",
    "GroupNames": "skill_induction",  # the structure induction method
    "Labels": "skill_induction",  # two_stage, stage 1
    "Categories": "skill_induction",  # two_stage, stage 2
    "SubskillProposal": "subskill_exploration",
    "PolicyDecision": "policy",
    "Allocation": "allocation",
}


LEAKY_FIELDS = {"name", "description", "question", "rationale", "reason"}


def _leak(value: Any, leaks: list[str], counter: list[int]) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in LEAKY_FIELDS and isinstance(v, str):
                counter[0] += 1
                out[k] = f"{v} {leaks[counter[0] % len(leaks)]}"
            else:
                out[k] = _leak(v, leaks, counter)
        return out
    if isinstance(value, list):
        return [_leak(v, leaks, counter) for v in value]
    return value


def scripted_completion(body: dict[str, Any], leak: list[str] | None = None) -> dict[str, Any]:
    """The chat.completion answering ``body``: a call of the requested tool, from its responder
    (with the ``leak`` strings appended in turn to its free-text fields: a model echoing secrets)."""
    text = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
    tools = body.get("tools") or []
    name = tools[0]["function"]["name"] if tools else "WrittenBatch"
    arguments = RESPONDERS[TOOL_TO_NODE.get(name, "data_writing")]([HumanMessage(text)])
    if leak:
        arguments = json.dumps(_leak(json.loads(arguments), leak, [0]))
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if tools:
        message["tool_calls"] = [
            {"id": "call_0", "type": "function", "function": {"name": name, "arguments": arguments}}
        ]
    else:
        message["content"] = arguments
    return {
        "id": "cmpl-fault",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "fault-model"),
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tools else "stop"}],
        "usage": {"prompt_tokens": len(text) // 4, "completion_tokens": len(arguments) // 4, "total_tokens": 0},
    }


class FaultServer:
    """``server = FaultServer(fail_rate=0.3); server.start(); ... server.stop()``; ``url`` is the /v1 base."""

    def __init__(
        self,
        *,
        fail_rate: float = 0.0,
        faults: tuple[str, ...] = TRANSIENT_FAULTS,
        seed: int = 0,
        retry_after: str = "0.01",
        slow_s: float = 1.5,
        echo: str = "",
        leak: list[str] | None = None,
    ) -> None:
        self.fail_rate, self.faults, self.retry_after, self.slow_s = fail_rate, faults, retry_after, slow_s
        self.mode = "normal"
        self.plan: list[str] = []  # outcomes served first, in order, before any random draw
        self.echo = echo  # text put into every error body (a server that echoes request details)
        self.leak = leak  # text put into every free-text field of the answers (a model that echoes it)
        self.served: Counter[str] = Counter()  # outcome -> count
        self.authorization: set[str] = set()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _choose(self) -> str:
        with self._lock:
            if self.mode == "401":
                return "401"
            if self.plan:
                return self.plan.pop(0)
            if self.fail_rate and self._rng.random() < self.fail_rate:
                return self._rng.choice(self.faults)
            return "ok"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                server.authorization.add(self.headers.get("Authorization", ""))
                outcome = server._choose()
                with server._lock:
                    server.served[outcome] += 1
                if outcome == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if outcome == "slow":
                    time.sleep(server.slow_s)
                    outcome = "ok"
                if outcome == "401":
                    self._send(401, {"error": {"message": f"invalid api key {server.echo}", "type": "auth"}})
                elif outcome == "500":
                    auth = self.headers.get("Authorization", "")
                    self._send(500, {"error": {"message": f"upstream crashed ({auth}) {server.echo}"}})
                elif outcome == "429":
                    self._send(429, {"error": {"message": "rate limited"}}, {"Retry-After": server.retry_after})
                elif outcome == "truncated":
                    data = json.dumps(scripted_completion(body, server.leak)).encode()
                    self._send_bytes(200, data[: len(data) // 2])
                elif outcome == "garbage":
                    self._send_bytes(200, b"<html>\x00\xff bad gateway \x1b[31m</html>")
                else:
                    self._send(200, scripted_completion(body, server.leak))

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                self._send_bytes(status, json.dumps(payload).encode(), headers)

            def _send_bytes(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def start(self) -> FaultServer:
        """Listen (again) on 127.0.0.1, on the same port as before if it was started already."""
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Take the server down: connections are refused until :meth:`start`."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
