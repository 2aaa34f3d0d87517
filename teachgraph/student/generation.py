"""Greedy batched generation for evaluation: what ``generate`` does, minus the work it repeats.

Evaluation asks for hundreds of greedy answers to prompts that all start with the same chat
header (SmolLM2's template puts a fixed system message before every user turn). On a CPU the
cost is dominated by the prompt forward pass, not by the few new tokens, so this loop:

* runs the shared token prefix of all prompts **once** and copies its KV cache into every batch
  (about a third of the prompt tokens of a typical arithmetic evaluation);
* batches prompts sorted by length, so a batch pads little;
* computes the output layer (49k-word vocabulary) only for the last position of each row,
  never for the prompt tokens;
* drops a row from the batch as soon as it has emitted the end-of-turn token, so late steps
  run on the rows still generating only.

The answers are those of ``model.generate(do_sample=False)`` on the same prompts: the same
tokens at the same positions (left padding is placed after the shared prefix and masked out;
position ids count real tokens only). Floating-point reduction order differs with batch
composition, as it already does between two batch sizes of ``generate``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

#: Keep at least this many prompt tokens outside the shared prefix (the last prompt token
#: must go through the model in the batch: its logits give the first new token).
_MIN_SUFFIX = 1


def shared_prefix_length(rows: Sequence[Sequence[int]]) -> int:
    """How many leading token ids all ``rows`` have in common (at most ``len(shortest) - 1``)."""
    if not rows:
        return 0
    shortest = min(len(r) for r in rows)
    first = rows[0]
    n = 0
    while n < shortest - _MIN_SUFFIX and all(r[n] == first[n] for r in rows):
        n += 1
    return n


def greedy_generate(
    model: Any,
    prompt_ids: Sequence[Sequence[int]],
    *,
    eos_id: int,
    pad_id: int,
    max_new_tokens: int,
    batch_size: int,
) -> list[list[int]]:
    """Greedy continuations (token ids, end-of-turn excluded) for ``prompt_ids``, in order.

    ``model`` is a transformers causal LM (a peft-wrapped one is called through its base model,
    so an active or disabled adapter applies as usual). Rows stop at ``eos_id`` or after
    ``max_new_tokens`` new tokens.
    """
    import torch

    if not prompt_ids:
        return []
    device = next(model.parameters()).device
    prefix_len = shared_prefix_length(prompt_ids)
    prefix_cache = None
    if prefix_len:
        prefix = torch.tensor([list(prompt_ids[0][:prefix_len])], device=device)
        with torch.inference_mode():
            prefix_cache = model(input_ids=prefix, use_cache=True, logits_to_keep=1).cache
    order = sorted(range(len(prompt_ids)), key=lambda i: len(prompt_ids[i]))
    out: list[list[int]] = [[] for _ in prompt_ids]
    for first in range(0, len(order), batch_size):
        rows = order[first : first + batch_size]
        suffixes = [list(prompt_ids[i][prefix_len:]) for i in rows]
        answers = _generate_batch(
            model,
            suffixes,
            prefix_len,
            prefix_cache,
            eos_id=eos_id,
            pad_id=pad_id,
            max_new_tokens=max_new_tokens,
            device=device,
        )
        for row, tokens in zip(rows, answers, strict=True):
            out[row] = tokens
    return out


def _generate_batch(
    model: Any,
    suffixes: list[list[int]],
    prefix_len: int,
    prefix_cache: Any,
    *,
    eos_id: int,
    pad_id: int,
    max_new_tokens: int,
    device: Any,
) -> list[list[int]]:
    """Greedy decoding of one batch whose rows all continue the cached shared prefix."""
    import torch

    n = len(suffixes)
    width = max(len(s) for s in suffixes)
    # Layout per row: [shared prefix][left padding][own prompt tokens]; padding is masked out
    # and position ids skip it, so each row sees exactly its unpadded prompt.
    input_ids = torch.full((n, width), pad_id, dtype=torch.long)
    suffix_mask = torch.zeros((n, width), dtype=torch.long)
    for r, tokens in enumerate(suffixes):
        input_ids[r, width - len(tokens) :] = torch.tensor(tokens)
        suffix_mask[r, width - len(tokens) :] = 1
    positions = (prefix_len + suffix_mask.cumsum(-1) - 1).clamp(min=prefix_len)
    attention = torch.cat([torch.ones((n, prefix_len), dtype=torch.long), suffix_mask], dim=1)
    cache = None
    if prefix_cache is not None:
        cache = copy.deepcopy(prefix_cache)
        cache.batch_repeat_interleave(n)
    input_ids, positions, attention = input_ids.to(device), positions.to(device), attention.to(device)

    generated: list[list[int]] = [[] for _ in suffixes]
    alive = list(range(n))  # batch row -> index into `generated`
    next_positions = positions[:, -1:] + 1
    with torch.inference_mode():
        for _ in range(max_new_tokens):
            result = model(
                input_ids=input_ids,
                attention_mask=attention,
                position_ids=positions,
                cache=cache,
                use_cache=True,
                logits_to_keep=1,
            )
            cache = result.cache
            tokens = result.logits[:, -1, :].argmax(dim=-1)
            keep: list[int] = []
            for r, token in enumerate(tokens.tolist()):
                if token == eos_id:
                    continue
                generated[alive[r]].append(token)
                keep.append(r)
            if not keep:
                break
            if len(keep) < len(alive):
                index = torch.tensor(keep, device=device)
                cache.batch_select_indices(index)
                tokens, attention, next_positions = tokens[index], attention[index], next_positions[index]
                alive = [alive[r] for r in keep]
            input_ids = tokens[:, None]
            positions = next_positions
            next_positions = next_positions + 1
            attention = torch.cat([attention, torch.ones_like(attention[:, :1])], dim=1)
    return generated
