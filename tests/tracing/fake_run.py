"""A synthetic but realistic run directory, written with the real writers and records.

Three teacher iterations (evaluations 0-3) of a skill-tree teacher on an arithmetic task: three
root skills that get subskills over the run, examples accepted and rejected for several reasons,
decisions and LLM calls in the trace, and metrics.json built by the episode's own
``build_metrics``/``_summary``.

Run ``python -m tests.tracing.fake_run [DIR]`` to build one (default ``/tmp/report_demo/run``),
write its report and save the report's plots as PNGs next to it, to look at them.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from teachgraph.domain import (
    EvaluationReport,
    Provenance,
    RejectionReason,
    SkillReport,
    TrainingExample,
    Verdict,
)
from teachgraph.graphs.episode import _summary, build_metrics
from teachgraph.skills import SkillForest
from teachgraph.tracing.events import TraceEvent
from teachgraph.tracing.rundir import RunDir
from teachgraph.views import draw_forest

RUN_ID = "arith-skilltree-demo"
ITERATIONS = 3
TEACHER_MODEL = "local:qwen2.5-coder-1.5b-instruct"
WRITER_MODEL = "openai:gpt-4o-mini"
SCRIPT_QUESTION = '<script>alert("pwned")</script> What is 17 + 25?'

# Gold skills of the task's validation/test sets (what metrics.json's per_skill is keyed by).
GOLD = [
    "arithmetic/addition",
    "arithmetic/fractions",
    "arithmetic/percentages",
    "arithmetic/word_problems",
]
VAL = {  # iteration -> (accuracy per gold skill)
    0: [0.55, 0.30, 0.25, 0.40],
    1: [0.65, 0.35, 0.30, 0.45],
    2: [0.75, 0.40, 0.45, 0.50],
    3: [0.80, 0.55, 0.50, 0.60],
}
TEST = {0: 0.38, 1: 0.44, 2: 0.52, 3: 0.59}

# Teacher skills: root -> subskills added at iteration 1 (addition, word problems) or 2 (fractions).
FOREST = {
    "multi-digit addition": (1, ["carrying across columns", "aligning place values"]),
    "fractions": (2, ["common denominators", "mixed numbers"]),
    "word problems": (1, ["multi-step reasoning", "percent change"]),
}
ROOT_GOLD = [0, 1, 3]  # FOREST root -> index into GOLD
REJECTIONS = [
    (RejectionReason.ANSWER_MISMATCH, "program printed 41, answer says 42"),
    (RejectionReason.PROGRAM_ERROR, "ZeroDivisionError: division by zero"),
    (RejectionReason.DUPLICATE, "same question as ex-3f2a in iteration 0"),
    (RejectionReason.TOO_EASY, "student already answers it"),
    (RejectionReason.CONTAMINATED, "62% 8-gram overlap with validation/17"),
    (RejectionReason.MALFORMED, "empty answer <b>bold</b>"),
]


def _report(split: str, iteration: int, accs: list[float], n_per_skill: int) -> dict[str, Any]:
    per_skill = [
        SkillReport(skill=s, n=n_per_skill, correct=round(a * n_per_skill)) for s, a in zip(GOLD, accs, strict=True)
    ]
    report = EvaluationReport(
        split=split,
        iteration=iteration,
        n=sum(r.n for r in per_skill),  # type: ignore[arg-type]
        correct=sum(r.correct for r in per_skill),
        per_skill=per_skill,
    )
    return report.model_dump(mode="json")


def _leaves_with_quota(forest: SkillForest) -> list[str]:
    return [p for p, q in forest.quotas().items() if forest.graph.out_degree(p) == 0]


def build_run(root: Path, *, iterations: int = ITERATIONS) -> RunDir:
    """Write the synthetic run into ``root`` and return its :class:`RunDir`."""
    rng = random.Random(0)
    run = RunDir(root)
    run.write_config(
        {
            "name": RUN_ID,
            "seed": 0,
            "task": {"name": "arithmetic", "params": {"validation_size": 80, "test_size": 160}},
            "teacher": {
                "environment": "skill_tree",
                "with_state": True,
                "models": {"default": TEACHER_MODEL, "data_writing": WRITER_MODEL},
                "examples_per_iteration": 24,
                "policy": "bandit",
                "resolved_models": {
                    node: (WRITER_MODEL if node == "data_writing" else TEACHER_MODEL)
                    for node in (
                        "error_analysis",
                        "skill_induction",
                        "subskill_exploration",
                        "policy",
                        "allocation",
                        "data_writing",
                    )
                },
            },
            "loop": {"iterations": iterations},
        }
    )
    ts = 1_700_000_000.0

    def event(kind: str, node: str, iteration: int, skill: str | None = None, **data: Any) -> None:
        nonlocal ts
        ts += rng.uniform(0.5, 20.0)
        run.append_event(
            TraceEvent(
                ts=ts,
                run_id=RUN_ID,
                iteration=iteration,
                node=node,
                kind=kind,
                skill=skill,
                data=data,
            )
        )

    def llm(node: str, iteration: int, skill: str | None = None, ok: bool = True) -> None:
        model = WRITER_MODEL if node == "data_writing" else TEACHER_MODEL
        event(
            "llm_call",
            node,
            iteration,
            skill,
            model=model,
            purpose=node,
            ok=ok,
            error=None if ok else "no valid JSON after 3 attempts",
            attempts=1 if ok else 3,
            input_tokens=rng.randint(600, 2400),
            output_tokens=rng.randint(80, 900) if ok else 0,
            latency_s=round(rng.uniform(0.8, 9.0), 3),
            prompt_sha256="0123456789abcdef",
            response="{...}",
        )

    forest = SkillForest()
    evaluations: list[dict[str, Any]] = []
    rounds: list[dict[str, Any]] = []
    ctx = SimpleNamespace(
        run_id=RUN_ID,
        config=SimpleNamespace(
            task=SimpleNamespace(name="arithmetic"),
            teacher=SimpleNamespace(environment="skill_tree", with_state=True),
        ),
    )
    for it in range(iterations + 1):
        val, test = _report("validation", it, VAL[it], 20), _report("test", it, [TEST[it]] * 4, 40)
        evaluations.append({"iteration": it, "validation": _summary(val), "test": _summary(test)})
        for split, rep in (("validation", val), ("test", test)):
            event(
                "evaluation",
                "evaluate",
                it,
                split=split,
                accuracy=rep["correct"] / rep["n"],
                n=rep["n"],
            )
        stop = f"iterations: {iterations} done" if it == iterations else None
        run.write_metrics(build_metrics(ctx, evaluations, rounds, stop))  # type: ignore[arg-type]
        if stop:
            break

        # ---- the teacher's step of iteration ``it``
        llm("error_analysis", it)
        if it == 0:
            llm("skill_induction", it)
            for name in FOREST:
                forest.add_skill(name, quota=8, iteration=0, description=f"questions about {name}")
        for r, root in enumerate(forest.roots()):
            value = VAL[it][ROOT_GOLD[r]]
            forest.record_accuracy(root, iteration=it, split="validation", value=value, n=20)
            for c, child in enumerate(forest.children(root)):  # subskills: the root's +- a bit
                sub = min(1.0, max(0.0, value + (0.1 if c else -0.15)))
                forest.record_accuracy(child, iteration=it, split="validation", value=round(sub, 2), n=10)
        llm("policy", it)
        for root, (explore_at, subskills) in FOREST.items():
            if explore_at == it:
                event(
                    "decision",
                    "policy",
                    it,
                    root,
                    policy="bandit",
                    action="explore",
                    reason=f"{root} is weak and has no subskills yet",
                    num_new=2,
                    new_quota=4,
                )
                llm("subskill_exploration", it, root)
                forest.set_quota(root, 0)
                for sub in subskills:
                    forest.add_skill(sub, parent=root, quota=4, iteration=it)
            elif it > 0:
                quotas = {p: 3 + it for p in forest.leaves(root)}
                event(
                    "decision",
                    "policy",
                    it,
                    root,
                    policy="bandit",
                    action="exploit",
                    reason="UCB value highest among known subskills",
                    quotas=quotas,
                )
                for p, q in quotas.items():
                    forest.set_quota(p, q)
        llm("allocation", it)
        event(
            "decision",
            "allocation",
            it,
            policy="error_weighted",
            reason="budget split by error rate",
            quotas=forest.quotas(),
        )

        examples: list[TrainingExample] = []
        for k, path in enumerate(_leaves_with_quota(forest)):
            llm("data_writing", it, path, ok=not (it == 1 and k == 0))
            for j in range(forest.node(path).quota + 2):
                a, b = rng.randint(10, 999), rng.randint(10, 999)
                question = f"[{path}] What is {a} + {b}? (#{j})"
                if it == 0 and k == 0 and j == 0:
                    question, a, b = SCRIPT_QUESTION, 17, 25
                verdict = Verdict(accepted=True, reason=RejectionReason.ACCEPTED)
                if j >= forest.node(path).quota - (1 if it else 0):
                    reason, detail = REJECTIONS[(k + j + it) % len(REJECTIONS)]
                    verdict = Verdict(accepted=False, reason=reason, detail=detail)
                examples.append(
                    TrainingExample(
                        input=question,
                        target=str(a + b),
                        answer=str(a + b),
                        skill_path=path.split("/"),
                        solution_program=f"print({a} + {b})",
                        provenance=Provenance(
                            node="data_writing",
                            model=WRITER_MODEL,
                            iteration=it,
                            skill=path,
                            action="explore" if it == FOREST[path.split("/")[0]][0] else "exploit",
                        ),
                        verdict=verdict,
                    )
                )
        if it == 1:
            event(
                "failure",
                "data_writing",
                it,
                _leaves_with_quota(forest)[0],
                error="no valid JSON after 3 attempts",
            )
        for ex in examples:
            event(
                "verdict",
                "validation",
                it,
                ex.skill,
                accepted=ex.accepted,
                reason=ex.verdict.reason.value,  # type: ignore[union-attr]
                detail=ex.verdict.detail,
                question=ex.input,
            )  # type: ignore[union-attr]
        for path in _leaves_with_quota(forest):
            mine = [ex for ex in examples if ex.skill == path]
            forest.record_generated(
                path,
                accepted=sum(ex.accepted for ex in mine),
                rejected=sum(not ex.accepted for ex in mine),
            )
        run.write_examples(it, examples)
        run.write_forest(it, forest.to_data())
        accepted = [ex for ex in examples if ex.accepted]
        rejected: dict[str, int] = {}
        for ex in examples:
            if not ex.accepted:
                rejected[ex.verdict.reason.value] = rejected.get(ex.verdict.reason.value, 0) + 1  # type: ignore[union-attr]
        per_skill: dict[str, int] = {}
        for ex in accepted:
            per_skill[ex.skill] = per_skill.get(ex.skill, 0) + 1
        rounds.append(
            {
                "iteration": it,
                "written": len(examples),
                "accepted": len(accepted),
                "rejected": dict(sorted(rejected.items())),
                "accepted_per_skill": dict(sorted(per_skill.items())),
                "teacher_input_tokens": 10_000 + 1_000 * it,
                "teacher_output_tokens": 2_000 + 500 * it,
                "failures": [
                    {
                        "node": "data_writing",
                        "iteration": it,
                        "error": "no valid JSON",
                        "skill": None,
                    }
                ]
                if it == 1
                else [],
                "actions": [],
            }
        )
        event("training", "train", it, examples=len(accepted), seconds=12.5)
    return run


def main(argv: list[str]) -> None:
    from teachgraph.tracing.report import (
        accuracy_plot,
        data_counts,
        data_plot,
        load_run,
        skill_heatmap,
        write_report,
    )

    out = Path(argv[0]) if argv else Path("/tmp/report_demo/run")
    if out.exists():
        import shutil

        shutil.rmtree(out)
    run = build_run(out)
    print(write_report(run.root))
    data = load_run(run.root)
    demo = out.parent
    for name, png in (
        ("accuracy.png", accuracy_plot(data.evaluations)),
        ("data_per_skill.png", data_plot(data_counts(data.examples))),
        ("skill_heatmap.png", skill_heatmap(data.evaluations)),
    ):
        assert png is not None
        (demo / name).write_bytes(png)
        print(demo / name)
    for it, forest_data in data.forests.items():
        print(draw_forest(SkillForest.from_data(forest_data), demo / f"forest_iter{it}.png", title=f"iteration {it}"))


if __name__ == "__main__":
    main(sys.argv[1:])
