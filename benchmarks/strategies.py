"""Teacher strategies side by side, with the statistics to tell a gain from noise.

Every strategy trains the same student from the same start, on the same task splits and seeds,
with the same data budget per iteration, and is evaluated on the same held-out test items; the
comparison is paired on those items (``benchmarks/strategies_report.py``).

Each finished strategy's record is written to ``benchmarks/results/strategies/<suite>/<name>.json``
(commit it, or pass ``--commit`` to have each one committed as it completes). A later run, on any
machine, reuses a record whose config matches and runs only what is missing; an unfinished run
is resumed from its run directory (``benchmarks/results/runs/<suite>/<name>``) when that is still there.

    .venv/bin/python benchmarks/strategies.py                  # arithmetic, local Qwen teacher (hours)
    .venv/bin/python benchmarks/strategies.py --suite gsm8k    # the real-data check
    .venv/bin/python benchmarks/strategies.py --suite vqa      # images: the vision student, scene generators
    .venv/bin/python benchmarks/strategies.py --quick          # 1 iteration, small splits
    .venv/bin/python benchmarks/strategies.py --scripted       # scripted teacher + tiny student: plumbing
    .venv/bin/python benchmarks/strategies.py --only random_data skill_tree_llm --commit
    .venv/bin/python benchmarks/strategies.py --report-only    # rewrite the tables from the records
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import strategies_report
from benchmarks.strategy_records import strategy_record, untrained_record
from teachgraph.config import RunConfig, load_config, parse_config
from teachgraph.domain import EvaluationReport
from teachgraph.errors import ConfigError
from teachgraph.nodes.evaluate import evaluate_split
from teachgraph.nodes.random_data import random_data_graph
from teachgraph.runner import run_episode
from teachgraph.student import build_student
from teachgraph.tasks import load_task
from teachgraph.tracing.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
CONFIGS = {
    "arithmetic": Path(__file__).parent / "strategies.yaml",
    "gsm8k": Path(__file__).parent / "strategies_gsm8k.yaml",
    "vqa": Path(__file__).parent / "strategies_vqa.yaml",
}

#: What the direct-writing engine can afford per iteration here: it spends ~300 output tokens per
#: validated example (benchmarks/results/program_engine.md), ~30 s of the local teacher each.
DIRECT_BUDGET = 16

# Teacher overrides per strategy. Baselines first, then the headline skill-tree pair (with and
# without state), so an interrupted comparison already has the figures the targets are about.
STRATEGIES: dict[str, dict[str, Any] | None] = {
    "no_training": None,
    "random_data": {},  # the teacher graph is replaced by the task's own generators
    "skill_tree_alternating": {"environment": "skill_tree", "with_state": True, "policy": "alternating"},
    "skill_tree_no_state": {"environment": "skill_tree", "with_state": False, "policy": "alternating"},
    "skill_tree_llm": {"environment": "skill_tree", "with_state": True, "policy": "llm"},
    "skill_tree_bandit": {"environment": "skill_tree", "with_state": True, "policy": "bandit"},
    "open_ended": {"environment": "open_ended", "with_state": True},
    "open_ended_no_state": {"environment": "open_ended", "with_state": False},
    "skill_list": {"environment": "skill_list", "with_state": True},
    "skill_tree_direct": {
        "environment": "skill_tree",
        "with_state": True,
        "policy": "alternating",
        "engine": "examples",
    },
}
SUITE_STRATEGIES = {
    "arithmetic": list(STRATEGIES),
    "gsm8k": ["no_training", "skill_tree_alternating", "skill_tree_no_state"],
    "vqa": ["no_training", "random_data", "skill_tree_alternating", "skill_tree_no_state"],
}


def strategy_config(base: RunConfig, name: str) -> RunConfig:
    """The suite's config with this strategy's teacher settings (and its own run name)."""
    overrides = dict(STRATEGIES[name] or {})
    if overrides.get("engine") == "examples":
        overrides["examples_per_iteration"] = min(DIRECT_BUDGET, base.teacher.examples_per_iteration)
    teacher = base.teacher.model_copy(update=overrides)
    return base.model_copy(update={"name": name, "teacher": teacher})


def config_digest(config: RunConfig) -> str:
    """What a record must match to be reused: the strategy's settings that differ from the defaults
    (its name and machine-local paths aside). Settings added later with defaults change nothing,
    so records stay valid across commits that only add options."""
    data = config.model_dump(mode="json", exclude={"presets", "name"}, exclude_defaults=True)
    data.get("student", {}).pop("cache_dir", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def task_digest(task: Any) -> str:
    """What the task's splits hold (ids, questions and gold answers): a record made on other
    items or other labels is not comparable, whatever its config says (measured: a fix of
    reasoning-gym's basic_arithmetic labels changed 11 of the 400 test answers, not the config)."""
    digest = hashlib.sha256()
    for split in ("train", "validation", "test"):
        for item in task.instances(split):
            digest.update(json.dumps([split, item.id, item.prompt, item.answer]).encode())
    return digest.hexdigest()[:16]


def record_matches(record: dict[str, Any], config: RunConfig, task_hash: str) -> bool:
    """Whether a committed record was made with this config on these task items (read from the
    record itself; a record without a task digest predates it and does not match)."""
    if record.get("task_digest") != task_hash:
        return False
    try:
        made_with = parse_config(record["config"], source="the record's config")
    except (KeyError, ConfigError):
        return False
    return config_digest(made_with) == config_digest(config)


def git_commit() -> str | None:
    """The checkout the benchmark runs from ("-dirty" with uncommitted tracked changes)."""

    def run(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()

    try:
        head = run("rev-parse", "--short", "HEAD")
        dirty = run(
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            "teachgraph",
            "benchmarks/strategies.yaml",
            "benchmarks/strategies_gsm8k.yaml",
            "benchmarks/strategies.py",
            "benchmarks/strategy_records.py",
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("-dirty" if dirty else "")


def machine() -> str:
    try:
        mem = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    except (ValueError, OSError):
        mem = 0
    return f"{platform.machine()}, {os.cpu_count()} cpus, {mem} GiB RAM, Python {platform.python_version()}, no GPU"


def untrained(config: RunConfig, task: Any, student: Any, test_skills: list[str]) -> dict[str, Any]:
    """Evaluate the base student on validation and test: the record every strategy starts from."""
    start = time.perf_counter()
    student.load_adapter(None)
    reports = {
        split: EvaluationReport.from_evaluated(
            evaluate_split(student, task, task.instances(split)), split=split, iteration=0
        )
        for split in ("validation", "test")
    }
    return untrained_record(config, reports["test"], reports["validation"], test_skills, time.perf_counter() - start)


def run_strategy(config: RunConfig, name: str, run_root: Path, student: Any) -> RunDir:
    """Run (or resume) one strategy's episode into ``run_root/name``; return its run directory."""
    out = run_root / name
    run_dir = RunDir(out)
    if run_dir.config_path.is_file() and not _same_run_config(run_dir, config):
        print(f"[{name}] {out} was run with another config: starting again", flush=True)
        shutil.rmtree(out)
    if run_dir.read_metrics().get("stop_reason"):
        return run_dir
    resume = run_dir.exists() and run_dir.checkpoints_path.is_file()
    print(f"[{name}] {'resuming' if resume else 'running'} -> {out}", flush=True)
    graph = random_data_graph() if name == "random_data" else None
    run_episode(config, out, resume=resume, student=student, teacher_graph=graph, on_event=_printer(name))
    return run_dir


def _same_run_config(run_dir: RunDir, config: RunConfig) -> bool:
    """Whether the run directory's resolved config is ``config`` (a finished or resumable run of
    another config, say an older validation size, must not stand in for this one)."""
    try:
        saved = yaml.safe_load(run_dir.config_path.read_text())
        for key in ("sandbox_in_use", "resumed_with", "forked_from"):  # what the runner adds (runner.resolved_config)
            saved.pop(key, None)
        saved.get("teacher", {}).pop("resolved_models", None)
        made_with = parse_config(saved, source=str(run_dir.config_path))
    except (OSError, AttributeError, yaml.YAMLError, ConfigError):
        return False
    return config_digest(made_with) == config_digest(config)


def commit_record(path: Path, name: str, suite: str) -> None:
    """Commit one record file on its own (the long comparison survives a change of machine)."""
    rel = path.relative_to(ROOT)
    subprocess.run(["git", "add", "--", str(rel)], cwd=ROOT, check=True)
    subprocess.run(
        ["git", "commit", "-q", "-m", f"strategies ({suite}): record of {name}", "--", str(rel)], cwd=ROOT, check=True
    )


def _printer(name: str):
    def show(event: dict[str, Any]) -> None:
        d = event.get("data", {})
        if event["kind"] == "evaluation":
            print(
                f"  [{name}] iter {event['iteration']} {d['split']} accuracy {d['accuracy']:.3f} ({d['seconds']} s)",
                flush=True,
            )
        elif event["kind"] == "training" and not d.get("skipped"):
            print(
                f"  [{name}] iter {event['iteration']} trained on {d['examples']} examples ({d['seconds']} s)",
                flush=True,
            )
        elif event["kind"] == "written":
            print(f"  [{name}] iter {event['iteration']} {event['node']} wrote {d.get('written')}", flush=True)

    return show


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=list(CONFIGS), default="arithmetic")
    parser.add_argument("--config", help="another config for the suite (default: benchmarks/strategies*.yaml)")
    parser.add_argument("--quick", action="store_true", help="apply the config's 'quick' preset")
    parser.add_argument("--scripted", action="store_true", help="scripted teacher + tiny student (plumbing, minutes)")
    parser.add_argument("--only", nargs="+", choices=list(STRATEGIES), help="run these strategies only")
    parser.add_argument(
        "--fresh", action="store_true", help="discard earlier records and runs of the chosen strategies"
    )
    parser.add_argument("--commit", action="store_true", help="git-commit each strategy's record as it completes")
    parser.add_argument("--report-only", action="store_true", help="rewrite the tables from the records; run nothing")
    args = parser.parse_args()
    preset = "scripted" if args.scripted else ("quick" if args.quick else None)
    base = load_config(args.config or CONFIGS[args.suite], preset=preset)
    suite = args.suite + (f"-{preset}" if preset else "")
    records_dir = RESULTS / "strategies" / suite
    run_root = RESULTS / "runs" / suite
    names = args.only or SUITE_STRATEGIES[args.suite]
    if args.fresh and args.report_only:
        parser.error("--fresh deletes records; --report-only only reads them")
    records_dir.mkdir(parents=True, exist_ok=True)
    task = load_task(base.task)
    test_skills = [i.gold_skill or "all" for i in task.instances("test")]
    task_hash = task_digest(task)
    student = None
    failed: list[str] = []
    for name in names:
        path = records_dir / f"{name}.json"
        config = strategy_config(base, name)
        if args.fresh:
            path.unlink(missing_ok=True)
            shutil.rmtree(run_root / name, ignore_errors=True)
        digest = config_digest(config)
        old = json.loads(path.read_text()) if path.is_file() else None
        same = old is not None and record_matches(old, config, task_hash)
        if old and old.get("finished") and same:
            print(f"[{name}] finished record reused: {path.relative_to(ROOT)} (commit {old.get('commit')})")
            continue
        if old and not same:
            print(f"[{name}] the record's config or task items differ from these: running again")
        if args.report_only:
            continue
        try:
            student = student or build_student(base.student)  # one student object: the base model loads once
            start = time.time()
            if name == "no_training":
                record = untrained(config, task, student, test_skills)
            else:
                run_dir = run_strategy(config, name, run_root, student)
                record = strategy_record(name, config, run_dir, test_skills, engine=_engine(name, config))
            record.update(
                config_digest=digest,
                task_digest=task_hash,
                commit=git_commit(),
                machine=machine(),
                finished_at=time.time(),
                this_session_s=round(time.time() - start, 1),
            )
            path.write_text(json.dumps(record, indent=2) + "\n")
            print(f"[{name}] record written: {path.relative_to(ROOT)}", flush=True)
            if args.commit and record["finished"]:
                commit_record(path, name, suite)
        except Exception:  # one broken strategy must not cost the hours the others took
            traceback.print_exc()
            failed.append(name)
    records, stale = {}, []  # every record of the suite, run now or earlier (on any machine)
    for name in SUITE_STRATEGIES[args.suite]:
        path = records_dir / f"{name}.json"
        if path.is_file():
            record = json.loads(path.read_text())
            if record.get("task_digest") == task_hash:
                records[name] = record
            else:  # made on other items or labels: paired comparisons with it would be wrong
                stale.append(f"{name} (commit {record.get('commit')})")
    payload = {
        "suite": suite,
        "command": "python benchmarks/" + " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": machine(),
        "records_dir": str(records_dir.relative_to(ROOT)),
        "setup": _setup(base, task),
        "config": base.model_dump(mode="json", exclude={"presets"}),
        "strategies": records,
        "stale": stale,
    }
    stem = "strategies" if suite == "arithmetic" else f"strategies-{suite}"
    print(strategies_report.write(payload, RESULTS, stem))
    if failed:
        sys.exit(f"strategies failed (rerun to resume them): {', '.join(failed)}")


def _engine(name: str, config: RunConfig) -> str | None:
    if name in ("no_training", "random_data"):
        return None
    return config.teacher.engine


def _setup(config: RunConfig, task: Any) -> str:
    sizes = {s: len(task.instances(s)) for s in ("train", "validation", "test")}
    return (
        f"student {config.student.model} ({config.student.epochs} epochs per round, mode {config.student.mode}); "
        f"teacher {config.teacher.models.get('default')}; task {config.task.name} (splits {sizes}); "
        f"{config.loop.iterations} iterations x {config.teacher.examples_per_iteration} examples "
        f"(the direct-writing engine: {min(DIRECT_BUDGET, config.teacher.examples_per_iteration)}); engine {config.teacher.engine}"
    )


if __name__ == "__main__":
    main()
