"""SmolLM2 student throughput: teachgraph's LoRA training and evaluation against plain references.

One run, one model (SmolLM2-135M-Instruct, fp32, LoRA r 8 all-linear), the same data:

* **training**: ``HFStudent.train`` (its child process, as in a run) vs a bare torch+peft loop
  written below (``model(**batch).loss``, backward, AdamW), same pairs, batch, LoRA config and
  step count, each in its own process. Training tokens/s = non-padding tokens through the model
  per second of the step loop, first step excluded (it page-faults the weights in); also CPU
  seconds per step (all threads; steadier than wall time on a shared machine) and peak RSS.
* **evaluation** of 256 held-out arithmetic prompts (the ``arithmetic`` task's test split, the
  six skills of ``examples/default.yaml``, ``max_new_tokens`` 16) with the adapter just trained:
  teachgraph's ``predict`` (``generation: fast``) vs transformers' ``generate`` on the same
  batches (``generation: hf-generate``: the HF path whose accuracy is the reference) vs ``generate``
  one prompt at a time (on the first 32 prompts: it is slow) vs llama.cpp single-stream on the
  same student (base + adapter merged, written as GGUF by ``_gguf_student``). New tokens/s =
  generated tokens (the student's tokenizer, answers as returned) per second of the call.

The machine is shared, so the variants run interleaved: training alternates A-B, B-A over the
rounds; each evaluation variant lives in its own worker process (its peak RSS is its own) and
the prompts go to the workers chunk by chunk, rotating which one goes first. The load average
is recorded before and after.

    make bench-student                                   # = python benchmarks/student_throughput.py
    .venv/bin/python benchmarks/student_throughput.py --steps 4 --rounds 1 --prompts 64   # quicker
    .venv/bin/python benchmarks/student_throughput.py --training-only --out results/x.json

Writes ``benchmarks/results/student_throughput.json`` and prints the three target ratios.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from teachgraph.student import HFStudent, StudentConfig, TrainingPair, build_student

RESULTS = Path(__file__).parent / "results"
NAMES = ["Ava", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas"]
ITEMS = ["apples", "stickers", "marbles", "books", "pencils", "coins", "cards", "shells"]
SKILLS = ["basic_arithmetic", "chain_sum", "products", "gcd", "lcm", "simple_equations"]
GIB = 1024**3


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


def peak_rss_bytes() -> int:
    """This process's peak resident set size since its exec (``VmHWM``).

    Not ``getrusage``: its ``ru_maxrss`` survives fork and exec, so a worker would report at
    least its parent's peak at the time it was started.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --- training ------------------------------------------------------------------------------


