"""Process environment for everything that touches transformers: offline, quiet, fork-safe."""

from __future__ import annotations

import os


def configure_offline() -> None:
    """Forbid any model-hub access and silence per-tensor progress bars.

    Must run before ``transformers``/``huggingface_hub`` are imported: the hub library reads
    these variables into module constants at import time. Every ``from_pretrained`` call in
    teachgraph also passes ``local_files_only=True``, so the offline guarantee holds even when
    some other module imported transformers first.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # We start training children with fork+exec; the tokenizers thread pool warns (and can
    # deadlock) when a process forks after using it. Two cores gain nothing from it anyway.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


configure_offline()
