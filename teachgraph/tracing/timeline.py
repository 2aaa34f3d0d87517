"""``teachgraph trace``: a readable, filterable timeline of a run's decision events."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from teachgraph.errors import DataNotFoundError
from teachgraph.tracing.events import TraceEvent
from teachgraph.tracing.rundir import RunDir

_SKIP = {"response", "question", "source"}


def describe(event: TraceEvent) -> str:
    """One line per event: the fields that explain the decision."""
    d = event.data
    if event.kind == "llm_call":
        status = "ok" if d.get("ok") else f"FAILED: {d.get('error')}"
        queued = f" ({d['queued_s']} s of it queued)" if d.get("queued_s") else ""
        return f"{d.get('model')} {d.get('purpose', '')}: {status}; {d.get('input_tokens')} in / {d.get('output_tokens')} out tokens, {d.get('latency_s')} s{queued}, {d.get('attempts')} attempt(s)"
    if event.kind == "decision":
        extra = ""
        if d.get("action") == "explore":
            extra = f" {d.get('num_new')} new subskill(s), quota {d.get('new_quota')} each"
        elif d.get("quotas"):
            extra = " quotas " + ", ".join(f"{k}={v}" for k, v in d["quotas"].items())
        return f"[cyan]{d.get('action', d.get('policy'))}[/]{extra} — reason: {d.get('reason', '')} ({d.get('policy', '')} policy)"
    if event.kind == "verdict":
        mark = "[green]accepted[/]" if d.get("accepted") else f"[red]{d.get('reason')}[/] {d.get('detail', '')}"
        return f"{mark}: {str(d.get('question', ''))[:90]}"
    if event.kind == "generator":
        return _describe_generator(d)
    if event.kind == "drawn":
        return (
            f"generator {d.get('generator')}: kept {d.get('kept')} of quota {d.get('quota')} from {d.get('seeds')} "
            f"draws ({d.get('duplicates')} duplicates, {d.get('contaminated', 0)} eval items, {d.get('errors')} errors)"
            + (f"; {d['error']}" if d.get("error") else "")
        )
    if event.kind == "probe" and "generator" in d:
        easy = " [red]too easy: retired[/]" if d.get("too_easy") else ""
        return f"generator {d.get('generator')}: student accuracy {d.get('accuracy'):.0%} on {d.get('n')} of its questions{easy}"
    return "; ".join(f"{k}={v}" for k, v in d.items() if k not in _SKIP)


def _describe_generator(d: dict[str, object]) -> str:
    """A generator's validation verdict: accepted (with its measurements) or the rejection reason."""
    stats = d.get("stats") or {}
    assert isinstance(stats, dict)
    attempt = f" (repair {d.get('attempt')})" if d.get("attempt") else ""
    if d.get("accepted"):
        return (
            f"[green]accepted[/] generator {d.get('generator')}{attempt}: {stats.get('distinct_share', 0):.0%} distinct "
            f"of {stats.get('seeds')} seeds, independent check {stats.get('agreed')}/{stats.get('checked')}"
        )
    sample = f" — {d.get('sample')}" if d.get("sample") else ""
    return f"[red]{d.get('reason')}[/] generator {d.get('generator')}{attempt}: {d.get('detail')}{sample}"


def filter_events(
    events: list[TraceEvent],
    *,
    iteration: int | None = None,
    node: str | None = None,
    skill: str | None = None,
    kind: str | None = None,
) -> list[TraceEvent]:
    """Events matching every given filter (skill matches by substring)."""
    return [
        e
        for e in events
        if (iteration is None or e.iteration == iteration)
        and (node is None or e.node == node)
        and (skill is None or (e.skill is not None and skill.lower() in e.skill.lower()))
        and (kind is None or e.kind == kind)
    ]


def print_timeline(console: Console, run: Path, **filters: object) -> None:
    """Print the matching events as a table."""
    run_dir = RunDir(run)
    if not run_dir.trace_path.is_file():
        raise DataNotFoundError(f"no trace in {run} (expected {run_dir.trace_path})")
    events = filter_events(run_dir.read_events(), **filters)  # type: ignore[arg-type]
    table = Table(title=f"trace of {run_dir.run_id}: {len(events)} event(s)", show_lines=False)
    for col in ("iter", "node", "kind", "skill", "what"):
        table.add_column(col, overflow="fold")
    for e in events:
        table.add_row(str(e.iteration), e.node, e.kind, e.skill or "", describe(e))
    console.print(table)
