"""Process environment for everything that touches torch/transformers: offline, quiet, robust."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

# True when torch was imported before this module without OMP_WAIT_POLICY set: then this
# process spins (the trainer child is unaffected); HFStudent warns once.
OMP_POLICY_TOO_LATE = False


def configure_offline() -> None:
    """Forbid any model-hub access, silence progress bars, make OpenMP threads yield.

    Must run before ``transformers``/``huggingface_hub``/``torch`` are imported: they read
    these variables at import time. Every ``from_pretrained`` call in teachgraph also passes
    ``local_files_only=True``, so the offline guarantee holds even when some other module
    imported transformers first.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # We start training children with fork+exec; the tokenizers thread pool warns (and can
    # deadlock) when a process forks after using it. Two cores gain nothing from it anyway.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # torch's OpenMP threads spin while waiting for each other. When anything else wants the
    # two cores (the teacher, another job), a spinning thread starves its descheduled sibling:
    # measured on the shared 2-core machine at load ~4, SmolLM2 greedy generation of 2 prompts
    # took 41 s with 2 threads and 2.0 s with 1 thread; with PASSIVE waiting, 2 threads took
    # 2.1 s. Only effective if set before torch is first imported (the trainer child always
    # gets it); an explicit user setting wins.
    global OMP_POLICY_TOO_LATE
    OMP_POLICY_TOO_LATE = "torch" in sys.modules and "OMP_WAIT_POLICY" not in os.environ
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@contextmanager
def quiet_peft() -> Iterator[None]:
    """Hide one FutureWarning peft triggers inside transformers on every adapter load.

    (``is_gradient_checkpointing`` is deprecated; peft 0.21 still calls it.) Nothing we can
    act on, and it would be printed once per round.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield


configure_offline()
