"""Turn model specs into LangChain chat models, and route graph nodes to them.

Which structured-output method each provider gets (``ResolvedModel.structured_method``):

* ``openai`` / ``azure_openai`` -> ``json_schema``: native strict structured outputs.
* ``ollama`` -> ``json_schema``: ChatOllama sends the schema as ``format``, which Ollama enforces
  with a grammar for every model, while tool calling only works for tool-trained models.
* other ``init_chat_model`` providers -> ``function_calling``: the one method every LangChain
  integration with tools implements.
* ``openai-compatible`` -> ``function_calling``: vLLM, llama.cpp server and Ollama all accept a
  forced tool call; ``json_schema`` is rejected by llama.cpp's server (HTTP 500).
* ``local`` / ``local-server`` -> ``json_object``: llama.cpp turns ``response_format``
  ``json_object`` + ``schema`` into a grammar, so output is schema-shaped even from a 135M
  model; measured faster than forced tool calls and never runs away.
* ``scripted`` -> ``prompt``: format instructions in the prompt and text parsing, exactly what a
  canned response exercises.

A spec's ``structured_method`` overrides the default.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel

from teachgraph.errors import ConfigError, ProviderError
from teachgraph.providers.spec import ModelSpec, StructuredMethod
from teachgraph.redaction import describe_exception, redact, register_secret

# Providers whose key is a single environment variable; checked up front so a missing key is a
# one-line "set X" instead of a provider-specific traceback on the first call.
API_KEY_ENV: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "mistralai": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "together": "TOGETHER_API_KEY",
    "fireworks": "FIREWORKS_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "xai": "XAI_API_KEY",
    "cohere": "COHERE_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "perplexity": "PPLX_API_KEY",
}

_NATIVE_JSON_SCHEMA = frozenset({"openai", "azure_openai", "ollama"})
# Integrations whose SDK retries are switched off in favour of teachgraph's retry policy.
_OWN_RETRIES = frozenset({"openai", "azure_openai", "anthropic"})


@dataclass
class ResolvedModel:
    """A chat model ready to call, with the spec it came from and how to get structured output."""

    spec: ModelSpec
    chat_model: BaseChatModel
    structured_method: StructuredMethod

    @property
    def label(self) -> str:
        """The secret-free model label recorded in provenance and traces."""
        return self.spec.label


def default_structured_method(spec: ModelSpec) -> StructuredMethod:
    """The structured-output method used for ``spec`` unless it sets one (see module doc)."""
    if spec.structured_method is not None:
        return spec.structured_method
    if spec.provider == "scripted":
        return "prompt"
    if spec.provider in ("local", "local-server"):
        return "json_object"
    if spec.provider == "openai-compatible":
        return "function_calling"
    if spec.provider in _NATIVE_JSON_SCHEMA and not (spec.provider == "openai" and spec.base_url):
        return "json_schema"
    return "function_calling"


def structured_method_for_model(chat_model: BaseChatModel) -> StructuredMethod:
    """Best method for a ready-made chat model (router overrides), judged by its class."""
    from langchain_openai import ChatOpenAI

    from teachgraph.providers.local.runtime import LocalLlamaChatModel
    from teachgraph.providers.scripted import ScriptedChatModel

    if isinstance(chat_model, ScriptedChatModel):
        return "prompt"
    if isinstance(chat_model, LocalLlamaChatModel):
        return "json_object"
    if isinstance(chat_model, ChatOpenAI):
        base = str(chat_model.openai_api_base or "")
        return "json_schema" if not base or "api.openai.com" in base else "function_calling"
    if type(chat_model).bind_tools is not BaseChatModel.bind_tools:
        return "function_calling"
    return "prompt"


def _api_key(spec: ModelSpec, default_env: str | None) -> str | None:
    """The key named by ``api_key_env`` (must be set), else ``default_env``'s value or None."""
    if spec.api_key_env:
        value = os.environ.get(spec.api_key_env)
        if not value:
            raise ProviderError(f"model {spec.label} reads its API key from ${spec.api_key_env}, which is not set")
    else:
        value = os.environ.get(default_env) if default_env else None
    # Whatever the variable is called, its value never reaches a run directory or a log.
    register_secret(value)
    return value


