"""Live progress of a run in the terminal, built from trace events (rich)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from teachgraph.costs import format_cost
from teachgraph.tracing.failures import RunHealth, iterations_text

MAX_FAILURE_GROUPS = 8  # lines of the failure summary before "... N more"


class Progress:
    """Prints one line per meaningful event: evaluations, teacher rounds, training, stops.

    Verdicts are tallied and printed once per iteration (written, accepted, rejected by reason).
    """

    def __init__(self, console: Console, *, quiet: bool = False) -> None:
        self.console, self.quiet = console, quiet
        self._verdicts: Counter[str] = Counter()
        self._iteration = -1

    def __call__(self, event: dict[str, Any]) -> None:
        if self.quiet:
            return
        kind, data, it = event["kind"], event.get("data", {}), event.get("iteration", 0)
        c = self.console.print
        if kind == "evaluation":
            per = ", ".join(f"{k} {v:.2f}" for k, v in sorted(data.get("per_skill", {}).items())[:8])
            c(
                f"[bold]iter {it}[/] evaluate {data['split']}: accuracy [bold]{data['accuracy']:.3f}[/] (n={data['n']}, {data['seconds']} s)  [dim]{per}[/]"
            )
        elif kind == "llm_start":
            where = f" {event['skill']}" if event.get("skill") else ""
            c(f"  [dim]iter {it} {event['node']}{where}: asking {data.get('model')} ({data.get('purpose')})...[/]")
        elif kind == "llm_call" and not data.get("ok"):
            c(
                f"  [yellow]iter {it} {event['node']}: {data.get('model')} failed after {data.get('attempts')} attempt(s): {str(data.get('error'))[:160]}[/]"
            )
        elif kind == "skills":
            c(f"  iter {it} skill_induction ({data.get('source')}): {', '.join(data.get('skills', {}))}")
        elif kind == "decision":
            c(
                f"  iter {it} {event['node']}: [cyan]{data.get('action', data.get('policy'))}[/] {event.get('skill') or ''} — {data.get('reason', '')}"
            )
        elif kind == "subskills":
            c(f"  iter {it} subskill_exploration {event.get('skill')}: + {', '.join(data.get('proposed', []))}")
        elif kind == "written":
            if "quota" in data:
                c(
                    f"  iter {it} data_writing {event.get('skill')}: {data['written']}/{data['quota']} written"
                    + (f", shortfall {data['shortfall']}" if data.get("shortfall") else "")
                )
        elif kind == "top_up":
            c(
                f"  iter {it} top_up: {data.get('filled')} of a shortfall of {data.get('shortfall')} drawn from working generators"
            )
        elif kind == "verdict":
            self._verdicts[data["reason"]] += 1
        elif kind == "failure":
            c(f"  [yellow]iter {it} {event['node']} failed[/]: {data.get('error', '')[:160]}")
        elif kind == "training":
            self._flush_verdicts(it)
            if data.get("skipped"):
                c(f"  iter {it} train: skipped ({data.get('reason')})")
            else:
                c(
                    f"  iter {it} train ({data.get('mode')}): {data['examples']} examples, {data['steps']} steps, loss {data.get('final_loss')}, {data['seconds']} s"
                )
        elif kind == "reviewed":
            c(
                f"  iter {it} human_review: {data.get('approved')} approved, {data.get('rejected')} rejected, {data.get('edited')} edited -> {data.get('accepted_after')} accepted"
            )
        elif kind == "iteration" and data.get("stop"):
            c(f"[bold]stop[/]: {data['stop']}")

    def _flush_verdicts(self, iteration: int) -> None:
        if self._verdicts:
            accepted = self._verdicts.pop("accepted", 0)
            rejected = ", ".join(f"{k} {v}" for k, v in sorted(self._verdicts.items())) or "none"
            self.console.print(f"  iter {iteration} validation: {accepted} accepted, rejected: {rejected}")
            self._verdicts.clear()

    def summary(self, metrics: dict[str, Any], out: Path | None) -> None:
        """Final table: validation and test accuracy per iteration, accepted data per round."""
        table = Table(title=f"run {metrics.get('run_id', '')}: {metrics.get('environment')} on {metrics.get('task')}")
        for col in ("iteration", "validation", "test", "accepted data", "rejected", "teacher tokens in/out", "cost"):
            table.add_column(col)
        rounds = {r["iteration"]: r for r in metrics.get("rounds", [])}
        for e in metrics.get("evaluations", []):
            r = rounds.get(e["iteration"], {})
            table.add_row(
                str(e["iteration"]),
                f"{e['validation']['accuracy']:.3f}" if "validation" in e else "-",
                f"{e['test']['accuracy']:.3f}" if "test" in e else "-",
                str(r.get("accepted", "-")),
                ", ".join(f"{k} {v}" for k, v in r.get("rejected", {}).items()) or "-",
                f"{r['teacher_input_tokens']:,} / {r['teacher_output_tokens']:,}"
                if "teacher_input_tokens" in r
                else "-",
                format_cost(r.get("teacher_cost_usd"), (r.get("ledger") or {}).get("unpriced_models", ())),
            )
        self.console.print(table)
        before, after = metrics.get("test_accuracy_before"), metrics.get("test_accuracy_after")
        if before is not None and after is not None:
            self.console.print(
                f"held-out test accuracy: before [bold]{before:.3f}[/] -> after [bold]{after:.3f}[/] ({after - before:+.3f})"
            )
        cost = metrics.get("cost")
        if cost and cost.get("calls"):
            nodes = ", ".join(
                f"{node} {line['input_tokens'] + line['output_tokens']:,} tok {format_cost(line['cost_usd'])}"
                for node, line in sorted(cost["by_node"].items())
            )
            self.console.print(
                f"teacher: {cost['calls']} LLM calls, {cost['input_tokens']:,} in + {cost['output_tokens']:,} out tokens, "
                f"cost {format_cost(cost['cost_usd'], cost.get('unpriced_models', ()))}  [dim]({nodes})[/]"
            )
            if cost.get("unpriced_models"):
                self.console.print(
                    f"[yellow]no price for[/] {', '.join(cost['unpriced_models'])} (set prices: in the config)"
                )
        paused = metrics.get("paused_for_review")
        if paused:
            self.console.print(
                f"[yellow]paused for review[/] at iteration {paused['iteration']} ({paused['examples']} examples): "
                f"continue with teachgraph run --resume {out}"
            )
        elif metrics.get("stop_reason"):
            self.console.print(f"stopped: {metrics['stop_reason']}")
        if out is not None:
            self.console.print(
                f"run directory: [bold]{out}[/]  (report: {out}/report.html; decisions: teachgraph trace {out})"
            )

    def failures(self, health: RunHealth, out: Path | None) -> None:
        """What failed, after the summary: a headline and one line per (node, model, cause)."""
        if health.status == "ok":
            return
        colour = "red" if health.failed else "yellow"
        self.console.print(f"[bold {colour}]{escape(health.headline())}[/]")
        table = Table(show_header=True, header_style=colour, box=None, pad_edge=False)
        for col in ("node", "model", "count", "iterations", "error"):
            table.add_column(col, overflow="fold")
        for group in health.groups[:MAX_FAILURE_GROUPS]:
            table.add_row(
                group.node, group.model, f"{group.count}x", iterations_text(group.iterations), escape(group.error)
            )
        self.console.print(table)
        more = len(health.groups) - MAX_FAILURE_GROUPS
        where = f"teachgraph trace {out} --kind failure" if out is not None else "the trace"
        self.console.print(
            f"[{colour}]{f'... {more} more kind(s) of failure; ' if more > 0 else ''}details: {where}[/]"
        )
