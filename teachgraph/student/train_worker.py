"""The training child process: ``python -m teachgraph.student.train_worker JOB.json``.

Loads the base checkpoint (fp32), either a fresh LoRA or the ``init_adapter`` as trainable,
trains with a plain torch loop (loss on target tokens only), saves the adapter in standard peft
format (``adapter_config.json`` + ``adapter_model.safetensors``) to ``output_dir`` and finally
writes the result JSON. The parent treats a missing result file as failure, so the result is
written last.

Exit status: 0 on success, 1 on any error (traceback on stderr), 2 on bad usage.
"""

from __future__ import annotations

import json
import math
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

from teachgraph.student import _env  # first: offline/OpenMP env before transformers
from teachgraph.student.base import TrainingPair
from teachgraph.student.chat import IGNORE_INDEX, EncodedPair, encode_pair
from teachgraph.student.training import TrainJob

LOG_EVERY_S = 10.0


def log(message: str) -> None:
    """One progress line on stderr (the parent keeps it in ``train.log``)."""
    print(f"[train_worker] {message}", file=sys.stderr, flush=True)


def collate(batch: list[EncodedPair], pad_id: int) -> dict[str, Any]:
    """Right-pad a batch; padding gets attention 0 and label ``IGNORE_INDEX``.

    Right padding is fine for training (positions are counted from the left, and padded
    positions are masked both in attention and in the loss); generation pads on the left.
    """
    import torch

    width = max(len(item.input_ids) for item in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    for row, item in enumerate(batch):
        n = len(item.input_ids)
        input_ids[row, :n] = torch.tensor(item.input_ids)
        labels[row, :n] = torch.tensor(item.labels)
        attention[row, :n] = 1
    return {"input_ids": input_ids, "labels": labels, "attention_mask": attention}


def batch_order(lengths: list[int], batch_size: int, generator: Any, group: int = 4) -> list[list[int]]:
    """One epoch's batches (example indices): shuffled, then length-grouped within a window.

    The shuffled order is cut into windows of ``group`` batches; each window is sorted by
    length before it is cut into batches, and the batches are shuffled again. Batches then
    hold examples of similar length and pad little (padding is computed and thrown away),
    while the window keeps batch composition random across epochs. (The idea of transformers'
    ``LengthGroupedSampler``, with a small window because a round's data set is small.)
    """
    import torch

    order = torch.randperm(len(lengths), generator=generator).tolist()
    window = batch_size * group
    batches: list[list[int]] = []
    for first in range(0, len(order), window):
        chunk = sorted(order[first : first + window], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in shuffled]


def target_token_loss(model: Any, batch: dict[str, Any]) -> Any:
    """Mean cross-entropy over the target tokens of ``batch`` (what ``model(**batch).loss`` is).

    The output layer (a 576 x 49,152 matmul for SmolLM2, plus a log-softmax over the whole
    vocabulary) runs only at the positions whose next token carries a label; through
    ``model(labels=...)`` it runs at every prompt and padding position as well, which
    profiling showed to be ~20% of a step for word problems. ``model`` is a peft model.
    """
    import torch

    causal_lm = model.get_base_model()
    hidden = causal_lm.get_decoder()(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False
    ).last_hidden_state
    labels = batch["labels"][:, 1:]  # position t predicts token t+1
    keep = labels != IGNORE_INDEX
    logits = causal_lm.get_output_embeddings()(hidden[:, :-1][keep])
    return torch.nn.functional.cross_entropy(logits.float(), labels[keep])


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warmup then cosine decay (DataEnvGym's schedule), never exactly zero.

    Warmup starts at 1/(warmup+1), not 0, so that even a one-step run moves the weights, and
    the cosine is evaluated at step/total < 1 so the last step keeps a small positive rate.
    """
    if step < warmup:
        return (step + 1) / (warmup + 1)
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def train(job: TrainJob) -> dict[str, Any]:
    """Run ``job``; returns the result record (also written to ``job.result_path``)."""
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    wall_start = time.monotonic()
    torch.set_num_threads(job.num_threads)
    random.seed(job.seed)
    torch.manual_seed(job.seed)
    device = job.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"

    pairs = [
        TrainingPair.model_validate_json(line)
        for line in job.pairs_path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    tokenizer = AutoTokenizer.from_pretrained(str(job.base_dir), local_files_only=True)
    encoded = [encode_pair(tokenizer, p.prompt, p.target, job.max_length) for p in pairs]
    examples = [item for item in encoded if item is not None]
    if not examples:
        raise ValueError(f"all {len(pairs)} pairs are longer than max_length={job.max_length}")
    if len(examples) < len(pairs):
        log(f"skipped {len(pairs) - len(examples)} pairs with no target token within max_length")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    # fp32: bf16 LoRA steps measured 2.8x slower on the target CPU; 135M params fit easily.
    base = AutoModelForCausalLM.from_pretrained(str(job.base_dir), dtype=torch.float32, local_files_only=True)
    if job.init_adapter is not None:
        with _env.quiet_peft():
            model = PeftModel.from_pretrained(base, str(job.init_adapter), is_trainable=True)
        log(f"continuing adapter {job.init_adapter}")
    else:
        lora = LoraConfig(
            task_type="CAUSAL_LM",
            r=job.lora_r,
            lora_alpha=job.lora_alpha,
            lora_dropout=job.lora_dropout,
            target_modules=job.lora_target_modules,
            modules_to_save=job.modules_to_save or None,
        )
        with _env.quiet_peft():
            model = get_peft_model(base, lora)
    model.to(device)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    log(
        f"{len(examples)} examples, {sum(p.numel() for p in trainable):,} trainable params, "
        f"device {device}, {torch.get_num_threads()} threads"
    )

    batches_per_epoch = math.ceil(len(examples) / job.batch_size)
    total = job.epochs * batches_per_epoch
    if job.max_steps is not None:
        total = min(total, job.max_steps)
    warmup = int(job.warmup_ratio * total)
    optimizer = torch.optim.AdamW(trainable, lr=job.learning_rate, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, total, warmup))
    order_rng = torch.Generator().manual_seed(job.seed)

    lengths = [len(item.input_ids) for item in examples]
    step, train_tokens, target_tokens, padded_tokens = 0, 0, 0, 0
    losses: list[float] = []
    step_seconds: list[float] = []
    step_tokens: list[int] = []
    loop_start = last_log = time.monotonic()
    loop_cpu_start = time.process_time()
    while step < total:
        for indices in batch_order(lengths, job.batch_size, order_rng):
            if step >= total:
                break
            step_start = time.monotonic()
            batch = [examples[i] for i in indices]
            tensors = {k: v.to(device) for k, v in collate(batch, pad_id).items()}
            loss = target_token_loss(model, tensors)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            step_seconds.append(time.monotonic() - step_start)
            losses.append(float(loss.detach()))
            step_tokens.append(int(tensors["attention_mask"].sum()))
            train_tokens += step_tokens[-1]
            padded_tokens += tensors["input_ids"].numel()
            target_tokens += sum(item.target_tokens for item in batch)
            if time.monotonic() - last_log >= LOG_EVERY_S or step == total:
                last_log = time.monotonic()
                log(f"step {step}/{total} loss {losses[-1]:.4f}")
    loop_seconds = time.monotonic() - loop_start
    loop_cpu_seconds = time.process_time() - loop_cpu_start

    job.output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(job.output_dir))  # adapter only, safetensors
    result: dict[str, Any] = {
        "steps": step,
        "examples": len(examples),
        "train_tokens": train_tokens,  # non-padding tokens through the model, prompts included
        "target_tokens": target_tokens,  # tokens that carried loss
        "final_loss": losses[-1] if losses else None,
        "losses": losses,
        # The first step also pays for page-faulting the memory-mapped weights in.
        "step_seconds": step_seconds,
        "step_tokens": step_tokens,
        "loop_seconds": loop_seconds,
        "seconds_per_step": loop_seconds / step if step else None,
        "tokens_per_second": train_tokens / loop_seconds if loop_seconds > 0 else None,
        "padded_tokens": padded_tokens,  # positions computed, padding included
        # CPU seconds of all threads: on a shared machine less noisy than wall time.
        "loop_cpu_seconds": loop_cpu_seconds,
        # ru_maxrss survives exec: it is at least the launcher's peak when it started us.
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "worker_seconds": time.monotonic() - wall_start,
        "device": device,
        "num_threads": torch.get_num_threads(),
        "continued_from": str(job.init_adapter) if job.init_adapter else None,
    }
    # Written last and atomically: its presence is the parent's signal that training completed.
    partial = job.result_path.with_suffix(".partial")
    partial.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    partial.replace(job.result_path)
    return result


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the job file named on the command line."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m teachgraph.student.train_worker JOB.json", file=sys.stderr)
        return 2
    job = TrainJob.model_validate_json(Path(args[0]).read_text(encoding="utf-8"))
    result = train(job)
    log(f"done: {result['steps']} steps in {result['loop_seconds']:.1f} s, final loss {result['final_loss']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
