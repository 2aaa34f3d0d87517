"""difficulty_probe (program engine, tool node): store generators on the forest, probe the student.

Runs after validation. It records every generator the writers wrote or drew from on its forest
node (with the draws and accepted examples it yielded), then lets the student answer a small
sample of each generator's accepted questions before any training. The accuracy lands on the
forest node as accuracy on ``generated`` data, so subskills (which have no validation items of
their own) get an accuracy too, and the policies see a per-subskill signal. With
``programs.skip_if_solved`` set, a generator the student already solves is retired: its draws
are rejected as ``too_easy`` (kept, with that verdict) and the next step writes a harder one.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from teachgraph.domain import RejectionReason, TrainingExample, Verdict
from teachgraph.nodes.llm import trace
from teachgraph.skills import SkillForest
from teachgraph.skills.generator import GeneratorRecord
from teachgraph.state import TeacherContext, TeacherState
from teachgraph.tasks.answers import extract_answer

NODE = "difficulty_probe"


def store_generators(state: TeacherState, forest: SkillForest, examples: list[TrainingExample]) -> None:
    """Record each branch's generators on their forest nodes, crediting accepted draws."""
    accepted = Counter(ex.provenance.generator for ex in examples if ex.accepted and ex.provenance.generator)
    by_skill: dict[str, list[GeneratorRecord]] = {}
    for update in state.get("generator_updates", []):
        credit = accepted.get(update.record.hash, 0)
        record = update.record.model_copy(update={"accepted": update.record.accepted + credit})
        by_skill.setdefault(update.skill, []).append(record)
    for path, records in by_skill.items():
        if path in forest:
            forest.record_generators(path, records)


def _probe_sample(examples: list[TrainingExample], k: int) -> dict[str, list[TrainingExample]]:
    """The first ``k`` accepted examples of every generator, by generator hash."""
    sample: dict[str, list[TrainingExample]] = {}
    for ex in examples:
        g = ex.provenance.generator
        if g and ex.accepted and len(sample.setdefault(g, [])) < k:
            sample[g].append(ex)
    return sample


def difficulty_probe(state: TeacherState, runtime: Runtime[TeacherContext]) -> dict[str, Any]:
    """Store generators, probe the student on each one's questions, retire the solved ones."""
    ctx, iteration = runtime.context, state.get("iteration", 0)
    s = ctx.settings.programs
    examples = list(state.get("examples", []))
    forest = SkillForest.from_data(state["forest"]) if state.get("forest") else SkillForest()
    store_generators(state, forest, examples)
    sample = _probe_sample(examples, s.probe_sample)
    if ctx.student is None or not sample:
        why = "no student in the teacher context" if ctx.student is None else "nothing to probe"
        trace(runtime, "probe", node=NODE, iteration=iteration, skipped=why)
        return {"forest": forest.to_data()}
    ctx.student.load_adapter(Path(state["adapter"]) if state.get("adapter") else None)
    probed = [ex for exs in sample.values() for ex in exs]
    predictions = ctx.student.predict([ctx.task.student_prompt(ex.input) for ex in probed])
    right: dict[str, list[bool]] = {}
    for ex, pred in zip(probed, predictions, strict=True):
        got = extract_answer(pred)
        right.setdefault(ex.provenance.generator or "", []).append(
            got is not None and ctx.task.answers_equal(got, ex.answer)
        )
    per_skill: dict[str, list[bool]] = {}
    retired: set[str] = set()
    for path in forest:
        records = forest.node(path).generators
        changed = False
        for i, g in enumerate(records):
            if g.hash not in right:
                continue
            outcomes = right[g.hash]
            accuracy = sum(outcomes) / len(outcomes)
            per_skill.setdefault(path, []).extend(outcomes)
            solved = s.skip_if_solved is not None and accuracy >= s.skip_if_solved
            records[i] = g.model_copy(
                update={"probe_accuracy": round(accuracy, 4), "status": "too_easy" if solved else g.status}
            )
            changed = True
            if solved:
                retired.add(g.hash)
            trace(
                runtime,
                "probe",
                node=NODE,
                iteration=iteration,
                skill=path,
                generator=g.hash,
                accuracy=round(accuracy, 4),
                n=len(outcomes),
                too_easy=solved,
            )
        if changed:
            forest.update(path, generators=records)
    for path, outcomes in per_skill.items():
        forest.record_accuracy(
            path, iteration=iteration, split="generated", value=sum(outcomes) / len(outcomes), n=len(outcomes)
        )
    if retired:
        examples = _reject_too_easy(examples, retired, forest, s.skip_if_solved or 0.0)
    return {"forest": forest.to_data(), "examples": examples}


def _reject_too_easy(
    examples: list[TrainingExample], retired: set[str], forest: SkillForest, threshold: float
) -> list[TrainingExample]:
    """Mark the accepted draws of retired generators ``too_easy`` and move them in the counts."""
    out, moved = [], Counter[str]()
    for ex in examples:
        if ex.accepted and ex.provenance.generator in retired:
            detail = (
                f"the student already solves generator {ex.provenance.generator} (probe accuracy >= {threshold:.0%})"
            )
            ex = ex.model_copy(
                update={"verdict": Verdict(accepted=False, reason=RejectionReason.TOO_EASY, detail=detail)}
            )
            moved[ex.skill] += 1
        out.append(ex)
    for path, k in moved.items():
        node = forest.node(path)
        forest.update(
            path,
            generated_last=max(node.generated_last - k, 0),
            generated_total=max(node.generated_total - k, 0),
            rejected_total=node.rejected_total + k,
        )
    return out
