"""report.html: content, embedded plots, escaping, and partial/corrupt run directories."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import pytest

from teachgraph.errors import DataNotFoundError
from teachgraph.tracing.events import TraceEvent
from teachgraph.tracing.report import (
    DataCounts,
    accuracy_plot,
    data_counts,
    data_plot,
    load_run,
    render_report,
    skill_heatmap,
    write_report,
)
from teachgraph.tracing.rundir import RunDir
from tests.tracing.fake_run import (
    FOREST,
    GOLD,
    ITERATIONS,
    RUN_ID,
    SCRIPT_QUESTION,
    WRITER_MODEL,
    build_run,
)

PNG = "data:image/png;base64,"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SECTION_ERROR = "Could not build this section"


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunDir, str]:
    run = build_run(tmp_path_factory.mktemp("runs") / "run")
    path = write_report(run.root)
    assert path == run.report_path
    return run, path.read_text()


def embedded_pngs(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)]


# ------------------------------------------------------------------ a whole run


def test_report_embeds_every_plot_and_forest_as_png(full_run: tuple[RunDir, str]) -> None:
    run, page = full_run
    forests = len(list((run.root / "forest").glob("iter-*.json")))
    assert forests == ITERATIONS
    # accuracy + data per skill + heat map + one forest per snapshot
    assert page.count(PNG) == 3 + forests
    images = embedded_pngs(page)
    assert len(images) == 3 + forests
    assert all(img.startswith(PNG_MAGIC) and len(img) > 5_000 for img in images)
    assert SECTION_ERROR not in page
    assert "Problems reading this run" not in page


def test_report_is_self_contained(full_run: tuple[RunDir, str]) -> None:
    _, page = full_run
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()  # no JS at all (and the model's <script> is escaped)
    assert "<link" not in page.lower()
    assert "@import" not in page and "url(" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_header_has_run_facts(full_run: tuple[RunDir, str]) -> None:
    run, page = full_run
    metrics = run.read_metrics()
    before, after = metrics["test_accuracy_before"], metrics["test_accuracy_after"]
    assert RUN_ID in page
    assert "arithmetic" in page and "skill_tree" in page
    assert "yes (with state)" in page
    assert metrics["stop_reason"] in page
    assert f"{before * 100:.1f}% → <strong>{after * 100:.1f}%</strong>" in page
    assert f"({(after - before) * 100:+.1f} pp)" in page
    accepted = sum(r["accepted"] for r in metrics["rounds"])
    written = sum(r["written"] for r in metrics["rounds"])
    assert f"{accepted} ({accepted / written:.0%} of {written} written)" in page
    t_in = sum(r["teacher_input_tokens"] for r in metrics["rounds"])
    t_out = sum(r["teacher_output_tokens"] for r in metrics["rounds"])
    assert f"{t_in:,} in / {t_out:,} out" in page
    assert "Models per node (resolved)" in page
    assert f"<td>data_writing</td><td>{WRITER_MODEL}</td>" in page


def test_report_names_every_skill(full_run: tuple[RunDir, str]) -> None:
    _, page = full_run
    for root, (_, subskills) in FOREST.items():
        assert root in page
        for sub in subskills:
            assert f"{root}/{sub}" in page  # data table, forest diff, decisions
    for gold in GOLD:
        assert gold in page  # the heat map's table


def test_model_output_is_escaped(full_run: tuple[RunDir, str]) -> None:
    _, page = full_run
    assert SCRIPT_QUESTION not in page
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; What is 17 + 25?" in page
    assert "<b>bold</b>" not in page  # a rejection detail
    assert "empty answer &lt;b&gt;bold&lt;/b&gt;" in page


def test_forest_snapshots_and_diffs(full_run: tuple[RunDir, str]) -> None:
    _, page = full_run
    assert "Initial forest: multi-digit addition, fractions, word problems." in page
    assert "Changes since iteration 0:" in page and "Changes since iteration 1:" in page
    assert "+ multi-digit addition/carrying across columns (quota 4)" in page
    assert "+ fractions/common denominators (quota 4)" in page
    assert "Mermaid source" in page


def test_decisions_and_llm_usage_tables(full_run: tuple[RunDir, str]) -> None:
    run, page = full_run
    events = run.read_events()
    calls = [e for e in events if e.kind == "llm_call"]
    assert "explore (bandit)" in page and "exploit (bandit)" in page
    assert "2 new subskill(s), quota 4 each" in page
    assert "budget split by error rate" in page
    writer = [e for e in calls if e.node == "data_writing"]
    ok = sum(1 for e in writer if e.data["ok"])
    tokens_in = sum(e.data["input_tokens"] for e in writer)
    assert (
        f"<td>data_writing</td><td>{WRITER_MODEL}</td><td class=num>{len(writer)}</td>"
        f"<td class=num>{ok / len(writer):.0%}</td><td class=num>{tokens_in:,}</td>"
    ) in page
    assert f"<strong>{len(calls)}</strong>" in page  # the total row
    assert "Failures (1)" in page and "no valid JSON after 3 attempts" in page


def test_example_sample_per_iteration(full_run: tuple[RunDir, str]) -> None:
    run, page = full_run
    for it in range(ITERATIONS):
        exs = run.read_examples(it)
        n_acc = sum(ex.accepted for ex in exs)
        assert f"Iteration {it}: {len(exs)} written, {n_acc} accepted, {len(exs) - n_acc} rejected" in page
    first = run.read_examples(0)
    shown = [ex for ex in first if ex.accepted][:5] + [ex for ex in first if not ex.accepted][:5]
    not_shown = [ex for ex in first if ex.accepted][5:]
    sample = page.split("Iteration 0:", 1)[1].split("Iteration 1:", 1)[0]
    assert sample.count('<span class="ok">accepted</span>') == 5
    assert sample.count('<span class="bad">rejected</span>') == 5
    assert all(ex.input.replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;") in sample for ex in shown[1:])
    assert not any(ex.input in sample for ex in not_shown)
    assert (
        "duplicate: same question as ex-3f2a in iteration 0" in page or "too_easy: student already answers it" in page
    )


def test_write_report_twice_overwrites(full_run: tuple[RunDir, str]) -> None:
    run, _ = full_run
    write_report(run.root)
    assert run.report_path.read_text().count(PNG) == 3 + ITERATIONS
    assert not [p for p in run.root.iterdir() if p.name.startswith(".report.html")]


# ------------------------------------------------------------------ partial and broken runs


def test_missing_directory_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="no run directory"):
        write_report(tmp_path / "nope")


def test_empty_run_directory(tmp_path: Path) -> None:
    page = write_report(tmp_path).read_text()
    assert PNG not in page
    assert SECTION_ERROR not in page
    for text in (
        "No config.yaml in this run directory.",
        "No evaluations yet",
        "No data written yet",
        "No per-skill validation accuracy yet",
        "No skill forest snapshots",
        "No trace.jsonl in this run directory.",
        "No data/iter-NNN.jsonl files yet.",
        "unknown (no metrics.json yet)",
    ):
        assert text in page, text
    assert tmp_path.name in page  # the run id falls back to the directory name


def test_run_killed_after_first_evaluation(tmp_path: Path) -> None:
    """config + the first metrics.json only: one iteration's plots; the rest says it's missing."""
    full = build_run(tmp_path / "full")
    run = RunDir(tmp_path / "partial")
    run.root.mkdir()
    shutil.copy(full.config_path, run.config_path)
    metrics = full.read_metrics()
    metrics.update(
        evaluations=metrics["evaluations"][:1],
        rounds=[],
        stop_reason=None,
        test_accuracy_after=metrics["test_accuracy_before"],
    )
    run.write_metrics(metrics)
    page = write_report(run.root).read_text()
    assert page.count(PNG) == 2  # accuracy and heat map; no data, no forest
    assert SECTION_ERROR not in page
    assert "not stopped (the run is still going, or was interrupted)" in page
    assert "(+0.0 pp)" in page
    assert "No skill forest snapshots" in page and "No trace.jsonl" in page
    assert "Models per node (resolved)" in page


def test_data_plot_falls_back_to_metrics_rounds(tmp_path: Path) -> None:
    run = build_run(tmp_path / "run")
    shutil.rmtree(run.root / "data")
    page = write_report(run.root).read_text()
    assert "metrics.json rounds (no data files)" in page
    assert page.count(PNG) == 3 + ITERATIONS
    assert "No data/iter-NNN.jsonl files yet." in page


def test_corrupt_files_are_reported_not_fatal(tmp_path: Path) -> None:
    run = build_run(tmp_path / "run")
    run.metrics_path.write_text('{"evaluations": [')  # cut mid-write (not atomic: a foreign tool)
    with run.data_path(1).open("a") as f:
        f.write("{not json\n")
    run.forest_path(2).write_text(json.dumps({"iteration": 2, "forest": {"directed": True, "nodes": "x"}}))
    with run.trace_path.open("a") as f:
        f.write('{"node": "policy", "kind": "deci')  # a line cut by a kill
    page = write_report(run.root).read_text()
    assert "Problems reading this run" in page
    assert "metrics.json: JSONDecodeError" in page
    assert "data/iter-001.jsonl: skipped 1 unreadable line(s)" in page
    assert "forest/iter-002.json is not a valid forest" in page
    assert "No evaluations yet" in page
    # what could be read is still there: header from config, data plot, two forests, trace tables
    assert "skill_tree" in page
    assert page.count(PNG) == 1 + 2
    assert "explore (bandit)" in page


def test_untrusted_trace_and_config_text_is_escaped(tmp_path: Path) -> None:
    run = build_run(tmp_path / "run")
    evil = '<img src=x onerror="alert(1)">'
    run.append_event(
        TraceEvent(
            iteration=2,
            node="policy",
            kind="decision",
            skill=evil,
            data={"policy": "llm", "action": "exploit", "reason": evil, "quotas": {evil: 1}},
        )
    )
    run.append_event(
        TraceEvent(
            iteration=2,
            node=evil,
            kind="llm_call",
            data={
                "model": evil,
                "ok": False,
                "input_tokens": 1,
                "output_tokens": 0,
                "latency_s": 1.0,
            },
        )
    )
    config = run.config_path.read_text().replace("name: arithmetic", f"name: '{evil}'")
    run.config_path.write_text(config)
    page = render_report(run.root)
    assert evil not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_empty_forest_snapshot(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    run.write_forest(0, {})  # what the teacher node writes when a step produced no forest
    page = render_report(run.root)
    assert page.count(PNG) == 1
    assert "Initial forest: (empty)." in page
    assert SECTION_ERROR not in page


# ------------------------------------------------------------------ plot functions


def test_plots_return_none_without_data() -> None:
    assert accuracy_plot([]) is None
    assert skill_heatmap([]) is None
    assert skill_heatmap([{"iteration": 0, "validation": {"accuracy": 0.5, "n": 4, "per_skill": {}}}]) is None
    assert data_plot(DataCounts()) is None


def test_plots_are_pngs(tmp_path: Path) -> None:
    data = load_run(build_run(tmp_path / "run").root)
    for png in (
        accuracy_plot(data.evaluations),
        skill_heatmap(data.evaluations),
        data_plot(data_counts(data.examples)),
    ):
        assert png is not None and png.startswith(PNG_MAGIC)


def test_data_plot_groups_many_skills_by_root() -> None:
    from collections import Counter

    many = Counter({f"root{r}/sub{k}": 1 for r in range(5) for k in range(6)})
    counts = DataCounts(accepted={0: many, 1: many}, rejected={0: Counter(too_easy=2)})
    assert data_plot(counts, max_skills=24) is not None
    assert data_plot(counts, max_skills=100) is not None
