"""Skill induction against gold labels: the skill_induction node alone, one row per method.

The 6-skill arithmetic suite of examples/default.yaml (its validation split, enlarged to --n
instances), the student's own results on it (SmolLM2, as the teacher sees them in an episode),
and the embedded teacher of examples/default.yaml (local Qwen2.5-Coder-1.5B, its max_tokens).
Every method gets the same skill cap (--max-skills, above the gold count so the cap does not
decide the partition). Reported per method: adjusted mutual information (AMI) and purity against
the gold skills, skills induced, instances left in the fallback skill, teacher tokens (in/out,
and per 100 instances), wall time, and stability: the same instances are presented again as new
in a second iteration (the first iteration's skills kept, its assignments dropped), and the share
that lands in the same skill is reported, with the skills that second pass added.

    .venv/bin/python benchmarks/skill_induction.py                       # every method (Qwen: ~30 min on 2 cores)
    .venv/bin/python benchmarks/skill_induction.py --methods structure   # one row; other rows are kept
    .venv/bin/python benchmarks/skill_induction.py --scripted            # plumbing check, scripted teacher

Rows are written to benchmarks/results/skill_induction.{json,md} as each method finishes; each
method's trace (full prompts and replies) to benchmarks/results/runs/skill_induction/local/<method>/
(`teachgraph trace DIR --full`).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml
from langgraph.graph import END, START, StateGraph

from teachgraph.config import TeacherSettings
from teachgraph.domain import EvaluatedInstance
from teachgraph.nodes.skill_induction import FALLBACK_SKILL, skill_induction
from teachgraph.providers import ModelRouter
from teachgraph.skills import SkillForest
from teachgraph.skills.structure import group_frames, question_frame
from teachgraph.state import TeacherContext, TeacherState
from teachgraph.tasks import load_task
from teachgraph.tracing.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
RUNS = RESULTS / "runs" / "skill_induction"  # traces per method (not committed)
DEFAULT_CONFIG = ROOT / "examples" / "default.yaml"
METHODS = ("gold", "structure", "two_stage", "direct")
LABELS = {
    "gold": "gold labels (use_gold_skills, reference)",
    "frames": "question frames alone (no model; groups unnamed)",
    "structure": "structure: group by frame, model names groups",
    "two_stage": "two_stage: label each question, then group labels (DataEnvGym)",
    "direct": "direct: name skills + assign in one call per 30 (before this issue)",
}


def scores(gold: list[str], induced: list[str]) -> dict[str, float]:
    """AMI and purity of an induced partition against the gold one."""
    from sklearn.metrics import adjusted_mutual_info_score

    by_cluster: dict[str, Counter[str]] = {}
    for g, c in zip(gold, induced, strict=True):
        by_cluster.setdefault(c, Counter())[g] += 1
    purity = sum(max(c.values()) for c in by_cluster.values()) / len(gold)
    return {"ami": round(float(adjusted_mutual_info_score(gold, induced)), 3), "purity": round(purity, 3)}


def evaluate_with_student(
    task: Any, instances: list[Any], student_spec: dict[str, Any] | None
) -> list[EvaluatedInstance]:
    """The student's results on ``instances`` (what the teacher sees); all-wrong without a student."""
    if student_spec is None:
        return [EvaluatedInstance(instance=i, prediction="", correct=False, score=0.0) for i in instances]
    from teachgraph.nodes.evaluate import evaluate_split
    from teachgraph.student import build_student
    from teachgraph.student.config import StudentConfig

    student = build_student(StudentConfig.model_validate(student_spec))
    student.load_adapter(None)
    return evaluate_split(student, task, instances)


def run_node(
    ctx: TeacherContext, evaluated: list[EvaluatedInstance], forest: dict[str, Any], iteration: int, run: RunDir
) -> dict:
    """Run skill_induction alone (a one-node graph, as in an episode); return state + events + wall time.

    The events (with every call's full prompt and response) are kept in ``run``, so
    ``teachgraph trace DIR --full`` shows what the teacher was asked and said.
    """
    graph = StateGraph(TeacherState, context_schema=TeacherContext)
    graph.add_node("skill_induction", skill_induction)
    graph.add_edge(START, "skill_induction")
    graph.add_edge("skill_induction", END)
    app = graph.compile()
    events: list[dict[str, Any]] = []
    out: dict[str, Any] = {}
    start = time.perf_counter()
    for mode, chunk in app.stream(
        {"iteration": iteration, "evaluated": evaluated, "forest": forest, "with_state": True},
        context=ctx,
        stream_mode=["custom", "values"],
    ):
        if mode == "custom":
            events.append(chunk["teachgraph_event"])
            run.append_event(chunk["teachgraph_event"])
        else:
            out = chunk
    out["wall_s"] = time.perf_counter() - start
    out["events"] = events
    return out