def _resolve_init_chat_model(spec: ModelSpec) -> BaseChatModel:
    from langchain.chat_models import init_chat_model

    kwargs: dict[str, Any] = {"temperature": spec.temperature}
    if spec.provider == "ollama":
        # ChatOllama has neither max_tokens nor timeout; its equivalents:
        kwargs["num_predict"] = spec.max_tokens
        kwargs["client_kwargs"] = {"timeout": spec.timeout_s}
    else:
        kwargs["max_tokens"] = spec.max_tokens
        kwargs["timeout"] = spec.timeout_s
    if spec.provider in _OWN_RETRIES:
        kwargs["max_retries"] = 0  # retried by providers/faults.py, not twice
    if spec.base_url:
        kwargs["base_url"] = spec.base_url
        if spec.provider == "openai":
            # A self-hosted server behind the openai provider: same max_tokens quirk as
            # openai-compatible (see _resolve_openai_compatible).
            kwargs["extra_body"] = {"max_tokens": spec.max_tokens}
    key_env = API_KEY_ENV.get(spec.provider)
    key = _api_key(spec, key_env)
    if key:
        kwargs["api_key"] = key
    elif spec.base_url and spec.provider == "openai":
        kwargs["api_key"] = "not-needed"
    elif key_env and not spec.base_url:
        raise ProviderError(
            f"model {spec.label} needs an API key: set {key_env} (or name another variable with api_key_env)"
        )
    secrets = (key,) if key else ()
    try:
        return init_chat_model(spec.model, model_provider=spec.provider, **kwargs)
    except ImportError as err:
        package = _integration_package(spec.provider)
        hint = f"pip install {package}" if package else redact(str(err), secrets)
        raise ProviderError(f"model {spec.label} needs the {package or 'provider'} package: {hint}") from None
    except Exception as err:
        raise ProviderError(
            f"could not create model {spec.label}: {redact(describe_exception(err), secrets)}"
        ) from None


def _integration_package(provider: str) -> str | None:
    try:
        from langchain.chat_models.base import _BUILTIN_PROVIDERS

        module = _BUILTIN_PROVIDERS[provider][0]
    except Exception:
        return None
    return module.split(".", 1)[0].replace("_", "-")


def _resolve_openai_compatible(spec: ModelSpec) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    # Only a key the spec names is sent: falling back to $OPENAI_API_KEY would hand the OpenAI
    # key to whatever server the URL points at. Servers without auth still need *some* key.
    key = _api_key(spec, None) or "not-needed"
    return ChatOpenAI(
        base_url=spec.base_url,
        model=spec.model,
        api_key=key,
        temperature=spec.temperature,
        # max_tokens via extra_body: ChatOpenAI sends its max_tokens as max_completion_tokens,
        # which llama.cpp's server ignores (runaway generation); vLLM and Ollama read max_tokens.
        extra_body={"max_tokens": spec.max_tokens},
        timeout=spec.timeout_s,
        # No SDK retries: teachgraph's own policy (providers/faults.py) retries every provider
        # alike, with backoff and Retry-After, and knows which errors are fatal.
        max_retries=0,
    )


def _resolve_local(spec: ModelSpec) -> BaseChatModel:
    from teachgraph.providers.local.registry import get_local_model, prepare
    from teachgraph.providers.local.runtime import LocalLlamaChatModel, require_llama_cpp

    require_llama_cpp()  # fail at resolve time, not on the first node call
    info = get_local_model(spec.model)
    path = prepare(spec.model)
    return LocalLlamaChatModel(
        model_name=spec.model,
        model_path=str(path),
        n_ctx=info.n_ctx,
        temperature=spec.temperature,
        max_tokens=spec.max_tokens,
    )


def _resolve_local_server(spec: ModelSpec) -> BaseChatModel:
    from teachgraph.providers.local.registry import get_local_model, prepare
    from teachgraph.providers.local.server import shared_server

    info = get_local_model(spec.model)
    server = shared_server(prepare(spec.model), alias=spec.model, n_ctx=info.n_ctx)
    return server.chat_model(temperature=spec.temperature, max_tokens=spec.max_tokens, timeout_s=spec.timeout_s)