def bare_loop(job_path: Path) -> None:
    """The reference: the plainest torch+peft LoRA loop, in this (child) process."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from teachgraph.student import _env  # noqa: F401  (offline, OpenMP policy: as the trainer)
    from teachgraph.student.chat import encode_pair
    from teachgraph.student.train_worker import collate

    job = json.loads(job_path.read_text())
    torch.set_num_threads(2)
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(job["base_dir"], local_files_only=True)
    examples = [encode_pair(tokenizer, p, t, 512) for p, t in job["pairs"]]
    model = AutoModelForCausalLM.from_pretrained(job["base_dir"], dtype=torch.float32, local_files_only=True)
    lora = LoraConfig(task_type="CAUSAL_LM", r=8, lora_alpha=16, lora_dropout=0.05, target_modules="all-linear")
    model = get_peft_model(model, lora)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    order = torch.randperm(len(examples)).tolist()
    step_seconds, step_tokens, losses = [], [], []
    cpu_start = time.process_time()
    for step in range(job["steps"]):
        if step == 1:
            cpu_start = time.process_time()  # CPU time after the first step, as wall time
        first = (step * job["batch_size"]) % len(examples)
        batch = collate([examples[i] for i in order[first : first + job["batch_size"]]], tokenizer.pad_token_id)
        start = time.monotonic()
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step_seconds.append(time.monotonic() - start)
        step_tokens.append(int(batch["attention_mask"].sum()))
        losses.append(float(loss.detach()))
    result = {
        "step_seconds": step_seconds,
        "step_tokens": step_tokens,
        "losses": losses,
        "cpu_seconds_after_first": time.process_time() - cpu_start,
        "peak_rss_bytes": peak_rss_bytes(),
    }
    Path(job["result"]).write_text(json.dumps(result))


def summarize_training(
    step_seconds: list[float], step_tokens: list[int], cpu_after_first: float, rss: int
) -> dict[str, Any]:
    """Throughput over the steps after the first."""
    later_s, later_t = step_seconds[1:] or step_seconds, step_tokens[1:] or step_tokens
    return {
        "steps": len(step_seconds),
        "first_step_s": round(step_seconds[0], 3),
        "s_per_step": round(sum(later_s) / len(later_s), 3),
        "tokens_per_sequence": round(sum(step_tokens) / len(step_tokens) / 8, 1),
        "tokens_per_s": round(sum(later_t) / sum(later_s), 1),
        "cpu_s_per_step": round(cpu_after_first / len(later_s), 3),
        "tokens_per_cpu_s": round(sum(later_t) / cpu_after_first, 1),
        "peak_rss_gib": round(rss / GIB, 3),
    }


def run_teachgraph_training(config: StudentConfig, pairs: list[TrainingPair], out: Path) -> tuple[dict[str, Any], Path]:
    """``HFStudent.train`` as a run calls it; returns its summary and the adapter."""
    student = build_student(config)
    result = student.train(pairs, out)
    record = json.loads((out / "train_result.json").read_text())
    later = record["step_seconds"][1:] or record["step_seconds"]
    cpu_after_first = record["loop_cpu_seconds"] * sum(later) / sum(record["step_seconds"])
    summary = summarize_training(
        record["step_seconds"], record["step_tokens"], cpu_after_first, record["peak_rss_bytes"]
    )
    summary["padding_fraction"] = round(1 - record["train_tokens"] / record["padded_tokens"], 3)
    summary["final_loss"] = round(result.final_loss or float("nan"), 4)
    return summary, out


def run_bare_training(
    base_dir: Path, pairs: list[TrainingPair], steps: int, batch_size: int, tmp: Path
) -> dict[str, Any]:
    """The bare loop in a child process (like teachgraph's trainer, so both start equally cold)."""
    job = {
        "base_dir": str(base_dir),
        "pairs": [[p.prompt, p.target] for p in pairs],
        "steps": steps,
        "batch_size": batch_size,
        "result": str(tmp / "bare_result.json"),
    }
    (tmp / "bare_job.json").write_text(json.dumps(job))
    env = {**os.environ, "OMP_NUM_THREADS": "2", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    # A session of its own, as teachgraph starts its trainer: with the kernel's autogroup
    # scheduling, CPU time is shared out per session, so the two must not differ in that.
    command = [sys.executable, __file__, "--bare-loop", str(tmp / "bare_job.json")]
    subprocess.run(command, check=True, env=env, start_new_session=True)
    record = json.loads(Path(job["result"]).read_text())
    summary = summarize_training(
        record["step_seconds"], record["step_tokens"], record["cpu_seconds_after_first"], record["peak_rss_bytes"]
    )
    summary["final_loss"] = round(record["losses"][-1], 4)
    return summary


# --- evaluation ----------------------------------------------------------------------------


def eval_worker(kind: str, setup: dict[str, Any], conn: Any) -> None:
    """Answer prompt chunks sent over ``conn`` with one evaluation variant; reply with timings."""
    from teachgraph.student import _env  # noqa: F401

    if kind == "llamacpp":
        import llama_cpp.llama_cpp as low_level
        from llama_cpp import Llama
        from transformers import AutoTokenizer

        # This CPU advertises AMX, but tile instructions raise SIGILL in this VM; llama.cpp
        # picks its AMX kernels for Q4_1/Q8_0 weights through the "extra buffer types", which
        # llama-cpp-python's Llama() cannot switch off, so switch them off in its defaults.
        default_params = low_level.llama_model_default_params

        def model_params() -> Any:
            params = default_params()
            params.use_extra_bufts = False
            return params

        low_level.llama_model_default_params = model_params
        llm = Llama(setup["gguf"], n_ctx=1024, n_threads=2, n_batch=512, verbose=False)
        tokenizer = AutoTokenizer.from_pretrained(setup["base_dir"], local_files_only=True)
        from teachgraph.student.chat import render_prompt

        def answer(prompts: list[str]) -> list[str]:
            out = []
            for prompt in prompts:  # one stream; llama-cpp-python reuses the common KV prefix
                ids = llm.tokenize(render_prompt(tokenizer, prompt).encode(), add_bos=False, special=True)
                done = llm.create_completion(ids, max_tokens=setup["max_new_tokens"], temperature=0.0, top_k=1)
                out.append(done["choices"][0]["text"].strip())
            return out

        count_tokenizer = tokenizer
    else:
        student = build_student(StudentConfig(**setup["config"]))
        assert isinstance(student, HFStudent)
        student.load_adapter(Path(setup["adapter"]))
        student.predict(["What is 2 + 2?"])  # load, first-call allocations
        answer, count_tokenizer = student.predict, student.tokenizer
    conn.send("ready")
    while (prompts := conn.recv()) is not None:
        wall, cpu = time.perf_counter(), time.process_time()
        answers = answer(prompts)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        tokens = sum(len(count_tokenizer(a, add_special_tokens=False)["input_ids"]) for a in answers)
        conn.send({"answers": answers, "seconds": wall, "cpu_seconds": cpu, "new_tokens": tokens})
    conn.send({"peak_rss_bytes": peak_rss_bytes()})


def run_evaluation(variants: dict[str, dict[str, Any]], prompts: list[str], chunks: int) -> dict[str, dict[str, Any]]:
    """Run every variant over its prompts, chunk by chunk, rotating the order of the variants."""
    ctx = mp.get_context("spawn")
    workers = {}
    for kind, spec in variants.items():
        parent, child = ctx.Pipe()
        process = ctx.Process(target=eval_worker, args=(spec["worker"], spec["setup"], child), daemon=True)
        process.start()
        child.close()  # so that recv() fails instead of hanging if the worker dies
        workers[kind] = (process, parent)
    for _, conn in workers.values():
        assert conn.recv() == "ready"
    totals = {k: {"answers": [], "seconds": 0.0, "cpu_seconds": 0.0, "new_tokens": 0} for k in variants}
    names = list(variants)
    for c in range(chunks):
        for kind in names[c % len(names) :] + names[: c % len(names)]:
            mine = prompts[: variants[kind]["prompts"]]
            size = -(-len(mine) // chunks)
            part = mine[c * size : (c + 1) * size]
            if not part:
                continue
            workers[kind][1].send(part)
            reply = workers[kind][1].recv()
            for key in ("seconds", "cpu_seconds", "new_tokens"):
                totals[kind][key] += reply[key]
            totals[kind]["answers"].extend(reply["answers"])
            print(f"  chunk {c + 1}/{chunks} {kind}: {len(part)} prompts {reply['seconds']:.1f} s", flush=True)
    for kind, (process, conn) in workers.items():
        conn.send(None)
        totals[kind]["peak_rss_gib"] = round(conn.recv()["peak_rss_bytes"] / GIB, 3)
        process.join(timeout=30)
    return totals


def held_out_prompts(n: int) -> tuple[Any, list[Any]]:
    """The arithmetic task and ``n`` test instances (seed 1: none of a seed-0 run's items)."""
    from teachgraph.tasks.registry import load_task

    task = load_task(
        {
            "name": "arithmetic",
            "params": {"skills": SKILLS, "train_size": 0, "validation_size": 0, "test_size": n, "seed": 1},
        }
    )
    return task, task.instances("test")


def evaluate_all(args: argparse.Namespace, base_dir: Path, adapter: Path, tmp: Path) -> dict[str, Any]:
    """Every evaluation variant over the held-out prompts, with accuracy and agreement."""
    from _gguf_student import export_merged_gguf

    from teachgraph.student.weights import smollm2_gguf_path

    print("exporting the trained student to GGUF for llama.cpp", flush=True)
    gguf_path = export_merged_gguf(base_dir, adapter, smollm2_gguf_path(), tmp / "student.gguf")
    task, instances = held_out_prompts(args.prompts)
    prompts = [task.student_prompt(i.prompt) for i in instances]
    hf = {"max_new_tokens": 16, "seed": 0}
    variants = {
        "teachgraph": {
            "worker": "hf",
            "prompts": len(prompts),
            "setup": {"config": {**hf, "generation": "fast", "generation_batch_size": 32}, "adapter": str(adapter)},
        },
        "hf_generate_batched": {
            "worker": "hf",
            "prompts": len(prompts),
            "setup": {
                "config": {**hf, "generation": "hf-generate", "generation_batch_size": 16},
                "adapter": str(adapter),
            },
        },
        "hf_generate_one_at_a_time": {
            "worker": "hf",
            "prompts": args.single_prompts,
            "setup": {
                "config": {**hf, "generation": "hf-generate", "generation_batch_size": 1},
                "adapter": str(adapter),
            },
        },
        "llamacpp_single_stream": {
            "worker": "llamacpp",
            "prompts": len(prompts),
            "setup": {"gguf": str(gguf_path), "base_dir": str(base_dir), "max_new_tokens": 16},
        },
    }
    print(f"evaluation: {len(prompts)} held-out arithmetic prompts, {args.chunks} interleaved chunks", flush=True)
    totals = run_evaluation(variants, prompts, args.chunks)
    evaluation: dict[str, Any] = {}
    for kind, total in totals.items():
        answers = total.pop("answers")
        items = instances[: len(answers)]
        total["prompts"] = len(answers)
        total["correct"] = sum(task.score(i, a).correct for i, a in zip(items, answers, strict=True))
        total["new_tokens_per_s"] = round(total["new_tokens"] / total["seconds"], 2)
        total["new_tokens_per_cpu_s"] = round(total["new_tokens"] / total["cpu_seconds"], 2)
        total["seconds"], total["cpu_seconds"] = round(total["seconds"], 2), round(total["cpu_seconds"], 2)
        total["answers"] = answers
        evaluation[kind] = total
    reference = evaluation["hf_generate_batched"]["answers"]
    for total in evaluation.values():
        n = len(total["answers"])
        total["identical_to_hf_generate"] = sum(a == b for a, b in zip(total["answers"], reference[:n], strict=True))
    return evaluation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=6, help="LoRA optimizer steps per training run")
    parser.add_argument("--rounds", type=int, default=2, help="training runs of each kind (interleaved)")
    parser.add_argument("--prompts", type=int, default=256, help="held-out evaluation prompts")
    parser.add_argument("--single-prompts", type=int, default=32, help="prompts for one-at-a-time generate")
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--training-only", action="store_true", help="skip the evaluation part")
    parser.add_argument("--bare-loop", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS / "student_throughput.json")
    args = parser.parse_args()
    if args.bare_loop:
        bare_loop(args.bare_loop)
        return

    rng = random.Random(0)
    pairs = [TrainingPair(prompt=p, target=t) for p, t in (word_problem(rng) for _ in range(64))]
    config = StudentConfig(batch_size=8, max_steps=args.steps, max_new_tokens=16, seed=0)
    base_dir = build_student(config).base_dir  # type: ignore[attr-defined]
    load_before = load_average()
    tmp = Path(tempfile.mkdtemp(prefix="student-bench-"))

    print(
        f"training: {args.rounds} x ({args.steps} steps teachgraph, {args.steps} steps bare loop), interleaved",
        flush=True,
    )
    runs: dict[str, list[dict[str, Any]]] = {"teachgraph": [], "bare_loop": []}
    adapter = tmp / "adapter-0"
    for r in range(args.rounds):
        for kind in ["teachgraph", "bare_loop"] if r % 2 == 0 else ["bare_loop", "teachgraph"]:
            if kind == "teachgraph":
                summary, _ = run_teachgraph_training(config, pairs, tmp / f"adapter-{r}")
            else:
                summary = run_bare_training(base_dir, pairs, args.steps, config.batch_size, tmp)
            runs[kind].append(summary)
            print(f"  {kind}: {summary}", flush=True)

    evaluation = {} if args.training_only else evaluate_all(args, base_dir, adapter, tmp)

    def mean(kind: str, key: str) -> float:
        return sum(r[key] for r in runs[kind]) / len(runs[kind])

    ratios: dict[str, Any] = {
        "training_tokens_per_s_vs_bare_loop": round(
            mean("teachgraph", "tokens_per_s") / mean("bare_loop", "tokens_per_s"), 2
        ),
        "training_tokens_per_cpu_s_vs_bare_loop": round(
            mean("teachgraph", "tokens_per_cpu_s") / mean("bare_loop", "tokens_per_cpu_s"), 2
        ),
        "training_peak_rss_gib": max(r["peak_rss_gib"] for r in runs["teachgraph"]),
    }
    if evaluation:
        ratios.update(
            {
                "eval_new_tokens_per_s_vs_llamacpp_single": round(
                    evaluation["teachgraph"]["new_tokens_per_s"]
                    / evaluation["llamacpp_single_stream"]["new_tokens_per_s"],
                    2,
                ),
                "eval_new_tokens_per_s_vs_hf_one_at_a_time": round(
                    evaluation["teachgraph"]["new_tokens_per_s"]
                    / evaluation["hf_generate_one_at_a_time"]["new_tokens_per_s"],
                    2,
                ),
                "eval_correct_minus_hf_generate": evaluation["teachgraph"]["correct"]
                - evaluation["hf_generate_batched"]["correct"],
            }
        )
    import torch
    import transformers

    report = {
        "model": config.model,
        "lora": {
            "r": config.lora_r,
            "alpha": config.lora_alpha,
            "dropout": config.lora_dropout,
            "targets": "all-linear",
        },
        "dtype": "float32",
        "ratios": ratios,
        "targets": {
            "training_vs_bare_loop": ">= 0.9",
            "eval_vs_llamacpp_single": ">= 2.0 with correct within 1 of HF",
            "training_peak_rss_gib": "<= 4",
        },
        "training": {"batch_size": config.batch_size, "examples": len(pairs), **runs},
        "evaluation": {
            "prompts": args.prompts,
            "max_new_tokens": 16,
            "llamacpp_gguf": "merged fp32 -> Q8_0 projections",
            **evaluation,
        }
        if evaluation
        else None,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "load_average_before": load_before,
            "load_average_after": load_average(),
        },
        "command": "python benchmarks/student_throughput.py " + " ".join(sys.argv[1:]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nratios: {json.dumps(ratios, indent=2)}")
    print(f"load average before {load_before}, after {report['machine']['load_average_after']}")
    for kind, total in evaluation.items():
        print(
            f"  {kind:28} {total['prompts']:4} prompts {total['new_tokens_per_s']:8} new tok/s "
            f"correct {total['correct']:4}  identical to HF {total['identical_to_hf_generate']}  RSS {total['peak_rss_gib']} GiB"
        )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