def tokens(state: dict[str, Any]) -> tuple[int, int]:
    usage = state.get("usage", [])
    return sum(u.input_tokens for u in usage), sum(u.output_tokens for u in usage)


def measure(
    method: str,
    task: Any,
    evaluated: list[EvaluatedInstance],
    models: dict,
    max_skills: int,
    run: RunDir,
    *,
    second_pass: bool = True,
) -> dict:
    settings = TeacherSettings(
        models=models,
        max_skills=max_skills,
        use_gold_skills=method == "gold",
        induction="structure" if method == "gold" else method,  # type: ignore[arg-type]
    )
    ctx = TeacherContext(task=task, models=ModelRouter(models), settings=settings, run_id=f"bench-{method}")
    gold = [e.instance.gold_skill or "" for e in evaluated]
    first = run_node(ctx, evaluated, {}, 0, run)
    forest = SkillForest.from_data(first["forest"])
    induced = [forest.assignments[e.instance.id] for e in evaluated]
    tin, tout = tokens(first)
    n = len(evaluated)
    stability: dict[str, Any] = {"stable": None, "new_skills_2nd": None, "tokens_2nd": None, "wall_s_2nd": None}
    if second_pass:
        # Second iteration: the same questions arrive as new instances; the skills stay.
        again = forest.copy()
        again.assignments = {}
        second = run_node(ctx, evaluated, again.to_data(), 1, run)
        forest2 = SkillForest.from_data(second["forest"])
        induced2 = [forest2.assignments[e.instance.id] for e in evaluated]
        stability = {
            "stable": round(sum(a == b for a, b in zip(induced, induced2, strict=True)) / n, 3),
            "new_skills_2nd": len(set(forest2.roots()) - set(forest.roots())),
            "tokens_2nd": sum(tokens(second)),
            "wall_s_2nd": round(second["wall_s"], 1),
        }
    sizes = Counter(induced)
    return {
        "method": method,
        "label": LABELS[method],
        **scores(gold, induced),
        "skills": len(sizes),
        "gold_skills": len(set(gold)),
        "fallback": sizes.get(FALLBACK_SKILL, 0),
        "input_tokens": tin,
        "output_tokens": tout,
        "tokens_per_100": round(100 * (tin + tout) / n, 1),
        "llm_calls": sum(1 for e in first["events"] if e["kind"] == "llm_call"),
        "failed_calls": sum(1 for e in first["events"] if e["kind"] == "llm_call" and not e["data"].get("ok")),
        "wall_s": round(first["wall_s"], 1),
        **stability,
        "sizes": dict(sizes),
        "contingency": {
            path: dict(Counter(g.rsplit("/", 1)[-1] for g, c in zip(gold, induced, strict=True) if c == path))
            for path in sizes
        },
        "descriptions": {r: forest.node(r).description for r in forest.roots()},
    }


def frames_row(evaluated: list[EvaluatedInstance], max_skills: int) -> dict[str, Any]:
    """The structure method's groups before any model names (or merges) them."""
    gold = [e.instance.gold_skill or "" for e in evaluated]
    groups = [f"g{k}" for k in group_frames([question_frame(e.instance.prompt) for e in evaluated], 2 * max_skills)]
    return {
        "method": "frames",
        "label": LABELS["frames"],
        **scores(gold, groups),
        "skills": len(set(groups)),
        "gold_skills": len(set(gold)),
        "fallback": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "tokens_per_100": 0.0,
        "llm_calls": 0,
        "failed_calls": 0,
        "wall_s": 0.0,
        "stable": 1.0,
        "new_skills_2nd": 0,
        "tokens_2nd": 0,
        "wall_s_2nd": 0.0,
    }


