"""A chat model that replays canned responses: for tests and for the offline smoke config.

Responses are strings, callables ``messages -> str`` (to compute an answer from the prompt), or
exception instances (raised to simulate a provider failure). Selection:

* ``sequence``: in order; running out raises :class:`ScriptExhaustedError` (a config error: the
  script is too short for the run, which should fail loudly rather than quietly degrade);
* ``cycle``: in order, wrapping around;
* ``hash``: the response index is derived from the sha256 of the prompt text, so the same prompt
  gets the same answer in every process. A run that is killed and resumed therefore replays
  identically, which a sequence cursor (reset by the restart) cannot guarantee.

Script files (``scripted:PATH``) are YAML mapping node names to response lists::

    mode: hash            # optional; sequence (default), cycle or hash
    default:              # used by nodes without their own list
      - '{"answer": 4}'
    data_writing:
      - {question: "2+2?", answer: 4}   # mappings/lists are sent as JSON text
      - raise: "HTTP 500 from upstream" # a single 'raise' key simulates a provider error
      - null                            # an empty reply
      - call: teachgraph.testing:data_writing_responder   # computed from the prompt
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import Field, PrivateAttr

from teachgraph.errors import ConfigError
from teachgraph.providers.messages import estimate_tokens, prompt_text
from teachgraph.providers.results import chat_result

ScriptMode = Literal["sequence", "cycle", "hash"]
Response = str | Callable[[list[BaseMessage]], str] | BaseException


class ScriptExhaustedError(ConfigError):
    """A ``sequence`` script ran out of responses."""


class ScriptedProviderError(RuntimeError):
    """Raised by a scripted ``raise:`` entry, standing in for a provider failure (HTTP 500, ...)."""


class ScriptedChatModel(BaseChatModel):
    """Replays ``responses`` (see the module docstring) and records every call in ``calls``."""

    responses: list[Any]
    mode: ScriptMode = "sequence"
    script_name: str = "scripted"
    calls: list[list[BaseMessage]] = Field(default_factory=list)

    _cursor: int = PrivateAttr(default=0)
    # Graph nodes may call the same model from several threads; the cursor and the call log
    # must advance together.
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, responses: Sequence[Response] | None = None, **kwargs: Any) -> None:
        if responses is not None:
            kwargs["responses"] = list(responses)
        super().__init__(**kwargs)
        if not self.responses:
            raise ConfigError(f"scripted model {self.script_name!r} has no responses")

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"script_name": self.script_name, "mode": self.mode}

    def _pick(self, messages: list[BaseMessage]) -> tuple[int, Response]:
        with self._lock:
            self.calls.append(list(messages))
            if self.mode == "hash":
                digest = hashlib.sha256(prompt_text(messages).encode("utf-8")).hexdigest()
                index = int(digest, 16) % len(self.responses)
            elif self.mode == "cycle":
                index = self._cursor % len(self.responses)
                self._cursor += 1
            else:
                index = self._cursor
                if index >= len(self.responses):
                    raise ScriptExhaustedError(
                        f"scripted model {self.script_name!r} ran out of responses after "
                        f"{len(self.responses)} calls; add responses or use mode 'cycle'/'hash'"
                    )
                self._cursor += 1
            return index, self.responses[index]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        index, response = self._pick(messages)
        if isinstance(response, BaseException):
            raise response
        text = response(messages) if callable(response) else response
        if not isinstance(text, str):
            text = json.dumps(text)
        input_tokens = estimate_tokens(prompt_text(messages))
        output_tokens = estimate_tokens(text)
        return chat_result(
            text, input_tokens, output_tokens, model_name=self.script_name, script_index=index, tokens_estimated=True
        )

    @classmethod
    def from_yaml(cls, path: str | Path, *, node: str | None = None) -> ScriptedChatModel:
        """Load the response list for ``node`` (or ``default``) from a script file."""
        script_path = Path(path)
        mode, lists = load_script(script_path)
        key = node if node is not None and node in lists else "default"
        if key not in lists:
            raise ConfigError(
                f"script {script_path} has no responses for node {node!r} and no 'default' list; "
                f"it has: {', '.join(sorted(lists)) or '(nothing)'}"
            )
        return cls(lists[key], mode=mode, script_name=f"{script_path}#{key}")


def _convert_entry(entry: Any, where: str) -> Response:
    if entry is None:
        return ""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and set(entry) == {"raise"}:
        return ScriptedProviderError(str(entry["raise"]))
    if isinstance(entry, dict) and set(entry) == {"call"}:
        return _import_responder(str(entry["call"]), where)
    if isinstance(entry, dict | list | int | float | bool):
        return json.dumps(entry)
    raise ConfigError(f"{where}: unsupported response entry of type {type(entry).__name__}")


def _import_responder(target: str, where: str) -> Callable[[list[BaseMessage]], str]:
    """``module:function`` -> the function (a responder computing the reply from the prompt)."""
    import importlib

    module_name, _, attr = target.partition(":")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as err:
        raise ConfigError(f"{where}: cannot import responder {target!r} ({err})") from None
    if not callable(fn):
        raise ConfigError(f"{where}: {target!r} is not callable")
    return fn


def load_script(path: Path) -> tuple[ScriptMode, dict[str, list[Response]]]:
    """Parse a script file into ``(mode, {node: responses})``; :class:`ConfigError` if malformed."""
    if not path.is_file():
        raise ConfigError(f"script file {path} does not exist (from a 'scripted:{path}' model)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"script file {path} is not valid YAML: {' '.join(str(err).split())}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"script file {path} must be a mapping of node name -> list of responses")
    mode = data.pop("mode", "sequence")
    if mode not in ("sequence", "cycle", "hash"):
        raise ConfigError(f"script file {path}: mode must be sequence, cycle or hash, not {mode!r}")
    lists: dict[str, list[Response]] = {}
    for node, entries in data.items():
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"script file {path}: {node!r} must be a non-empty list of responses")
        lists[str(node)] = [_convert_entry(e, f"{path}:{node}[{i}]") for i, e in enumerate(entries)]
    return mode, lists
