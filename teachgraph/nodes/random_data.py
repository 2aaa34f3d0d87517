"""A teacher-free baseline: training data drawn uniformly over the task's gold skills from the
task's own train split (its generators), with no LLM and no look at the student.

Built as a one-node teacher graph with the same input/output as the real teachers, so the
episode runs it unchanged. It is the bar every teacher has to clear at equal data budget.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from teachgraph.domain import Provenance, RejectionReason, TrainingExample, Verdict
from teachgraph.nodes.llm import trace
from teachgraph.nodes.policies import split_budget
from teachgraph.state import TeacherContext, TeacherInput, TeacherOutput, TeacherState
from teachgraph.text import question_key

NODE = "random_data"


def random_data(state: TeacherState, runtime: Runtime[TeacherContext]) -> dict[str, Any]:
    """Sample ``examples_per_iteration`` unseen train instances, evenly over gold skills."""
    ctx, iteration = runtime.context, state.get("iteration", 0)
    rng = random.Random(f"{ctx.settings.seed}-{iteration}")
    seen = set(state.get("known_questions", []))
    pool: dict[str, list[Any]] = {}
    for inst in ctx.task.instances("train"):
        if question_key(inst.prompt) not in seen:
            pool.setdefault(inst.gold_skill or "all", []).append(inst)
    shares = split_budget(dict.fromkeys(sorted(pool), 1.0), ctx.settings.examples_per_iteration)
    examples = []
    for skill, share in shares.items():
        for inst in rng.sample(pool[skill], min(share, len(pool[skill]))):
            examples.append(
                TrainingExample(
                    id="ex-" + hashlib.sha256(f"{iteration}|{inst.id}".encode()).hexdigest()[:16],
                    input=inst.prompt,
                    target=ctx.task.format_target(inst.answer),
                    answer=inst.answer,
                    tests=[str(t) for t in inst.metadata.get("tests") or []],  # type: ignore[union-attr]
                    skill_path=skill.split("/")[-1:],
                    provenance=Provenance(
                        node=NODE, model=f"generator:{ctx.task.name}", iteration=iteration, skill=skill.split("/")[-1]
                    ),
                    verdict=Verdict(
                        accepted=True, reason=RejectionReason.ACCEPTED, detail="from the task's own generator"
                    ),
                )
            )
    trace(
        runtime,
        "written",
        node=NODE,
        iteration=iteration,
        written=len(examples),
        quota=ctx.settings.examples_per_iteration,
        shortfall=max(ctx.settings.examples_per_iteration - len(examples), 0),
    )
    return {"examples": examples, "forest": state.get("forest") or {}, "failures": []}


def random_data_graph() -> StateGraph:
    """The baseline as a teacher graph (same input and output schema as the real ones)."""
    graph = StateGraph(
        TeacherState, context_schema=TeacherContext, input_schema=TeacherInput, output_schema=TeacherOutput
    )
    graph.add_node(NODE, random_data)
    graph.add_edge(START, NODE)
    graph.add_edge(NODE, END)
    return graph