def resolve_model(spec: ModelSpec | str | Mapping[str, Any], *, node: str | None = None) -> ResolvedModel:
    """Create the chat model for ``spec``.

    ``node`` selects the response list of a ``scripted:`` script. Raises :class:`ProviderError`
    (missing key, package or weights; server failed to start), :class:`MissingDependencyError`
    (llama-cpp-python for ``local``) or :class:`ConfigError` (bad script file) with one-line
    messages.
    """
    spec = ModelSpec.parse(spec)
    chat_model: BaseChatModel
    if spec.provider == "scripted":
        from teachgraph.providers.scripted import ScriptedChatModel

        chat_model = ScriptedChatModel.from_yaml(Path(spec.model), node=node)
    elif spec.provider == "local":
        chat_model = _resolve_local(spec)
    elif spec.provider == "local-server":
        chat_model = _resolve_local_server(spec)
    elif spec.provider == "openai-compatible":
        chat_model = _resolve_openai_compatible(spec)
    else:
        chat_model = _resolve_init_chat_model(spec)
    return ResolvedModel(spec, chat_model, default_structured_method(spec))


def _override_spec(chat_model: BaseChatModel) -> ModelSpec:
    # Record what the injected model *is*, so provenance names it: "scripted:<script name>", or
    # "<llm type>:<model name>" for real chat models passed in by a notebook.
    script = getattr(chat_model, "script_name", None)
    if script:
        return ModelSpec(raw=f"scripted:{script}", provider="scripted", model=str(script))
    name = str(
        getattr(chat_model, "model_name", None) or getattr(chat_model, "model", None) or type(chat_model).__name__
    )
    provider = getattr(chat_model, "_llm_type", "override")
    return ModelSpec(raw=f"{provider}:{name}", provider=str(provider), model=name)


class ModelRouter:
    """Maps graph node names to models, falling back to ``default``.

    Specs are parsed up front (a bad config fails at construction); chat models are created on
    the first :meth:`for_node` call that needs them and cached per spec, so nodes sharing a spec
    share one client (and one loaded local model). ``scripted:`` models are cached per node
    because each node reads its own response list. ``overrides`` inject ready-made chat models
    per node (``"default"`` overrides every node without its own entry).
    """

    def __init__(
        self,
        models: Mapping[str, str | Mapping[str, Any] | ModelSpec],
        *,
        overrides: Mapping[str, BaseChatModel] | None = None,
    ) -> None:
        if "default" not in models:
            raise ConfigError(
                "teacher models need a 'default' entry (used by every node without its own), "
                f"got: {', '.join(sorted(models)) or '(none)'}"
            )
        self._specs: dict[str, ModelSpec] = {}
        for node, value in models.items():
            try:
                self._specs[node] = ModelSpec.parse(value)
            except ConfigError as err:
                raise ConfigError(f"model for node {node!r}: {err}") from None
        self._overrides: dict[str, BaseChatModel] = {}
        for node, chat_model in (overrides or {}).items():
            if not isinstance(chat_model, BaseChatModel):
                raise ConfigError(
                    f"override for node {node!r} must be a BaseChatModel, got {type(chat_model).__name__}"
                )
            self._overrides[node] = chat_model
        self._cache: dict[tuple[ModelSpec, str | None], ResolvedModel] = {}
        self._lock = threading.Lock()

    def spec_for(self, node: str) -> ModelSpec:
        """The spec ``node`` uses (its own or the default); overrides are not considered."""
        return self._specs.get(node, self._specs["default"])

    def for_node(self, node: str) -> ResolvedModel:
        """The resolved model for ``node`` (creating it on first use)."""
        override = self._overrides.get(node)
        if override is None and node not in self._specs:
            override = self._overrides.get("default")
        if override is not None:
            return ResolvedModel(_override_spec(override), override, structured_method_for_model(override))
        spec = self.spec_for(node)
        key = (spec, node if spec.provider == "scripted" else None)
        # One lock for all resolution: creating a local model may assemble 1.1 GB or start a
        # server, which must happen once even when parallel nodes ask at the same moment.
        with self._lock:
            resolved = self._cache.get(key)
            if resolved is None:
                resolved = resolve_model(spec, node=node)
                self._cache[key] = resolved
            return resolved

    def specs(self) -> dict[str, str]:
        """``{node: label}`` for the saved config and the trace; never contains credentials."""
        labels = {node: spec.label for node, spec in self._specs.items()}
        for node, chat_model in self._overrides.items():
            labels[node] = _override_spec(chat_model).label
        return labels
