"""Model specs: the strings a run config uses to name a chat model.

Forms::

    openai:gpt-4o-mini                                   any init_chat_model provider
    ollama:llama3.1:8b
    openai-compatible:http://127.0.0.1:8000/v1#Qwen2.5-7B-Instruct   vLLM / llama.cpp / Ollama
    local:qwen2.5-coder-1.5b-instruct                    embedded llama.cpp, in process
    local-server:qwen2.5-coder-1.5b-instruct             embedded llama.cpp behind its HTTP server
    scripted:examples/smoke_script.yaml                  canned responses (tests, smoke runs)

or a mapping ``{spec: "...", temperature: 0.2, max_tokens: 512, timeout_s: 60,
api_key_env: "MY_KEY", structured_method: "function_calling", base_url: "..."}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from teachgraph.errors import ConfigError, describe_validation_error
from teachgraph.providers.local.registry import local_model_names
from teachgraph.redaction import redact, strip_userinfo

StructuredMethod = Literal["json_schema", "function_calling", "json_object", "prompt"]
STRUCTURED_METHODS: tuple[str, ...] = get_args(StructuredMethod)

# Providers teachgraph implements itself; everything else goes to init_chat_model.
SPECIAL_PROVIDERS: tuple[str, ...] = ("openai-compatible", "local", "local-server", "scripted")

# Keys accepted in the mapping form (besides "spec").
_DICT_KEYS = (
    "temperature",
    "max_tokens",
    "timeout_s",
    "api_key_env",
    "structured_method",
    "base_url",
)

_EXAMPLES = (
    "'openai:gpt-4o-mini', 'openai-compatible:http://127.0.0.1:8000/v1#MODEL', "
    "'local:qwen2.5-coder-1.5b-instruct', 'scripted:path/to/script.yaml'"
)


def init_chat_model_providers() -> list[str]:
    """Provider names ``langchain.chat_models.init_chat_model`` accepts (underscore form)."""
    try:
        # Private table, but the only machine-readable list; fall back to "accept anything" so a
        # LangChain refactor degrades to a later, still clear, error from init_chat_model.
        from langchain.chat_models.base import _BUILTIN_PROVIDERS

        return sorted(_BUILTIN_PROVIDERS)
    except Exception:
        return []


def _canonical_provider(raw_provider: str) -> str:
    lowered = raw_provider.strip().lower()
    dashed = lowered.replace("_", "-")
    if dashed in SPECIAL_PROVIDERS:
        return dashed
    return lowered.replace("-", "_")  # init_chat_model normalises the same way


def _safe(spec: str) -> str:
    """The spec as it may appear in an error message."""
    return redact(spec)


def _host_port(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


class ModelSpec(BaseModel):
    """A parsed model spec. Build it with :meth:`parse`; read :attr:`label` for provenance.

    ``raw`` and ``base_url`` are kept as written (they may carry credentials in a URL), so they
    are left out of ``repr``; everything teachgraph records uses :attr:`label` instead.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    raw: str = Field(repr=False)
    provider: str
    model: str
    base_url: str | None = Field(default=None, repr=False)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=1024, ge=1)
    timeout_s: float = Field(default=120.0, gt=0)
    api_key_env: str | None = None
    # None: the provider's default (see teachgraph.providers.resolve.default_structured_method).
    structured_method: StructuredMethod | None = None

    @classmethod
    def parse(cls, spec: str | Mapping[str, Any] | ModelSpec) -> ModelSpec:
        """Parse a spec string, a ``{spec: ..., <options>}`` mapping, or return a ModelSpec.

        Raises :class:`ConfigError` with a one-line explanation for anything malformed.
        """
        if isinstance(spec, ModelSpec):
            return spec
        if isinstance(spec, Mapping):
            return cls._parse_mapping(spec)
        if isinstance(spec, str):
            return cls._parse_string(spec)
        raise ConfigError(f"a model spec must be a string or a mapping with a 'spec' key, got {type(spec).__name__}")

    @classmethod
    def _parse_mapping(cls, data: Mapping[str, Any]) -> ModelSpec:
        if "spec" not in data or not isinstance(data["spec"], str):
            raise ConfigError(
                f"a model mapping needs a 'spec' string, e.g. {{spec: 'openai:gpt-4o-mini', "
                f"temperature: 0.2}}; got keys {sorted(map(str, data))}"
            )
        unknown = sorted(str(k) for k in data if k != "spec" and k not in _DICT_KEYS)
        if unknown:
            raise ConfigError(
                f"unknown option(s) {unknown} for model {_safe(data['spec'])!r}; allowed: {', '.join(_DICT_KEYS)}"
            )
        base = cls._parse_string(data["spec"])
        options = {k: data[k] for k in _DICT_KEYS if k in data}
        if "base_url" in options and base.provider in SPECIAL_PROVIDERS:
            raise ConfigError(
                f"base_url cannot be set for {base.provider!r} models "
                f"(for openai-compatible put the URL in the spec: 'openai-compatible:URL#MODEL')"
            )
        return cls._build({**base.model_dump(), **options})

    @classmethod
    def _build(cls, fields: dict[str, Any]) -> ModelSpec:
        try:
            return cls(**fields)
        except ValidationError as err:
            problems = describe_validation_error(err, root="")
            raise ConfigError(f"invalid model {_safe(fields.get('raw', '?'))!r}: {problems}") from None

    @classmethod
    def _parse_string(cls, text: str) -> ModelSpec:
        raw = text.strip()
        provider_part, sep, rest = raw.partition(":")
        if not sep or not provider_part.strip() or not rest.strip():
            raise ConfigError(f"model spec {_safe(raw)!r} must look like PROVIDER:MODEL, e.g. {_EXAMPLES}")
        provider = _canonical_provider(provider_part)
        rest = rest.strip()

        if provider == "openai-compatible":
            url, hash_sep, model = rest.rpartition("#")
            url, model = url.strip(), model.strip()
            if not hash_sep or not url or not model:
                raise ConfigError(
                    f"model spec {_safe(raw)!r} must look like 'openai-compatible:http://HOST:PORT/v1#MODEL_NAME'"
                )
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(f"model spec {_safe(raw)!r}: {strip_userinfo(url)!r} is not an http(s) URL")
            return cls._build({"raw": raw, "provider": provider, "model": model, "base_url": url.rstrip("/")})

        if provider in ("local", "local-server"):
            known = local_model_names()
            if rest not in known:
                raise ConfigError(f"unknown local model {rest!r} in {_safe(raw)!r}; known: {', '.join(known)}")
            return cls._build({"raw": raw, "provider": provider, "model": rest})

        if provider == "scripted":
            return cls._build({"raw": raw, "provider": provider, "model": rest})

        known_providers = init_chat_model_providers()
        if known_providers and provider not in known_providers:
            raise ConfigError(
                f"unknown model provider {provider_part.strip()!r} in {_safe(raw)!r}; known: "
                f"{', '.join([*SPECIAL_PROVIDERS, *known_providers])}"
            )
        return cls._build({"raw": raw, "provider": provider, "model": rest})

    @property
    def label(self) -> str:
        """What provenance and traces record as "the model"; never contains credentials.

        ``openai:gpt-4o-mini``, ``openai-compatible:Qwen2.5-7B-Instruct@127.0.0.1:8000``,
        ``local:qwen2.5-coder-1.5b-instruct``, ``scripted:examples/smoke_script.yaml``.
        """
        if self.base_url:
            text = f"{self.provider}:{self.model}@{_host_port(self.base_url)}"
        else:
            text = f"{self.provider}:{self.model}"
        return redact(text)

    def __str__(self) -> str:
        return self.label
