"""Answering review pauses (``teacher.review``) from the terminal or from a decisions file.

Both are :data:`teachgraph.runner.Reviewer` callables: they get the interrupt payload of one
batch and return a decision mapping (see ``teachgraph.nodes.review``), or None to leave the run
paused. The terminal reviewer reads commands line by line from any text stream, so it is driven
by a pipe as easily as by a person::

    a                         approve (with the rejections and edits given so far) and go on
    r 3,5 answer is wrong     reject examples 3 and 5 (batch numbers or ex-... ids) with a reason
    e 4 answer=42             edit a field of example 4 (question, answer or program)
    s                         show the batch again
    q                         stop here; `teachgraph run --resume DIR` shows the batch again
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from teachgraph.errors import ConfigError, DataNotFoundError
from teachgraph.nodes.review import EDITABLE, ReviewDecision

HELP = (
    "commands: [bold]a[/] approve and go on | [bold]r N[,N..] REASON[/] reject | "
    "[bold]e N FIELD=VALUE[/] edit (question, answer, program) | [bold]s[/] show | [bold]q[/] stop (resume later)"
)


def show_batch(console: Console, payload: dict[str, Any]) -> None:
    """The batch as a table: number, id, skill, question, answer, verdict."""
    table = Table(title=f"review: iteration {payload.get('iteration')} ({len(payload['examples'])} examples)")
    for col in ("#", "id", "skill", "question", "answer", "verdict"):
        table.add_column(col, overflow="fold")
    for ex in payload["examples"]:
        verdict = "[green]accepted[/]" if ex["accepted"] else f"[red]{ex['verdict']}[/] {escape(ex['detail'][:60])}"
        table.add_row(
            str(ex["n"]), ex["id"], escape(ex["skill"]), escape(ex["question"][:300]), escape(ex["answer"]), verdict
        )
    console.print(table)


class ConsoleReviewer:
    """Shows each batch and reads commands from ``stream`` (stdin by default); EOF or ``q`` pauses."""

    def __init__(self, console: Console, stream: TextIO, *, prompt: bool = True) -> None:
        self.console, self.stream, self.prompt = console, stream, prompt

    def __call__(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        show_batch(self.console, payload)
        if payload.get("error"):
            self.console.print(f"[red]{escape(payload['error'])}[/]")
        self.console.print(HELP)
        reject: dict[str, str] = {}
        edit: dict[str, dict[str, str]] = {}
        while True:
            if self.prompt:
                self.console.print("review> ", end="")
            line = self.stream.readline()
            if not line:
                self.console.print("\n[yellow]no decision (end of input)[/]: the run stays paused at this review")
                return None
            command, _, rest = line.strip().partition(" ")
            rest = rest.strip()
            if command in ("a", "approve"):
                return ReviewDecision.model_validate({"reject": reject, "edit": edit}).model_dump(exclude_defaults=True)
            if command in ("q", "quit"):
                return None
            if command in ("s", "show"):
                show_batch(self.console, payload)
            elif command in ("r", "reject") and rest:
                ids, _, reason = rest.partition(" ")
                for key in filter(None, (k.strip() for k in ids.split(","))):
                    reject[key] = reason.strip() or "no reason given"
                self.console.print(f"rejecting {', '.join(sorted(reject))}")
            elif command in ("e", "edit") and "=" in rest:
                key, _, assignment = rest.partition(" ")
                field, _, value = assignment.partition("=")
                if field.strip() not in EDITABLE:
                    self.console.print(f"[red]can edit {', '.join(EDITABLE)}, not {field.strip()!r}[/]")
                    continue
                edit.setdefault(key, {})[field.strip()] = value.strip()
                self.console.print(f"editing {key}: {field.strip()} = {value.strip()!r}")
            elif command:
                self.console.print(f"[red]unknown command {line.strip()!r}[/]; {HELP}")


def file_reviewer(path: str | Path) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """Decisions from a YAML/JSON file: ``{ITERATION: decision, default: decision}``.

    A decision is the mapping :class:`ReviewDecision` takes (``{}`` or ``approve`` approves); an
    iteration with neither its own entry nor ``default`` stays paused for a person.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"review file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"review file {path} is not valid YAML/JSON: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"review file {path} must map iterations (or 'default') to decisions")
    decisions: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        value = {} if value in ("approve", None) else value
        try:
            decisions[str(key)] = ReviewDecision.model_validate(value).model_dump(exclude_defaults=True)
        except ValueError as err:
            raise ConfigError(f"review file {path}, entry {key!r}: {' '.join(str(err).split())[:300]}") from None

    def review(payload: dict[str, Any]) -> dict[str, Any] | None:
        decision = decisions.get(str(payload.get("iteration")), decisions.get("default"))
        if decision is not None and payload.get("error"):
            raise ConfigError(f"review file {path}: {payload['error']}")
        return None if decision is None else json.loads(json.dumps(decision))

    return review
