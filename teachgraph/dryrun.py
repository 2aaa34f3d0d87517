"""``teachgraph run CONFIG --dry-run``: what a run of a config will ask of its teacher models.

Nothing is started: no run directory, no model is loaded or called. The estimate renders each
teacher node's real prompts (system, user and the format instructions the structured-output
method adds) on the task's own validation items, follows the config's budgets through the
steps a run takes (the skill-tree schedule is the handwritten alternating one: explore while
there is room, else rebalance), and sizes each reply as a typical answer of the node's schema
built from those items, capped by the model's ``max_tokens``. What it cannot know — how many
skills a model induces (taken as the task's gold skills, else ``max_skills``), retries, top-ups
and plateau stops — is listed under the estimate's assumptions.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from langchain_core.output_parsers import PydanticOutputParser
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from teachgraph.config import TEACHER_NODES, RunConfig
from teachgraph.costs import call_cost, format_cost, price_for, price_table
from teachgraph.domain import EvaluatedInstance, TaskInstance
from teachgraph.nodes import allocation as allocation_node
from teachgraph.nodes import data_writing as writing_node
from teachgraph.nodes import error_analysis as analysis_node
from teachgraph.nodes import induction_methods, program_validation, program_writing
from teachgraph.nodes import policy as policy_node
from teachgraph.nodes import skill_induction as induction_node
from teachgraph.nodes import subskill_exploration as subskill_node
from teachgraph.nodes.program_contract import CheckPrograms, GeneratorReply
from teachgraph.providers import ModelRouter
from teachgraph.providers.resolve import default_structured_method
from teachgraph.providers.text_reply import TextReply
from teachgraph.skills import SkillForest
from teachgraph.skills.structure import group_frames, question_frame
from teachgraph.state import ErrorAnalysis, TeacherContext, WritingJob
from teachgraph.tasks import load_task

# Token pieces of BPE vocabularies of recent models (Qwen2.5, Llama 3, GPT-4o): every digit is
# its own token, a common word with its leading space is one, punctuation clusters are short.
_PIECES = re.compile(r"\d| ?[A-Za-z]+|[^\sA-Za-z\d]{1,2}|\n")
CHAT_OVERHEAD = 4  # role markers per message in a chat template


def estimate_tokens(text: str) -> int:
    """Tokens of ``text`` as a modern BPE tokenizer would roughly count them (long words count double)."""
    return sum(1 + len(p) // 9 for p in _PIECES.findall(text))


@dataclass
class NodeEstimate:
    """Expected use of one node's model over the whole run."""

    node: str
    model: str
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    output_tokens_max: int = 0
    cost_usd: float | None = 0.0
    cost_usd_max: float | None = 0.0


