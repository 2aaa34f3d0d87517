"""A trained SmolLM2 student (base + LoRA, merged) written as GGUF, for the llama.cpp reference.

The benchmark compares teachgraph's evaluation with llama.cpp on *the same student*. llama.cpp
reads GGUF only, so the merged fp32 weights are written into a copy of the shipped SmolLM2 GGUF:
all metadata (hyper-parameters, tokenizer, chat template) is copied from it, every tensor is
replaced by the merged one. Two details of llama.cpp's layout: q/k projection rows are permuted
for its rotary embedding (the inverse of what transformers undoes on load), and the output layer
is tied to the token embedding (no ``output.weight``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _permute(weights: np.ndarray, n_head: int) -> np.ndarray:
    """HF q/k row order -> llama.cpp's (as in llama.cpp's convert_hf_to_gguf.py)."""
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def export_merged_gguf(
    base_dir: Path, adapter_dir: Path | None, source_gguf: Path, out: Path, qtype: str = "Q8_0"
) -> Path:
    """Write ``base_dir`` (+ ``adapter_dir`` merged in) as GGUF at ``out``.

    The LoRA-merged projection matrices are stored as ``qtype`` (a ``gguf.GGMLQuantizationType``
    name). ``Q8_0`` by default: re-quantising them to the shipped ``Q4_1`` would round away
    most of a LoRA update (its steps are far below Q4_1's). Every other tensor keeps the source
    file's type, so exporting the base alone reproduces the shipped file's tensors bit for bit.
    """
    import gguf
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model: Any = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.float32, local_files_only=True)
    if adapter_dir is not None:
        peft_model = PeftModel.from_pretrained(model, str(adapter_dir))
        if peft_model.peft_config["default"].modules_to_save:
            raise ValueError("adapters that train whole modules (modules_to_save) are not supported here")
        model = peft_model.merge_and_unload()
    config = model.config
    state = {name: tensor.detach().numpy() for name, tensor in model.state_dict().items()}

    reader = gguf.GGUFReader(str(source_gguf))
    writer = gguf.GGUFWriter(str(out), arch="llama")
    for field in reader.fields.values():
        if (
            field.name == gguf.Keys.General.ARCHITECTURE
            or field.name.startswith("GGUF.")
            or field.name == "general.file_type"
        ):
            continue
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), value_type, sub_type=sub_type)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config.num_hidden_layers)
    wanted = gguf.GGMLQuantizationType[qtype]
    source = {t.name: t for t in reader.tensors}
    written = set()
    for hf_name, weights in state.items():
        if hf_name == "lm_head.weight" and config.tie_word_embeddings:
            continue
        gguf_name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if gguf_name is None:
            raise ValueError(f"no GGUF name for {hf_name}")
        if hf_name.endswith("q_proj.weight"):
            weights = _permute(weights, config.num_attention_heads)
        elif hf_name.endswith("k_proj.weight"):
            weights = _permute(weights, config.num_key_value_heads)
        if hf_name.endswith("proj.weight"):  # what a LoRA on all-linear changes
            data = gguf.quants.quantize(np.ascontiguousarray(weights, dtype=np.float32), wanted)
            writer.add_tensor(gguf_name, data, raw_dtype=wanted)
        else:  # embedding, norms: untouched by the adapter; the shipped bytes as they are
            writer.add_tensor(gguf_name, source[gguf_name].data, raw_dtype=source[gguf_name].tensor_type)
        written.add(gguf_name)
    if written != set(source):
        raise ValueError(f"tensor sets differ from {source_gguf}: {sorted(written ^ set(source))[:6]}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out
