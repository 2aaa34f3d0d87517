"""LLM providers for teacher nodes: specs, per-node routing, structured output, local models.

Typical use in a node::

    resolved = router.for_node("data_writing")
    result = structured_call(resolved, ProblemSet, messages)
    if result.value is None:
        ...  # result.error says why; nothing was raised

See :mod:`teachgraph.providers.resolve` for which structured-output method each provider uses.
"""

from teachgraph.providers.faults import FailureLimit, ProviderStop, RetrySettings, classify
from teachgraph.providers.local import (
    REGISTRY as LOCAL_MODELS,
)
from teachgraph.providers.local import (
    LlamaServer,
    LocalLlamaChatModel,
    LocalModelInfo,
    LocalModelMissingError,
    LocalModelStatus,
    local_model_names,
    model_status,
    prepare,
)
from teachgraph.providers.resolve import (
    ModelRouter,
    ResolvedModel,
    default_structured_method,
    resolve_model,
)
from teachgraph.providers.scripted import (
    ScriptedChatModel,
    ScriptedProviderError,
    ScriptExhaustedError,
)
from teachgraph.providers.spec import ModelSpec, StructuredMethod
from teachgraph.providers.structured import StructuredResult, extract_json, structured_call
from teachgraph.redaction import redact

__all__ = [
    "LOCAL_MODELS",
    "FailureLimit",
    "LlamaServer",
    "LocalLlamaChatModel",
    "LocalModelInfo",
    "LocalModelMissingError",
    "LocalModelStatus",
    "ModelRouter",
    "ModelSpec",
    "ProviderStop",
    "ResolvedModel",
    "RetrySettings",
    "ScriptExhaustedError",
    "ScriptedChatModel",
    "ScriptedProviderError",
    "StructuredMethod",
    "StructuredResult",
    "classify",
    "default_structured_method",
    "extract_json",
    "local_model_names",
    "model_status",
    "prepare",
    "redact",
    "resolve_model",
    "structured_call",
]
