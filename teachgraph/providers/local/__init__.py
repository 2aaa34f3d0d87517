"""Embedded GGUF models run by llama.cpp: registry + assembly, in-process runtime, HTTP server.

Nothing here imports ``llama_cpp`` at import time; it is an optional extra (``teachgraph[local]``)
and is only needed when a local model is actually resolved.
"""

from teachgraph.providers.local.registry import (
    REGISTRY,
    LocalModelInfo,
    LocalModelMissingError,
    LocalModelStatus,
    cache_root,
    get_local_model,
    local_model_names,
    model_status,
    models_dir,
    prepare,
)
from teachgraph.providers.local.runtime import LocalLlamaChatModel, load_llama, require_llama_cpp
from teachgraph.providers.local.server import LlamaServer, shared_server

__all__ = [
    "REGISTRY",
    "LlamaServer",
    "LocalLlamaChatModel",
    "LocalModelInfo",
    "LocalModelMissingError",
    "LocalModelStatus",
    "cache_root",
    "get_local_model",
    "load_llama",
    "local_model_names",
    "model_status",
    "models_dir",
    "prepare",
    "require_llama_cpp",
    "shared_server",
]
