"""A local OpenAI-compatible chat server that answers after a fixed delay (for benchmarks/tests).

It stands in for a remote teacher whose cost is latency, not local compute: every
``/v1/chat/completions`` request sleeps ``latency_s`` and then answers with a tool call to the
requested tool (structured output via function calling), whose arguments come from a responder
in :mod:`teachgraph.testing` chosen by the tool's name. Many requests are served at once.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from langchain_core.messages import HumanMessage

from teachgraph.testing import RESPONDERS

# tool (pydantic schema) name -> the node whose scripted responder answers it
TOOL_TO_NODE = {
    "WrittenBatch": "data_writing",
    "ErrorAnalysis": "error_analysis",
    "SkillInduction": "skill_induction",
    "SubskillProposal": "subskill_exploration",
    "PolicyDecision": "policy",
    "Allocation": "allocation",
}


class LatencyServer:
    """``with LatencyServer(latency_s=0.5) as url: ...`` — url is the ``/v1`` base URL."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        self.requests = 0
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # /v1/models
                self._send({"object": "list", "data": [{"id": "latency-model", "object": "model"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with server._lock:
                    server.requests += 1
                    server._in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server._in_flight)
                try:
                    time.sleep(server.latency_s)
                    self._send(server.complete(body))
                finally:
                    with server._lock:
                        server._in_flight -= 1

            def _send(self, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        text = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
        tools = body.get("tools") or []
        name = tools[0]["function"]["name"] if tools else "WrittenBatch"
        arguments = RESPONDERS[TOOL_TO_NODE.get(name, "data_writing")]([HumanMessage(text)])
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if tools:
            message["tool_calls"] = [
                {"id": "call_0", "type": "function", "function": {"name": name, "arguments": arguments}}
            ]
        else:
            message["content"] = arguments
        return {
            "id": "cmpl-latency",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "latency-model"),
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tools else "stop"}],
            "usage": {
                "prompt_tokens": len(text) // 4,
                "completion_tokens": len(arguments) // 4,
                "total_tokens": (len(text) + len(arguments)) // 4,
            },
        }

    def __enter__(self) -> str:
        self._thread.start()
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
