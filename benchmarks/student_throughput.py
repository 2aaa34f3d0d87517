"""SmolLM2 student throughput: LoRA training, and batched vs one-at-a-time evaluation.

One run measures, with the real student code paths (``HFStudent.train`` in its child process,
``HFStudent.predict``):

* training: LoRA (r 8, all-linear, fp32) on realistic arithmetic word-problem pairs, batch 8;
  seconds per optimizer step (first step reported apart: it page-faults the weights in) and
  training tokens/s (non-padding tokens through the model, prompts included);
* evaluation: the same 32 prompts answered with ``generation_batch_size`` 16 and 1 (greedy,
  ``max_new_tokens`` 32), with the adapter just trained loaded (unmerged LoRA, as in every
  round after the first), after one warm-up call each; prompts/s, generated tokens/s, the
  speed-up, and how many answers agree (left padding can change low-order bits);
* a CPU calibration: fp32 2048x2048 matmul GFLOP/s with 1 and 2 threads, so that a reader can
  tell a slow machine (or one shared with other jobs) from slow code.

    .venv/bin/python benchmarks/student_throughput.py             # 8 training steps
    .venv/bin/python benchmarks/student_throughput.py --steps 4

Writes ``benchmarks/results/student_throughput.json``. Timings on a shared machine depend on
what else runs; the load average before and after is recorded with the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from teachgraph.student import (
    HFStudent,
    StudentConfig,
    TrainingPair,
    build_student,
)

RESULTS = Path(__file__).parent / "results"
NAMES = ["Ava", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas"]
ITEMS = ["apples", "stickers", "marbles", "books", "pencils", "coins", "cards", "shells"]


def word_problem(rng: random.Random) -> tuple[str, str]:
    """A grade-school word problem (prompt as the task would render it) and its worked target."""
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    a, b = rng.randint(12, 99), rng.randint(2, 60)
    kind = rng.choice(["add", "sub", "mul"])
    if kind == "add":
        question = f"{name} has {a} {item} and gets {b} more. How many {item} does {name} have now?"
        work, answer = f"{a} + {b} = {a + b}", a + b
    elif kind == "sub":
        b = rng.randint(2, a - 1)
        question = f"{name} has {a} {item} and gives away {b}. How many {item} are left?"
        work, answer = f"{a} - {b} = {a - b}", a - b
    else:
        a, b = rng.randint(2, 12), rng.randint(3, 15)
        question = f"{name} buys {a} boxes with {b} {item} in each box. How many {item} in total?"
        work, answer = f"{a} * {b} = {a * b}", a * b
    prompt = f"{question}\nSolve it and end with a line 'Answer: <number>'."
    return prompt, f"{work}\nAnswer: {answer}"


def load_average() -> list[float]:
    """1/5/15-minute load averages (the machine is shared; timings depend on them)."""
    return [round(x, 2) for x in os.getloadavg()]


def matmul_gflops() -> dict[str, float]:
    """fp32 2048x2048 matmul throughput with 1 and 2 torch threads (a CPU calibration)."""
    import torch

    before = torch.get_num_threads()
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    out: dict[str, float] = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        a @ b  # warm-up
        start, n = time.perf_counter(), 5
        for _ in range(n):
            a @ b
        out[f"{threads}_threads"] = round(2 * 2048**3 * n / (time.perf_counter() - start) / 1e9, 1)
    torch.set_num_threads(before)
    return out


def time_predict(student: HFStudent, prompts: list[str]) -> dict[str, Any]:
    """Warm-up call, then one timed call over all prompts."""
    student.predict(prompts[:2])  # loads the model, first-call allocations
    start = time.perf_counter()
    answers = student.predict(prompts)
    seconds = time.perf_counter() - start
    tokenizer = student.tokenizer
    generated = sum(len(tokenizer(a, add_special_tokens=False)["input_ids"]) for a in answers)
    return {
        "batch_size": student.config.generation_batch_size,
        "seconds": round(seconds, 3),
        "prompts_per_s": round(len(prompts) / seconds, 3),
        "generated_tokens": generated,
        "generated_tokens_per_s": round(generated / seconds, 2),
        "answers": answers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=8, help="LoRA optimizer steps")
    parser.add_argument("--out", type=Path, default=RESULTS / "student_throughput.json")
    args = parser.parse_args()

    rng = random.Random(0)
    train_pairs = [TrainingPair(prompt=p, target=t) for p, t in (word_problem(rng) for _ in range(64))]
    eval_prompts = [word_problem(rng)[0] for _ in range(32)]
    config = StudentConfig(batch_size=8, max_steps=args.steps, max_new_tokens=32, seed=0)
    load_before = load_average()

    # --- training (child process, as in a run) ---
    student = build_student(config)
    assert isinstance(student, HFStudent)
    print(f"base checkpoint: {student.base_dir}", flush=True)
    tmp = tempfile.TemporaryDirectory()
    result = student.train(train_pairs, Path(tmp.name) / "adapter")
    record = json.loads((result.adapter_dir / "train_result.json").read_text())
    steps, tokens = record["step_seconds"], record["step_tokens"]
    later, later_tokens = (steps[1:], tokens[1:]) if len(steps) > 1 else (steps, tokens)
    training = {
        "steps": result.steps,
        "batch_size": config.batch_size,
        "examples": result.examples,
        "mean_tokens_per_sequence": round(record["train_tokens"] / (result.steps * config.batch_size), 1),
        "train_tokens": result.train_tokens,
        "first_step_s": round(steps[0], 3),
        "s_per_step_after_first": round(statistics.mean(later), 3),
        "s_per_step_all": round(record["seconds_per_step"], 3),
        "train_tokens_per_s_after_first": round(sum(later_tokens) / sum(later), 1),
        "train_tokens_per_s_all": round(record["tokens_per_second"], 1),
        "train_call_wall_s": round(result.seconds, 2),
        "worker_s": round(record["worker_seconds"], 2),
        "final_loss": round(result.final_loss or float("nan"), 4),
        "threads": record["num_threads"],
    }

    # --- evaluation: batched vs one prompt at a time, same prompts, same process ---
    student.load_adapter(result.adapter_dir)
    batched = time_predict(student, eval_prompts)
    single_student = build_student(config.model_copy(update={"generation_batch_size": 1}))
    assert isinstance(single_student, HFStudent)
    single_student.load_adapter(result.adapter_dir)
    single = time_predict(single_student, eval_prompts)
    agree = sum(a == b for a, b in zip(batched.pop("answers"), single.pop("answers"), strict=True))
    tmp.cleanup()

    import torch
    import transformers

    report = {
        "model": config.model,
        "lora": {"r": config.lora_r, "alpha": config.lora_alpha, "targets": "all-linear"},
        "dtype": "float32",
        "training": training,
        "evaluation": {
            "prompts": len(eval_prompts),
            "max_new_tokens": config.max_new_tokens,
            "batched": batched,
            "one_at_a_time": single,
            "speedup": round(single["seconds"] / batched["seconds"], 2),
            "identical_answers": agree,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "parent_torch_threads": torch.get_num_threads(),
            "matmul_gflops": matmul_gflops(),
            "load_average_before": load_before,
            "load_average_after": load_average(),
        },
        "command": "python benchmarks/student_throughput.py " + " ".join(sys.argv[1:]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")

    t = training
    print(
        f"\nLoRA training, SmolLM2-135M fp32, batch {config.batch_size}, {t['steps']} steps, "
        f"~{t['mean_tokens_per_sequence']} tokens/sequence, {t['threads']} threads"
    )
    print(
        f"  first step {t['first_step_s']} s; later steps {t['s_per_step_after_first']} s/step, "
        f"{t['train_tokens_per_s_after_first']} train tokens/s "
        f"(whole train() call {t['train_call_wall_s']} s)"
    )
    n, most = len(eval_prompts), config.max_new_tokens
    print(f"\nEvaluation (trained adapter loaded), {n} prompts, greedy, max_new_tokens {most}")
    print(f"  {'':16}{'batch 16':>12}{'batch 1':>12}")
    for key, label in [
        ("seconds", "seconds"),
        ("prompts_per_s", "prompts/s"),
        ("generated_tokens_per_s", "gen tokens/s"),
    ]:
        print(f"  {label:16}{batched[key]:>12}{single[key]:>12}")
    print(f"  speed-up of batching: {report['evaluation']['speedup']}x; identical answers {agree}/{len(eval_prompts)}")
    print(f"  load average before {load_before}, after {report['machine']['load_average_after']}")
    print(f"  matmul calibration (GFLOP/s): {report['machine']['matmul_gflops']}")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
