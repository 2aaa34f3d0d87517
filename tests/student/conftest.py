"""Shared fixtures for the student tests.

The converted checkpoints live in the normal teachgraph cache (``$TEACHGRAPH_CACHE`` or
``~/.cache/teachgraph``), so only the first test run pays for the GGUF conversion. Cache
entries are written atomically, so sharing the cache with real runs is safe.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from teachgraph.cache import cache_root
from teachgraph.student import StudentConfig


@pytest.fixture(scope="session")
def student_cache() -> Path:
    """The shared checkpoint cache."""
    return cache_root()


@pytest.fixture(scope="session")
def tiny_config(student_cache: Path) -> StudentConfig:
    """A from-scratch tiny Llama student that learns a constant answer in a few seconds."""
    return StudentConfig(
        model="tiny-llama",
        cache_dir=student_cache,
        learning_rate=1e-2,  # reaches exact-match 1.0 on the secret-word skill in 15 steps
        epochs=3,
        batch_size=8,
        max_new_tokens=8,
        train_timeout_s=300,
    )