def markdown(result: dict[str, Any]) -> str:
    meta = result["meta"]
    lines = [
        "# Skill induction against gold labels",
        "",
        f"{meta['instances']} validation instances of {meta['gold_skills']} gold skills "
        f"({', '.join(meta['skills'])}); teacher `{meta['teacher']}`; skill cap {meta['max_skills']}; "
        f"student results from `{meta['student']}`. Machine: {meta['machine']} (shared, loaded: wall times "
        "are indicative only). Command: `" + meta["command"] + "`.",
        "",
        "Targets: AMI ≥ 0.6 with ≤ 1.5× as many skills as gold; ≤ 3,000 teacher tokens per 100 instances.",
        "",
        "| method | AMI | purity | skills | fallback | tokens in / out | tokens /100 | calls (failed) | wall s "
        "| same skill 2nd pass | new skills 2nd pass | tokens 2nd pass |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['label']} | {r['ami']:.3f} | {r['purity']:.3f} | {r['skills']} | {r['fallback']} "
            f"| {r['input_tokens']} / {r['output_tokens']} | {r['tokens_per_100']} | {r['llm_calls']} ({r['failed_calls']}) "
            + (
                f"| {r['wall_s']} | {r['stable']:.0%} | {r['new_skills_2nd']} | {r['tokens_2nd']} |"
                if r["stable"] is not None
                else f"| {r['wall_s']} | not measured | | |"
            )
        )
    lines += ["", "Skills induced (gold skill counts per induced skill):", ""]
    for r in result["rows"]:
        if "contingency" in r:
            parts = "; ".join(
                f"**{k}** {', '.join(f'{g} {n}' for g, n in v.items())}" for k, v in r["contingency"].items()
            )
            lines.append(f"- {r['method']}: {parts}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--n", type=int, default=120, help="Validation instances (default 120).")
    parser.add_argument("--max-skills", type=int, default=8)
    parser.add_argument("--scripted", action="store_true", help="Scripted teacher, no student: plumbing check.")
    parser.add_argument(
        "--no-second-pass", action="store_true", help="Skip the stability pass (halves the model time)."
    )
    args = parser.parse_args()

    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    skills = config["task"]["params"]["skills"]
    task = load_task(
        {"name": "arithmetic", "params": {"skills": skills, "validation_size": args.n, "train_size": 0, "seed": 0}}
    )
    instances = task.instances("validation")
    if args.scripted:
        models: dict[str, Any] = {"default": "scripted:examples/smoke_script.yaml"}
        student_spec = None
    else:
        models = {"default": config["teacher"]["models"]["default"]}
        student_spec = {k: v for k, v in config["student"].items() if k in ("kind", "model", "max_new_tokens")}
    # The student's results are the same for every method: computed once, reused by later runs.
    cache = RUNS / ("scripted" if args.scripted else "local") / f"evaluated-{args.n}.jsonl"
    if cache.is_file():
        evaluated = [EvaluatedInstance.model_validate_json(line) for line in cache.read_text().splitlines()]
    if not cache.is_file() or [e.instance for e in evaluated] != instances:
        evaluated = evaluate_with_student(task, instances, student_spec)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text("".join(e.model_dump_json() + "\n" for e in evaluated))
    name = "skill_induction-scripted" if args.scripted else "skill_induction"
    path = RESULTS / f"{name}.json"
    previous = json.loads(path.read_text()) if path.is_file() else {}
    rows = {r["method"]: r for r in previous.get("rows", [])}
    rows["frames"] = frames_row(evaluated, args.max_skills)
    teacher = models["default"] if isinstance(models["default"], str) else json.dumps(models["default"])
    meta = {
        "instances": len(evaluated),
        "gold_skills": len(skills),
        "skills": skills,
        "teacher": teacher,
        "student": "none (all answers counted wrong)" if student_spec is None else student_spec["model"],
        "student_accuracy": round(sum(e.correct for e in evaluated) / len(evaluated), 3),
        "max_skills": args.max_skills,
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
        "command": "python benchmarks/skill_induction.py" + (" --scripted" if args.scripted else ""),
    }
    for method in args.methods:
        print(f"[{time.strftime('%H:%M:%S')}] {method} ...", flush=True)
        run = RunDir(RUNS / ("scripted" if args.scripted else "local") / method)
        run.trace_path.unlink(missing_ok=True)
        run.llm_calls_path.unlink(missing_ok=True)
        rows[method] = measure(
            method, task, evaluated, models, args.max_skills, run, second_pass=not args.no_second_pass
        )
        r = rows[method]
        print(
            f"  AMI {r['ami']} purity {r['purity']} skills {r['skills']} fallback {r['fallback']} "
            f"tokens/100 {r['tokens_per_100']} wall {r['wall_s']} s stable {r['stable']} (2nd pass {r['wall_s_2nd']} s)",
            flush=True,
        )
        # Re-read first: another invocation (one method each) may have written its row meanwhile.
        if path.is_file():
            rows = {r["method"]: r for r in json.loads(path.read_text()).get("rows", [])} | {
                "frames": rows["frames"],
                method: rows[method],
            }
        ordered = [rows[m] for m in ("gold", "frames", *METHODS[1:]) if m in rows]
        result = {"meta": meta, "rows": ordered}
        RESULTS.mkdir(exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n")
        path.with_suffix(".md").write_text(markdown(result))
    print(f"wrote {path} and {path.with_suffix('.md')}")


if __name__ == "__main__":
    main()
