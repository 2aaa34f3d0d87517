"""Model spec parsing and secret-free labels."""

from __future__ import annotations

import pytest

from teachgraph.errors import ConfigError
from teachgraph.providers import ModelRouter, ModelSpec, resolve_model
from teachgraph.redaction import redact, strip_userinfo

SECRET = "sk-test-SECRET123"


@pytest.mark.parametrize(
    ("text", "provider", "model", "base_url", "label"),
    [
        ("openai:gpt-4o-mini", "openai", "gpt-4o-mini", None, "openai:gpt-4o-mini"),
        ("ollama:llama3.1:8b", "ollama", "llama3.1:8b", None, "ollama:llama3.1:8b"),
        ("google-genai:gemini-2.0-flash", "google_genai", "gemini-2.0-flash", None,
         "google_genai:gemini-2.0-flash"),
        ("Anthropic:claude-3-5-haiku-latest", "anthropic", "claude-3-5-haiku-latest", None,
         "anthropic:claude-3-5-haiku-latest"),
        ("openai-compatible:http://127.0.0.1:8000/v1#Qwen2.5-7B-Instruct", "openai-compatible",
         "Qwen2.5-7B-Instruct", "http://127.0.0.1:8000/v1",
         "openai-compatible:Qwen2.5-7B-Instruct@127.0.0.1:8000"),
        ("openai_compatible:https://llm.example.org/v1/#Qwen/Qwen2.5-7B", "openai-compatible",
         "Qwen/Qwen2.5-7B", "https://llm.example.org/v1",
         "openai-compatible:Qwen/Qwen2.5-7B@llm.example.org"),
        ("local:qwen2.5-coder-1.5b-instruct", "local", "qwen2.5-coder-1.5b-instruct", None,
         "local:qwen2.5-coder-1.5b-instruct"),
        ("local-server:smollm2-135m-instruct", "local-server", "smollm2-135m-instruct", None,
         "local-server:smollm2-135m-instruct"),
        ("scripted:examples/smoke_script.yaml", "scripted", "examples/smoke_script.yaml", None,
         "scripted:examples/smoke_script.yaml"),
        ("  openai:gpt-4o  ", "openai", "gpt-4o", None, "openai:gpt-4o"),
    ],
)  # fmt: skip
def test_parse_string_forms(text: str, provider: str, model: str, base_url: str | None, label: str) -> None:
    spec = ModelSpec.parse(text)
    assert (spec.provider, spec.model, spec.base_url) == (provider, model, base_url)
    assert spec.label == label
    assert str(spec) == label
    assert spec.raw == text.strip()
    # defaults
    assert (spec.temperature, spec.max_tokens, spec.timeout_s) == (0.0, 1024, 120)
    assert spec.api_key_env is None and spec.structured_method is None


def test_parse_mapping_form_and_passthrough() -> None:
    spec = ModelSpec.parse(
        {
            "spec": "openai:gpt-4o-mini",
            "temperature": 0.7,
            "max_tokens": 256,
            "timeout_s": 30,
            "api_key_env": "MY_OPENAI_KEY",
            "structured_method": "function_calling",
        }
    )
    assert (spec.provider, spec.model) == ("openai", "gpt-4o-mini")
    assert (spec.temperature, spec.max_tokens, spec.timeout_s) == (0.7, 256, 30.0)
    assert spec.api_key_env == "MY_OPENAI_KEY"
    assert spec.structured_method == "function_calling"
    assert ModelSpec.parse(spec) is spec
    # ollama on another host: base_url is allowed for init_chat_model providers
    remote = ModelSpec.parse({"spec": "ollama:llama3", "base_url": "http://gpu-box:11434"})
    assert remote.label == "ollama:llama3@gpu-box:11434"
    # specs are frozen and hashable (the router caches on them)
    assert hash(spec) == hash(ModelSpec(**spec.model_dump()))


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ("", "PROVIDER:MODEL"),
        ("gpt-4o-mini", "PROVIDER:MODEL"),
        ("openai:", "PROVIDER:MODEL"),
        (":gpt-4o", "PROVIDER:MODEL"),
        ("nosuchprovider:foo", "unknown model provider 'nosuchprovider'"),
        ("openai-compatible:http://127.0.0.1:8000/v1", "openai-compatible:http://HOST:PORT/v1#MODEL"),
        ("openai-compatible:http://127.0.0.1:8000/v1#", "openai-compatible:http://HOST:PORT/v1#MODEL"),
        ("openai-compatible:ftp://host/v1#m", "is not an http(s) URL"),
        ("openai-compatible:127.0.0.1:8000#m", "is not an http(s) URL"),
        ("local:gpt-5-local", "unknown local model 'gpt-5-local'"),
        ({"temperature": 0.1}, "needs a 'spec' string"),
        ({"spec": "openai:gpt-4o", "temprature": 0.1}, "unknown option(s) ['temprature']"),
        ({"spec": "openai:gpt-4o", "temperature": -1}, "temperature"),
        ({"spec": "openai:gpt-4o", "max_tokens": 0}, "max_tokens"),
        ({"spec": "openai:gpt-4o", "structured_method": "magic"}, "structured_method"),
        ({"spec": "local:smollm2-135m-instruct", "base_url": "http://x"}, "base_url cannot be set"),
        (42, "must be a string or a mapping"),
    ],
)  # fmt: skip
def test_bad_specs_raise_one_line_config_errors(bad: object, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        ModelSpec.parse(bad)  # type: ignore[arg-type]
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_unknown_local_model_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match="smollm2-135m-instruct"):
        ModelSpec.parse("local:nope")