@dataclass
class RunEstimate:
    """The dry run's answer: resolved models, per-node calls/tokens/cost, and why."""

    name: str
    environment: str
    steps: int
    models: dict[str, str]
    nodes: list[NodeEstimate]
    assumptions: list[str] = field(default_factory=list)
    budget_note: str = ""

    def total(self, key: str) -> Any:
        values = [getattr(n, key) for n in self.nodes]
        return None if any(v is None for v in values) else sum(values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``benchmarks``/docs record)."""
        return {
            "name": self.name,
            "environment": self.environment,
            "teacher_steps": self.steps,
            "models": self.models,
            "nodes": [n.__dict__ for n in self.nodes],
            "total": {k: self.total(k) for k in ("calls", "input_tokens", "output_tokens", "cost_usd")},
            "assumptions": self.assumptions,
        }


class _Calls:
    """Collects rendered calls per node, sized and priced."""

    def __init__(self, config: RunConfig, router: ModelRouter) -> None:
        self.config, self.router = config, router
        self.prices = price_table(config.prices)
        self.by_node: dict[str, NodeEstimate] = {}

    def add(self, node: str, schema: type[BaseModel], system: str, user: str, reply: str, times: int = 1) -> None:
        if times <= 0:
            return
        spec = self.router.spec_for(node)
        method = default_structured_method(spec)
        if issubclass(schema, TextReply):  # code in fenced blocks: only the reply format is added
            schema_text = schema.reply_format
        elif method in ("json_object", "prompt"):
            schema_text = PydanticOutputParser(pydantic_object=schema).get_format_instructions()
        else:
            schema_text = json.dumps(schema.model_json_schema())  # sent as a tool / response_format instead
        tokens_in = estimate_tokens(system) + estimate_tokens(user) + estimate_tokens(schema_text) + 3 * CHAT_OVERHEAD
        tokens_out = min(estimate_tokens(reply), spec.max_tokens)
        est = self.by_node.setdefault(node, NodeEstimate(node=node, model=spec.label))
        est.calls += times
        est.input_tokens += times * tokens_in
        est.output_tokens += times * tokens_out
        est.output_tokens_max += times * spec.max_tokens
        price = price_for(spec.label, self.prices)
        if price is None:
            est.cost_usd = est.cost_usd_max = None
        elif est.cost_usd is not None and est.cost_usd_max is not None:
            est.cost_usd += times * call_cost(tokens_in, tokens_out, price)
            est.cost_usd_max += times * call_cost(tokens_in, spec.max_tokens, price)


def _failures(task_items: list[TaskInstance]) -> list[EvaluatedInstance]:
    # Before any teaching the student fails most items; a wrong number is what it typically says.
    return [EvaluatedInstance(instance=i, prediction="Answer: 0", correct=False, score=0.0) for i in task_items]


def _skill_names(task: Any, config: RunConfig) -> list[tuple[str, str]]:
    gold = task.gold_skills() or []
    names = [(g.name.rsplit("/", 1)[-1].replace("_", " "), g.description) for g in gold]
    if not names:
        names = [(f"skill {k + 1} of the task", "One kind of question of the task.") for k in range(9)]
    return names[: config.teacher.max_skills]


def _step(calls: _Calls, config: RunConfig, ctx: TeacherContext, step: int, forest: SkillForest, val: list) -> None:
    """Add the calls of one teacher step, advancing the simulated ``forest``."""
    s, env, with_state = config.teacher, config.teacher.environment, config.teacher.with_state
    failures = _failures(val)
    roots = forest.roots()
    if with_state:
        shown = failures[: s.failures_shown]
        user = analysis_node.analysis_prompt(shown, s.max_skills)
        groups = [
            {
                "name": name,
                "description": desc[:120] or "What goes wrong.",
                "instance_ids": [f"q{k}" for k in range(1, 4)],
            }
            for name, desc in ((forest.node(r).name, forest.node(r).description) for r in roots)
        ]
        calls.add("error_analysis", ErrorAnalysis, analysis_node.SYSTEM, user, json.dumps({"groups": groups}))
    if env in ("skill_list", "skill_tree") and step == 0 and not s.use_gold_skills:
        if s.induction == "structure":
            _structure_call(calls, ctx, forest, failures, s.max_skills)
        else:
            for start in range(0, len(val), induction_node.CHUNK):
                chunk = val[start : start + induction_node.CHUNK]
                user = induction_node.USER.format(
                    task=ctx.task.name,
                    questions="\n".join(f"[q{n}] {' '.join(i.prompt.split())[:300]}" for n, i in enumerate(chunk, 1)),
                    existing="",
                    max_skills=s.max_skills,
                )
                reply = {
                    "skills": [{"name": forest.node(r).name, "description": forest.node(r).description} for r in roots],
                    "assignments": [
                        {"id": f"q{n}", "skill": forest.node(roots[0]).name} for n in range(1, len(chunk) + 1)
                    ],
                }
                calls.add(
                    "skill_induction", induction_node.SkillInduction, induction_node.SYSTEM, user, json.dumps(reply)
                )
    share = max(s.examples_per_iteration // max(len(roots), 1), 1)
    quotas: dict[str, int] = {}
    if env == "skill_tree":
        if s.policy == "llm" and with_state:
            user = policy_node.USER.format(
                iteration=step,
                budget=s.examples_per_iteration,
                skills="\n\n".join(policy_node.describe_skill(forest, r, share) for r in roots),
                explore_n=s.explore_subskills,
                count=len(roots),
                names=", ".join(repr(forest.node(r).name) for r in roots),
            )
            reply = {
                "actions": [
                    {
                        "skill": forest.node(r).name,
                        "action": "explore",
                        "reason": "The student still fails most of these questions.",
                        "num_new_subskills": s.explore_subskills,
                        "quota_per_new_subskill": share // s.explore_subskills,
                    }
                    for r in roots
                ]
            }
            calls.add("policy", policy_node.PolicyDecision, policy_node.SYSTEM, user, json.dumps(reply))
        for r in roots:
            children = forest.children(r)
            if (not children or step % 2 == 0) and len(children) + s.explore_subskills <= s.max_subskills:
                names = [forest.node(c).name for c in children]
                existing = ("Existing subskills (do not repeat): " + "; ".join(names) + "\n") if names else ""
                node = forest.node(r)
                user = subskill_node.USER.format(
                    name=node.name, description=node.description, existing=existing, n=s.explore_subskills
                )
                new = [
                    (f"{node.name} case {len(children) + k + 1}", f"Questions on {node.name}, variant {k + 1}.")
                    for k in range(s.explore_subskills)
                ]
                reply = {"subskills": [{"name": n, "description": d} for n, d in new]}
                calls.add(
                    "subskill_exploration",
                    subskill_node.SubskillProposal,
                    subskill_node.SYSTEM,
                    user,
                    json.dumps(reply),
                )
                for n, d in new:
                    quotas[forest.add_skill(n, parent=r, description=d, iteration=step)] = max(share // len(new), 1)
            else:
                for c in children:
                    quotas[c] = max(share // max(len(children), 1), 1)
    else:
        if env == "skill_list" and s.allocation == "llm":
            lines = "\n".join(f"- {forest.node(r).name}: accuracy 0.00; 0 written" for r in roots)
            user = allocation_node.ALLOC_USER.format(budget=s.examples_per_iteration, skills=lines)
            reply = {
                "quotas": [{"subskill": forest.node(r).name, "quota": share} for r in roots],
                "reason": "Weaker skills get more examples.",
            }
            calls.add("allocation", allocation_node.Allocation, allocation_node.ALLOC_SYSTEM, user, json.dumps(reply))
        quotas = dict.fromkeys(roots, share)
    for k, (path, quota) in enumerate(sorted(quotas.items())):
        node = forest.node(path)
        root = path.split("/")[0]
        job = WritingJob(
            iteration=step,
            skill_path=path.split("/"),
            description=node.description,
            quota=quota,
            notes=[f"{forest.node(root).name}: {forest.node(root).description}"] if with_state else [],
            errors=failures[: s.errors_per_writer] if with_state else [],
            style_examples=writing_node.style_examples(ctx, set(), 2, s.seed * 1000 + step * 100 + k),
        )
        if s.engine == "programs":
            _program_calls(calls, config, ctx, job, forest, val)
            continue
        for batch_start in range(0, quota, s.batch_size):
            n = min(s.batch_size, quota - batch_start)
            sample = val[(batch_start + k) % len(val)] if val else None
            example = {
                "question": sample.prompt if sample else "A question of the task.",
                "answer": sample.answer if sample else "42",
                "rationale": "First compute the intermediate result, then the final answer.",
                "program": "a = 12\nb = 30\nprint(a + b)",
            }
            calls.add(
                "data_writing",
                writing_node.batch_schema(n),
                writing_node.SYSTEM,
                writing_node._prompt(job, n, []),
                json.dumps({"examples": [example] * n}),
            )


def _structure_call(
    calls: _Calls, ctx: TeacherContext, forest: SkillForest, evaluated: list[EvaluatedInstance], max_skills: int
) -> None:
    """``induction: structure``: one call naming the groups of question frames (the real prompt)."""
    labels = group_frames([question_frame(e.instance.prompt) for e in evaluated], max_groups=2 * max_skills)
    groups: dict[int, list[EvaluatedInstance]] = {}
    for e, label in zip(evaluated, labels, strict=True):
        groups.setdefault(label, []).append(e)
    user = induction_methods.NAME_USER.format(
        task=ctx.task.name,
        results=", how many the student answered wrongly",
        groups="\n\n".join(induction_methods._group_text(k + 1, m, True) for k, m in enumerate(groups.values())),
        existing="",
        max_skills=max_skills,
    )
    names = [(forest.node(r).name, forest.node(r).description) for r in forest.roots()] or [("skill", "")]
    reply = {
        "skills": [
            {"group": f"g{k + 1}", "name": names[k % len(names)][0], "description": names[k % len(names)][1]}
            for k in range(len(groups))
        ]
    }
    calls.add("skill_induction", induction_methods.GroupNames, induction_node.SYSTEM, user, json.dumps(reply))


# A typical generator (about what the local teacher writes) and a typical check reply.
_GENERATOR = """```python
import math


def generate(rng):
    a = rng.randint(1, 100)
    b = rng.randint(1, 100)
    question = f"Find the Greatest Common Divisor (GCD) of these numbers: {a}, {b}."
    answer = str(math.gcd(a, b))
    return {"question": question, "answer": answer}
```"""


def _program_calls(
    calls: _Calls, config: RunConfig, ctx: TeacherContext, job: WritingJob, forest: SkillForest, val: list
) -> None:
    """The program engine: a (sub)skill's first quota costs a generator and its independent check;
    later quotas re-draw from the stored generator at no call."""
    written: set[str] = forest.graph.graph.setdefault("dry_run_generators", set())
    path = "/".join(job.skill_path)
    if path in written:
        return
    written.add(path)
    s = config.teacher.programs
    for index in range(s.generators_per_skill):
        user, start = program_writing._prompt(job, ctx, [])
        if index:
            user += "\nThis is generator 2 for this skill: ask a different kind of question than the others."
        # The local teacher answers a skeleton with its answer lines, about this long each.
        reply = _GENERATOR
        if start is not None and start.answers_only:
            reply = "```python\n" + "answer = str(a - b * c)\n" * start.placeholders + "```"
        calls.add("data_writing", GeneratorReply, program_writing.SYSTEM, user, reply)
        questions = "\n".join(
            f"{n}. {' '.join(i.prompt.split())[:400]}" for n, i in enumerate(val[: s.check_sample], 1)
        )
        user = program_validation.CHECK_USER.format(questions=questions, n=s.check_sample)
        reply = "\n".join("```python\na, b = 12, 30\nprint(math.gcd(a, b))\n```" for _ in range(s.check_sample))
        calls.add("data_writing", CheckPrograms, program_validation.CHECK_SYSTEM, user, reply)


def estimate_run(config: RunConfig) -> RunEstimate:
    """The expected teacher LLM calls, tokens and cost of running ``config`` (nothing is started)."""
    task = load_task(config.task)
    router = ModelRouter(config.teacher.models)
    s, loop = config.teacher, config.loop
    ctx = TeacherContext(task=task, models=router, settings=s.model_copy(update={"seed": config.seed}))
    val = task.instances("validation")
    forest = SkillForest()
    for name, description in _skill_names(task, config):
        forest.add_skill(name, description=description)
    steps = loop.iterations
    if loop.data_budget is not None:
        steps = min(steps, math.ceil(loop.data_budget / s.examples_per_iteration))
    calls = _Calls(config, router)
    per_step: list[tuple[int, float | None]] = []
    for step in range(steps):
        before_tokens = sum(n.input_tokens + n.output_tokens for n in calls.by_node.values())
        before_cost = _sum_cost(calls)
        _step(calls, config, ctx, step, forest, val)
        tokens = sum(n.input_tokens + n.output_tokens for n in calls.by_node.values()) - before_tokens
        cost = _sum_cost(calls)
        per_step.append((tokens, None if cost is None or before_cost is None else cost - before_cost))
    budget_note = _budget_cut(loop, per_step)
    nodes = [calls.by_node[n] for n in TEACHER_NODES if n in calls.by_node]
    assumptions = [
        f"{steps} teacher step(s) (loop.iterations {loop.iterations}"
        + (f", data budget {loop.data_budget} at {s.examples_per_iteration} per step" if loop.data_budget else "")
        + "); a plateau stop or a failed call can only make it fewer",
        f"{len(forest.roots())} skills ({'the task' + chr(39) + 's gold skills' if task.gold_skills() else 'max_skills'}; the teacher may induce fewer)",
        "one attempt per call and no top-up calls (retries after invalid replies add whole calls)",
        *(
            ["engine programs: every generator passes validation (a repair adds a generator and a check call)"]
            if s.engine == "programs"
            else []
        ),
        "tokens: ~1 per digit, word and punctuation pair (BPE-like); replies sized as typical schema answers, capped at max_tokens",
    ]
    if s.environment == "skill_tree":
        assumptions.append(
            "explore/exploit schedule of the alternating policy (explore while there is room, else rebalance)"
        )
    return RunEstimate(
        name=config.name,
        environment=s.environment,
        steps=steps,
        models={node: router.spec_for(node).label for node in TEACHER_NODES},
        nodes=nodes,
        assumptions=assumptions,
        budget_note=budget_note,
    )


def _sum_cost(calls: _Calls) -> float | None:
    costs = [n.cost_usd for n in calls.by_node.values()]
    return None if any(c is None for c in costs) else float(sum(c for c in costs if c is not None))


def _budget_cut(loop: Any, per_step: list[tuple[int, float | None]]) -> str:
    """Where a token or cost budget would stop the run (the first step boundary past it)."""
    notes = []
    tokens = 0
    cost = 0.0
    for k, (t, c) in enumerate(per_step, 1):
        tokens += t
        cost += c or 0.0
        if loop.token_budget is not None and tokens >= loop.token_budget and k < len(per_step):
            notes.append(f"token budget {loop.token_budget:,} is expected to stop the run after teacher step {k}")
            break
        if loop.cost_budget is not None and c is not None and cost >= loop.cost_budget and k < len(per_step):
            notes.append(
                f"cost budget {format_cost(loop.cost_budget)} is expected to stop the run after teacher step {k}"
            )
            break
    return "; ".join(notes)


def print_estimate(console: Console, est: RunEstimate) -> None:
    """The dry run's output: models per node, then the expected calls, tokens and cost per node."""
    models = Table(
        title=f"dry run of {est.name!r}: {est.environment}, {est.steps} teacher step(s) — nothing is started"
    )
    models.add_column("node")
    models.add_column("model")
    models.add_column("used")
    called = {n.node for n in est.nodes}
    for node, label in est.models.items():
        models.add_row(node, label, "yes" if node in called else "not by this config")
    console.print(models)
    table = Table(title="expected teacher LLM use")
    for col in ("node", "model", "calls", "input tokens", "output tokens (max)", "cost (max)"):
        table.add_column(col, justify="right" if col not in ("node", "model") else "left")
    for n in est.nodes:
        table.add_row(
            n.node,
            n.model,
            str(n.calls),
            f"{n.input_tokens:,}",
            f"{n.output_tokens:,} ({n.output_tokens_max:,})",
            f"{format_cost(n.cost_usd)} ({format_cost(n.cost_usd_max)})" if n.cost_usd is not None else "unpriced",
        )
    table.add_row(
        "total",
        "",
        str(est.total("calls")),
        f"{est.total('input_tokens'):,}",
        f"{est.total('output_tokens'):,} ({est.total('output_tokens_max'):,})",
        f"{format_cost(est.total('cost_usd'))} ({format_cost(est.total('cost_usd_max'))})"
        if est.total("cost_usd") is not None
        else "unpriced",
    )
    console.print(table)
    if est.budget_note:
        console.print(est.budget_note)
    console.print("assumptions: " + "; ".join(est.assumptions), style="dim")
