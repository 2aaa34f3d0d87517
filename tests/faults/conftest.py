"""A small episode config whose teacher talks to a fault server, and helpers to compare runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from teachgraph.config import RunConfig, parse_config
from teachgraph.tracing.rundir import RunDir

ROOT = Path(__file__).resolve().parents[2]

# The smoke episode, smaller: 1 iteration, small splits, one epoch.
TINY: dict[str, Any] = {
    "name": "faults",
    "seed": 0,
    "task": {
        "name": "arithmetic",
        "params": {
            "skills": ["basic_arithmetic", "chain_sum", "gcd"],
            "train_size": 20,
            "validation_size": 12,
            "test_size": 12,
            "seed": 0,
        },
    },
    "student": {"model": "tiny-llama", "mode": "continue", "epochs": 1, "max_new_tokens": 8},
    "teacher": {
        "environment": "skill_tree",
        "policy": "bandit",
        "examples_per_iteration": 8,
        # Tiny waits: the backoff logic is the same, the test stays fast.
        "retry": {"max_retries": 8, "initial_delay_s": 0.005, "max_delay_s": 0.05, "jitter_s": 0.005},
    },
    "loop": {"iterations": 1},
}
VOLATILE = {"seconds", "wall_seconds_this_session", "run_id", "latency_s", "queued_s"}


def tiny_config(url: str | None, *, timeout_s: float = 0.5, **teacher: Any) -> RunConfig:
    """TINY with every teacher node on ``url`` (an OpenAI-compatible server), or scripted."""
    data = yaml.safe_load(yaml.safe_dump(TINY))
    if url is None:
        model: Any = f"scripted:{ROOT / 'examples' / 'smoke_script.yaml'}"  # absolute: the config may be copied anywhere
    else:
        model = {"spec": f"openai-compatible:{url}#fault-model", "timeout_s": timeout_s}
    data["teacher"]["models"] = {"default": model}
    data["teacher"].update(teacher)
    return parse_config(data, source="tests/faults")


def write_config(path: Path, config: RunConfig) -> Path:
    path.write_text(yaml.safe_dump(config.model_dump(mode="json", exclude={"presets"}), sort_keys=False))
    return path


def strip_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_volatile(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [strip_volatile(v) for v in value]
    return value


def artefacts(root: Path) -> dict[str, bytes]:
    """Data files and forest snapshots, byte for byte."""
    run = RunDir(root)
    files = sorted([*(run.root / "data").glob("iter-*.jsonl"), *(run.root / "forest").glob("iter-*.json")])
    return {str(p.relative_to(run.root)): p.read_bytes() for p in files}


def assert_same_run(a: Path, b: Path) -> None:
    """Same data and forest files (bytes) and the same metrics apart from timings."""
    left, right = artefacts(a), artefacts(b)
    assert sorted(left) == sorted(right)
    for name in left:
        assert left[name] == right[name], f"{name} differs"
    assert strip_volatile(RunDir(a).read_metrics()) == strip_volatile(RunDir(b).read_metrics())
