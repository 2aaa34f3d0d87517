"""Run the LLM policy node once with the local teacher and keep its full trace.

Four skills with iteration-0 accuracies, as the policy sees them in an episode; the run directory
gets trace.jsonl and llm_calls.jsonl, so the prompt and the model's reply can be read word for word:

    .venv/bin/python benchmarks/policy_trace.py /tmp/policy-run
    teachgraph trace /tmp/policy-run --node policy --full
"""

import sys
from pathlib import Path

import yaml
from langgraph.graph import END, START, StateGraph

from teachgraph.config import TeacherSettings
from teachgraph.nodes.policy import make_policy_node
from teachgraph.providers import ModelRouter
from teachgraph.skills import SkillForest
from teachgraph.state import TeacherContext, TeacherState
from teachgraph.tasks import load_task
from teachgraph.tracing.rundir import RunDir

out = RunDir(sys.argv[1])
config = yaml.safe_load(Path("examples/default.yaml").read_text())
models = {"default": config["teacher"]["models"]["default"]}
task = load_task(
    {
        "name": "arithmetic",
        "params": {
            "skills": config["task"]["params"]["skills"],
            "train_size": 0,
            "validation_size": 12,
            "test_size": 12,
        },
    }
)
forest = SkillForest()
for name, acc, it in [("gcd", 0.17, 0), ("lcm", 0.08, 0), ("chain sum", 0.42, 0), ("simple equations", 0.0, 0)]:
    p = forest.add_skill(name, description=f"{name} questions")
    forest.record_accuracy(p, iteration=it, split="validation", value=acc, n=12)
settings = TeacherSettings(models=models, policy="llm", examples_per_iteration=24, max_skills=4, explore_subskills=2)
ctx = TeacherContext(task=task, models=ModelRouter(models), settings=settings, run_id="policy-check")
g = StateGraph(TeacherState, context_schema=TeacherContext)
g.add_node("policy", make_policy_node())
g.add_edge(START, "policy")
g.add_edge("policy", END)
for mode, chunk in g.compile().stream(
    {"iteration": 0, "forest": forest.to_data(), "with_state": True}, context=ctx, stream_mode=["custom", "values"]
):
    if mode == "custom":
        out.append_event(chunk["teachgraph_event"])
out.write_config({"note": "policy check"})
print("done")
