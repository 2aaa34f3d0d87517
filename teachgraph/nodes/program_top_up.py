"""top_up (program engine): refill a step's shortfall from the generators that worked.

A writing branch whose (sub)skill got no valid generator, or whose generator ran out of distinct
questions, writes less than its quota (reported as ``under-filled``). Without a top-up that share
of the budget is simply lost: measured on the arithmetic benchmark, the open-ended teacher trained
on 120 of its 160 examples a round because one of its four topics got no generator each round.

This node runs once after all branches have joined. It gives each short job's shortfall to the
step's working generators: those of branches under the same root skill first (the allocation's
intent stays as close as it can), otherwise all of them. Drawing from a validated generator
costs no LLM call. The examples record ``action="top_up"`` in their provenance, and a ``top_up``
trace event says who was short, by how much, and which generators filled it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from langgraph.runtime import Runtime

from teachgraph.domain import TrainingExample
from teachgraph.nodes.decontamination import question_key
from teachgraph.nodes.llm import trace
from teachgraph.nodes.policies import split_budget
from teachgraph.nodes.program_writing import draw_distinct, example_from_draw
from teachgraph.skills.generator import GeneratorRecord
from teachgraph.state import GeneratorUpdate, TeacherContext, TeacherState, WritingJob

NODE = "top_up"
ACTION = "top_up"


def _donors(
    jobs: list[WritingJob], updates: list[GeneratorUpdate], short: set[str]
) -> dict[str, tuple[WritingJob, GeneratorRecord]]:
    """This step's active generators of jobs that filled their own quota, by hash (the latest
    record of each: it carries the draws the branch made)."""
    job_of = {"/".join(j.skill_path): j for j in jobs}
    donors: dict[str, tuple[WritingJob, GeneratorRecord]] = {}
    for update in updates:
        job = job_of.get(update.skill)
        if job is None or update.skill in short or update.record.status != "active":
            continue
        donors[update.record.hash] = (job, update.record)
    return donors


def plan_top_up(
    jobs: list[WritingJob], written: list[TrainingExample], updates: list[GeneratorUpdate]
) -> tuple[dict[str, int], dict[str, int], dict[str, tuple[WritingJob, GeneratorRecord]]]:
    """Who is short (skill -> shortfall) and how many extra draws each donor generator makes
    (hash -> count); a shortfall with no donor stays unfilled."""
    per_skill = Counter(ex.skill for ex in written)
    short_jobs = [j for j in jobs if j.quota > per_skill["/".join(j.skill_path)]]
    shortfalls = {"/".join(j.skill_path): j.quota - per_skill["/".join(j.skill_path)] for j in short_jobs}
    donors = _donors(jobs, updates, set(shortfalls))
    extra: Counter[str] = Counter()
    for job in short_jobs:
        same_root = [h for h, (donor, _) in donors.items() if donor.skill_path[0] == job.skill_path[0]]
        givers = same_root or list(donors)
        extra.update(split_budget(dict.fromkeys(givers, 1.0), shortfalls["/".join(job.skill_path)]))
    return shortfalls, {h: n for h, n in extra.items() if n}, donors


def top_up(state: TeacherState, runtime: Runtime[TeacherContext]) -> dict[str, Any]:
    """Draw the step's shortfall from the generators that filled their own quotas."""
    ctx = runtime.context
    iteration = state.get("iteration", 0)
    if not ctx.settings.programs.top_up:
        return {}
    written = state.get("written", [])
    shortfalls, extra, donors = plan_top_up(state.get("jobs", []), written, state.get("generator_updates", []))
    if not shortfalls:
        return {}
    seen = set(state.get("known_questions", [])) | {question_key(ex.input) for ex in written}
    examples: list[TrainingExample] = []
    updates: list[GeneratorUpdate] = []
    filled: dict[str, int] = {}
    for digest, n in extra.items():
        job, record = donors[digest]
        as_top_up = job.model_copy(update={"action": ACTION, "quota": n})
        taken, counts = draw_distinct(runtime, as_top_up, record, n, seen, purpose="top-up draw")
        examples += [example_from_draw(ctx, as_top_up, record, d) for d in taken]
        updates.append(
            GeneratorUpdate(
                skill="/".join(job.skill_path),
                record=record.model_copy(update={"draws": record.draws + counts["seeds"]}),
            )
        )
        filled[digest] = len(taken)
    trace(
        runtime,
        "top_up",
        node=NODE,
        iteration=iteration,
        shortfall=sum(shortfalls.values()),
        short=shortfalls,
        filled=sum(filled.values()),
        generators=filled,
        unfilled=sum(shortfalls.values()) - sum(filled.values()),
    )
    return {"written": examples, "generator_updates": updates}
