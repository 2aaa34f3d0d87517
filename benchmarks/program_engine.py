"""One skill-tree teacher step with the real local teacher: validated examples per output token.

The student (SmolLM2-135M, untrained) answers the validation split; then ONE teacher step of the
skill-tree environment runs with the embedded Qwen2.5-Coder-1.5B teacher on the arithmetic suite
(basic_arithmetic, chain_sum, gcd, lcm). Every figure is computed from the step's trace events
(``llm_call``, ``generator``, ``drawn``, ``verdict``) and written to
``benchmarks/results/program_engine[-ENGINE].json``.

    .venv/bin/python benchmarks/program_engine.py                         # engine: programs, 240 examples
    .venv/bin/python benchmarks/program_engine.py --engine examples --budget 24   # the direct writer
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from teachgraph.config import load_config
from teachgraph.graphs.teacher import build_teacher
from teachgraph.nodes.evaluate import evaluate_split
from teachgraph.providers import ModelRouter
from teachgraph.state import TeacherContext
from teachgraph.student import build_student
from teachgraph.tasks import load_task

RESULTS = Path(__file__).parent / "results"
CONFIG = Path(__file__).parent / "strategies.yaml"


def figures(events: list[dict[str, Any]], examples: list[Any], wall_s: float) -> dict[str, Any]:
    """The step's figures, from its trace events and its examples."""
    calls = [e for e in events if e["kind"] == "llm_call"]
    out_tokens = sum(e["data"].get("output_tokens") or 0 for e in calls)
    in_tokens = sum(e["data"].get("input_tokens") or 0 for e in calls)
    by_purpose: Counter[str] = Counter()
    for e in calls:
        by_purpose[f"{e['node']}: {e['data'].get('purpose')}"] += e["data"].get("output_tokens") or 0
    verdicts = [e for e in events if e["kind"] == "verdict"]
    accepted = sum(1 for e in verdicts if e["data"]["accepted"])
    drawn = [e for e in events if e["kind"] == "drawn"]
    generators = [e for e in events if e["kind"] == "generator"]
    seeds_used = sum(e["data"]["seeds"] for e in drawn)
    rejected = Counter(e["data"]["reason"] for e in verdicts if not e["data"]["accepted"])
    return {
        "validated_examples": accepted,
        "written_examples": len(examples),
        "drawn_examples": seeds_used if drawn else None,
        "accepted_share_of_drawn": round(accepted / seeds_used, 4) if seeds_used else None,
        "accepted_share_of_written": round(accepted / len(examples), 4) if examples else None,
        "rejected": dict(sorted(rejected.items())),
        "teacher_output_tokens": out_tokens,
        "teacher_input_tokens": in_tokens,
        "output_tokens_per_validated_example": round(out_tokens / accepted, 2) if accepted else None,
        "output_tokens_by_node_and_purpose": dict(by_purpose.most_common()),
        "llm_calls": len(calls),
        "generators": [
            {
                "skill": e["skill"],
                "hash": e["data"]["generator"],
                "verdict": e["data"]["reason"],
                "detail": e["data"]["detail"],
                "attempt": e["data"]["attempt"],
                "stats": e["data"]["stats"],
                "source": e["data"].get("source"),
                "sample": e["data"].get("sample"),
            }
            for e in generators
        ],
        "draws": [
            {
                k: e["data"].get(k)
                for k in ("generator", "quota", "kept", "seeds", "duplicates", "contaminated", "errors")
            }
            | {"skill": e["skill"]}
            for e in drawn
        ],
        "probe": [e["data"] | {"skill": e["skill"]} for e in events if e["kind"] == "probe"],
        "wall_s": round(wall_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["programs", "examples"], default="programs")
    parser.add_argument("--budget", type=int, default=240, help="examples_per_iteration of the step")
    parser.add_argument(
        "--policy", default="llm", help="the skill-tree policy (default: llm, as examples/default.yaml)"
    )
    parser.add_argument("--teacher", default="local:qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--student", default="smollm2-135m-instruct")
    parser.add_argument(
        "--events", type=Path, help="also write every trace event (full LLM transcripts included) to this jsonl file"
    )
    args = parser.parse_args()

    base = load_config(CONFIG)
    teacher = base.teacher.model_copy(
        update={
            "engine": args.engine,
            "examples_per_iteration": args.budget,
            "policy": args.policy,
            "models": {"default": {"spec": args.teacher, "max_tokens": 600}},
            "seed": base.seed,
        }
    )
    config = base.model_copy(
        update={"teacher": teacher, "student": base.student.model_copy(update={"model": args.student})}
    )
    task = load_task(config.task)
    student = build_student(config.student)
    start = time.perf_counter()
    evaluated = evaluate_split(student, task, task.instances("validation"))
    eval_s = time.perf_counter() - start
    print(
        f"student validation accuracy {sum(e.correct for e in evaluated)}/{len(evaluated)} ({eval_s:.0f} s)", flush=True
    )

    graph = build_teacher("skill_tree", with_state=True, engine=args.engine).compile()
    ctx = TeacherContext(
        task=task, models=ModelRouter(teacher.models), settings=teacher, run_id="bench", student=student
    )
    events: list[dict[str, Any]] = []
    out: dict[str, Any] = {}
    start = time.perf_counter()
    for mode, chunk in graph.stream(
        {"iteration": 0, "evaluated": evaluated, "forest": {}, "known_questions": []},
        context=ctx,
        stream_mode=["custom", "values"],
    ):
        if mode == "custom":
            event = chunk["teachgraph_event"]
            events.append(event)
            if event["kind"] in ("llm_call", "generator", "drawn", "decision"):
                d = event["data"]
                brief = {
                    k: d.get(k) for k in ("purpose", "output_tokens", "reason", "action", "kept", "seeds") if k in d
                }
                print(f"  {event['kind']:<9} {event.get('skill') or '':<40} {brief}", flush=True)
        else:
            out = chunk
    result = figures(events, out.get("examples", []), time.perf_counter() - start)
    if args.events:
        args.events.write_text("".join(json.dumps(e, default=str) + "\n" for e in events))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    record = {
        "command": "python benchmarks/program_engine.py " + " ".join(sys.argv[1:]),
        "commit": commit,
        "machine": f"{platform.machine()}, {platform.python_version()}; shared 2-core CPU (loaded by other work)",
        "engine": args.engine,
        "policy": args.policy,
        "teacher": args.teacher,
        "student": args.student,
        "task": config.task.model_dump(mode="json"),
        "examples_per_iteration": args.budget,
        "student_validation_accuracy": round(sum(e.correct for e in evaluated) / len(evaluated), 4),
        **result,
    }
    RESULTS.mkdir(exist_ok=True)
    name = "program_engine.json" if args.engine == "programs" else f"program_engine-{args.engine}.json"
    (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n")
    keys = (
        "validated_examples",
        "drawn_examples",
        "accepted_share_of_drawn",
        "teacher_output_tokens",
        "output_tokens_per_validated_example",
        "llm_calls",
        "wall_s",
    )
    for k in keys:
        print(f"{k}: {record[k]}")
    print(f"written to {RESULTS / name}")


if __name__ == "__main__":
    main()
