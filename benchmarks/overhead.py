"""Orchestration overhead: the same nodes in a plain Python loop vs the LangGraph episode with
SQLite checkpointing (durability "sync") and trace streaming on.

Two measurements, each alternating plain/graph runs in one process (``--repeats`` rounds,
median reported), on the smoke setup (scripted teacher, tiny real student):

* ``episode``: the whole loop — evaluate, teacher step, train (child process), evaluate ...
* ``teacher``: one skill-tree teacher step alone (no student), where overhead is most visible.

The plain loop calls the very same node functions with a hand-made ``Runtime`` and merges their
partial updates itself (append for the list channels), so the difference is LangGraph's own
cost: scheduling, state copies, checkpoint writes, streaming.

    .venv/bin/python benchmarks/overhead.py            # 3 repeats
    .venv/bin/python benchmarks/overhead.py --quick
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlite3

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.runtime import Runtime

from teachgraph.config import load_config
from teachgraph.domain import EvaluatedInstance
from teachgraph.graphs import episode as ep
from teachgraph.graphs.teacher import make_observe, skill_tree
from teachgraph.nodes.allocation import rebalance
from teachgraph.nodes.data_writing import data_writing
from teachgraph.nodes.error_analysis import error_analysis
from teachgraph.nodes.evaluate import evaluate
from teachgraph.nodes.policy import make_policy_node
from teachgraph.nodes.skill_induction import skill_induction
from teachgraph.nodes.subskill_exploration import subskill_exploration
from teachgraph.nodes.train import train
from teachgraph.nodes.validation import validation
from teachgraph.runner import build_context, run_episode
from teachgraph.tracing.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
APPEND = {"explored", "written", "failures", "usage", "evaluations", "rounds"}


def merge(state: dict[str, Any], update: dict[str, Any] | None) -> None:
    for key, value in (update or {}).items():
        if key in APPEND:
            state[key] = [*state.get(key, []), *value]
        else:
            state[key] = value


class PlainTeacher:
    """The skill-tree teacher step as straight-line calls of the same node functions."""

    def __init__(self, with_state: bool = True) -> None:
        self.observe, self.policy = make_observe(with_state), make_policy_node()

    def invoke(self, inputs: dict[str, Any], context: Any) -> dict[str, Any]:
        rt = Runtime(context=context)
        s: dict[str, Any] = dict(inputs)
        merge(s, self.observe(s))
        merge(s, error_analysis(s, rt))
        merge(s, skill_induction(s, rt))
        merge(s, self.policy(s, rt))
        for action in [a for a in s["actions"] if a.kind == "explore"]:
            merge(
                s, subskill_exploration({"iteration": s["iteration"], "forest": s["forest"], "actions": [action]}, rt)
            )
        merge(s, rebalance(s, rt))
        for job in s.get("jobs", []):
            merge(s, data_writing({"job": job}, rt))
        merge(s, validation(s, rt))
        return {k: s.get(k) for k in ("examples", "forest", "failures", "actions")}


def plain_episode(config: Any, out: Path) -> float:
    run_dir = RunDir(out)
    ctx = build_context(config, run_dir)
    ctx.teacher_graph = PlainTeacher(config.teacher.with_state)
    rt = Runtime(context=ctx)
    start = time.perf_counter()
    state: dict[str, Any] = {"iteration": 0, "forest": {}, "known_questions": [], "accepted_total": 0, "adapter": None}
    while True:
        merge(state, evaluate(state, rt))
        merge(state, ep.record(state, rt))
        if state.get("stop_reason"):
            break
        merge(state, ep.teacher(state, rt))
        merge(state, train(state, rt))
        merge(state, ep.advance(state))
    return time.perf_counter() - start


def graph_episode(config: Any, out: Path) -> float:
    start = time.perf_counter()
    run_episode(config, out)
    return time.perf_counter() - start


def teacher_step(config: Any, graph: bool, tmp: Path) -> float:
    """One skill-tree teacher step: straight-line calls, or the compiled graph with a SQLite
    checkpointer and custom/updates streaming (what an episode does for its teacher)."""
    ctx = build_context(config, RunDir(tmp))
    evaluated = [
        EvaluatedInstance(instance=i, prediction="Answer: 0", correct=False, score=0.0)
        for i in ctx.task.instances("validation")
    ]
    inputs = {"iteration": 0, "evaluated": evaluated, "forest": {}, "known_questions": []}
    if not graph:
        start = time.perf_counter()
        PlainTeacher().invoke(inputs, ctx.teacher_context)
        return time.perf_counter() - start
    app = skill_tree().compile(checkpointer=SqliteSaver(sqlite3.connect(tmp / "ck.sqlite", check_same_thread=False)))
    start = time.perf_counter()
    for _ in app.stream(
        inputs,
        {"configurable": {"thread_id": "t"}},
        context=ctx.teacher_context,
        stream_mode=["custom", "updates"],
        durability="sync",
    ):
        pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(ROOT / "examples" / "smoke.yaml"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 repeat")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    config = load_config(args.config)
    results: dict[str, dict[str, list[float]]] = {
        "episode": {"plain": [], "graph": []},
        "teacher": {"plain": [], "graph": []},
    }
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        teacher_step(config, False, base / "warm")  # warm caches (tokenizer, sandbox, eval index)
        for r in range(repeats):
            for mode in ("plain", "graph"):
                (base / f"t-{mode}-{r}").mkdir()
                results["teacher"][mode].append(teacher_step(config, mode == "graph", base / f"t-{mode}-{r}"))
            results["episode"]["plain"].append(plain_episode(config, base / f"plain-{r}"))
            results["episode"]["graph"].append(graph_episode(config, base / f"graph-{r}"))
    rows = []
    print(f"orchestration overhead, median of {repeats} alternating runs ({Path(args.config).name})")
    print(f"{'what':<10} {'plain s':>9} {'graph s':>9} {'ratio':>7} {'overhead':>9}")
    for what, r in results.items():
        p, g = statistics.median(r["plain"]), statistics.median(r["graph"])
        rows.append(
            {
                "what": what,
                "plain_seconds": round(p, 3),
                "graph_seconds": round(g, 3),
                "ratio": round(g / p, 4),
                "overhead_pct": round(100 * (g - p) / g, 2),
            }
        )
        print(f"{what:<10} {p:>9.2f} {g:>9.2f} {g / p:>7.3f} {100 * (g - p) / g:>8.1f}%")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "overhead.json").write_text(
        json.dumps(
            {
                "command": "python " + " ".join(sys.argv),
                "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cpus, Python {platform.python_version()}",
                "repeats": repeats,
                "raw": results,
                "results": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS / 'overhead.json'}")


if __name__ == "__main__":
    main()