# --- secrets ------------------------------------------------------------------------------------


@pytest.fixture
def planted_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("MY_SERVER_KEY", SECRET)
    return SECRET


def test_labels_never_contain_credentials(planted_secret: str) -> None:
    specs = [
        f"openai-compatible:http://admin:{planted_secret}@127.0.0.1:8000/v1#Qwen2.5-7B-Instruct",
        f"openai-compatible:https://{planted_secret}@llm.example.org/v1?key={planted_secret}#m",
        "openai:gpt-4o-mini",
        {"spec": "openai:gpt-4o-mini", "api_key_env": "MY_SERVER_KEY"},
        {"spec": "ollama:llama3", "base_url": f"http://u:{planted_secret}@gpu:11434"},
    ]
    for raw in specs:
        spec = ModelSpec.parse(raw)  # type: ignore[arg-type]
        for text in (spec.label, str(spec), repr(spec)):
            assert planted_secret not in text
            assert "admin" not in text
    assert (
        ModelSpec.parse(specs[0]).label  # type: ignore[arg-type]
        == "openai-compatible:Qwen2.5-7B-Instruct@127.0.0.1:8000"
    )
    router = ModelRouter({"default": specs[0], "policy": specs[3], "validation": specs[4]})  # type: ignore[dict-item]
    assert planted_secret not in repr(router.specs())
    resolved = router.for_node("error_analysis")
    assert planted_secret not in resolved.label


def test_error_messages_never_contain_credentials(planted_secret: str) -> None:
    bad = f"openai-compatible:http://admin:{planted_secret}@127.0.0.1:8000/v1"  # no '#model'
    with pytest.raises(ConfigError) as info:
        ModelSpec.parse(bad)
    assert planted_secret not in str(info.value)
    with pytest.raises(ConfigError) as info:
        ModelSpec.parse(f"openai-compatible:ftp://u:{planted_secret}@h/v1#m")
    assert planted_secret not in str(info.value)


def test_missing_api_key_is_a_provider_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from teachgraph.errors import ProviderError

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ProviderError, match="set OPENAI_API_KEY"):
        resolve_model(ModelSpec.parse("openai:gpt-4o-mini"))
    with pytest.raises(ProviderError, match=r"\$NOT_SET_ANYWHERE, which is not set"):
        resolve_model(ModelSpec.parse({"spec": "openai:gpt-4o-mini", "api_key_env": "NOT_SET_ANYWHERE"}))


def test_missing_provider_package_names_pip_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from teachgraph.errors import ProviderError

    try:
        import langchain_ollama  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("langchain-ollama is installed here")
    with pytest.raises(ProviderError, match="pip install langchain-ollama"):
        resolve_model(ModelSpec.parse("ollama:llama3"))


def test_openai_provider_resolves_with_key(planted_secret: str) -> None:
    resolved = resolve_model(ModelSpec.parse({"spec": "openai:gpt-4o-mini", "max_tokens": 77}))
    assert resolved.structured_method == "json_schema"
    assert resolved.label == "openai:gpt-4o-mini"
    assert type(resolved.chat_model).__name__ == "ChatOpenAI"
    assert resolved.chat_model.max_tokens == 77  # type: ignore[attr-defined]


def test_redact_helpers(planted_secret: str) -> None:
    assert strip_userinfo("http://a:b@h:1/v1?x=1") == "http://h:1/v1?x=1"
    text = f"failed POST http://a:{planted_secret}@h/v1 with Bearer {planted_secret} and hf_abcdefghijklmn"
    cleaned = redact(text)
    assert planted_secret not in cleaned and "hf_abcdefghijklmn" not in cleaned
    assert "http://h/v1" in cleaned
