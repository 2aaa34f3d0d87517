"""What failed in a run, at a glance: failed LLM calls and node failures, grouped, and a verdict.

Nodes never stop a run for a failed call (the failure is traced and the graph goes on), so a run
whose provider is dead can reach its iteration limit with nothing written. :func:`run_health`
reads what the run recorded (``trace.jsonl`` events and ``metrics.json``) and says whether the run
*failed* (it could not do its job: every LLM call failed, or failures left it without a single
accepted example, or it was stopped by a failure), merely had failures, or was clean. The CLI
summary, its exit code and the top of ``report.html`` all come from here, so they agree.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from teachgraph.tracing.events import TraceEvent
from teachgraph.tracing.rundir import RunDir

Status = Literal["ok", "degraded", "failed"]
MAX_ERROR = 200  # characters of an error kept for grouping and display
# "no valid ErrorAnalysis after 3 attempt(s): provider error: X" -> "X": the same cause groups
# together whatever schema the node asked for.
_WRAPPER = re.compile(r"^no valid \w+ after \d+ attempt\(s\):\s*(provider error:\s*)?")


@dataclass(frozen=True)
class FailureGroup:
    """Failures with the same node, model and cause."""

    node: str
    model: str  # "-" for a failure that was not an LLM call
    error: str
    count: int
    iterations: tuple[int, ...]


@dataclass
class RunHealth:
    """Failures of a run and what they mean for it (see the module docstring)."""

    llm_calls: int = 0
    failed_calls: int = 0
    node_failures: int = 0  # failure events, LLM-related or not
    accepted: int | None = None  # accepted examples over the run (None: no teacher round yet)
    stop_reason: str | None = None
    groups: list[FailureGroup] = field(default_factory=list)

    @property
    def status(self) -> Status:
        """``failed``, ``degraded`` (failures, but the run did its job) or ``ok``."""
        if not (self.failed_calls or self.node_failures):
            return "ok"
        every_call_failed = self.llm_calls > 0 and self.failed_calls == self.llm_calls
        nothing_accepted = self.accepted == 0
        stopped_by_failure = "fail" in (self.stop_reason or "").lower()
        return "failed" if every_call_failed or nothing_accepted or stopped_by_failure else "degraded"

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def headline(self) -> str:
        """One line: what failed and how much, e.g. ``FAILED: 15 of 15 LLM calls failed; 0 examples accepted``."""
        if self.status == "ok":
            return f"no failures ({self.llm_calls} LLM call(s))"
        parts = []
        if self.llm_calls:
            parts.append(f"{self.failed_calls} of {self.llm_calls} LLM calls failed")
        other = self.node_failures - self.failed_calls
        if other > 0:
            parts.append(f"{other} other node failure(s)")
        if self.accepted is not None:
            parts.append(f"{self.accepted} example(s) accepted")
        if self.status == "failed" and "fail" in (self.stop_reason or "").lower():
            parts.append(f"stopped: {self.stop_reason}")
        label = "FAILED" if self.status == "failed" else "with failures"
        return f"{label}: " + "; ".join(parts)


def short_error(error: Any) -> str:
    """The cause of a failure, without the retry wrapper, on one line of at most MAX_ERROR characters."""
    text = " ".join(str(error or "no output").split())
    text = _WRAPPER.sub("", text) or text
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def run_health(events: Iterable[TraceEvent], metrics: dict[str, Any] | None = None) -> RunHealth:
    """The :class:`RunHealth` of a run from its trace events and ``metrics.json`` contents."""
    metrics = metrics or {}
    health = RunHealth(stop_reason=metrics.get("stop_reason"))
    rounds = [r for r in metrics.get("rounds") or [] if isinstance(r, dict)]
    if rounds:
        health.accepted = sum(int(r.get("accepted") or 0) for r in rounds)
    counts: Counter[tuple[str, str, str]] = Counter()
    iterations: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    # Each failed ask() traces an llm_call (with the model) and then a failure (without): pair
    # them so a failed call counts once, under its model.
    unpaired_calls: Counter[tuple[str, int, str | None, str]] = Counter()
    for e in events:
        if e.kind == "llm_call":
            health.llm_calls += 1
            if e.data.get("ok"):
                continue
            health.failed_calls += 1
            key = (e.node, str(e.data.get("model") or "?"), short_error(e.data.get("error")))
            unpaired_calls[(e.node, e.iteration, e.skill, str(e.data.get("error") or "no output"))] += 1
        elif e.kind == "failure":
            health.node_failures += 1
            pair = (e.node, e.iteration, e.skill, str(e.data.get("error") or "no output"))
            if unpaired_calls[pair]:
                unpaired_calls[pair] -= 1
                continue
            key = (e.node, "-", short_error(e.data.get("error")))
        else:
            continue
        counts[key] += 1
        iterations[key].add(e.iteration)
    health.groups = [
        FailureGroup(node=k[0], model=k[1], error=k[2], count=n, iterations=tuple(sorted(iterations[k])))
        for k, n in counts.most_common()
    ]
    return health


def read_health(run_dir: str | Path) -> RunHealth:
    """:func:`run_health` of a run directory (an empty health when it has no trace)."""
    run = RunDir(run_dir)
    return run_health(run.read_events(), run.read_metrics())


def iterations_text(iterations: tuple[int, ...]) -> str:
    """``0, 1, 2`` or ``0–7`` for a contiguous range of more than three."""
    if len(iterations) > 3 and iterations[-1] - iterations[0] == len(iterations) - 1:
        return f"{iterations[0]}–{iterations[-1]}"
    return ", ".join(map(str, iterations))
