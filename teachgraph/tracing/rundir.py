"""The run directory: everything a run leaves behind, in the layout of docs/architecture.md.

```
runs/<run-id>/
  config.yaml          the resolved config (models per node, seeds, budgets), secrets redacted
  checkpoints.sqlite   LangGraph checkpoints (resume, history, fork)
  trace.jsonl          decision and LLM-call events
  llm_calls.jsonl      every LLM call's full prompt and response (linked by call_id)
  data/iter-000.jsonl  every written example with provenance and verdict (accepted and rejected)
  forest/iter-000.json skill forest snapshots
  adapters/iter-000/   peft adapters
  metrics.json         accuracy per iteration, per skill; examples; tokens; wall time
  report.html          plots
```

Files are written atomically (temp file + rename), so a run killed at any moment leaves either
the old or the new version, never half a file, and a resumed run can rewrite them idempotently.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import yaml

from teachgraph.domain import TrainingExample
from teachgraph.failpoints import failpoint
from teachgraph.redaction import redact
from teachgraph.tracing.events import TraceEvent
from teachgraph.tracing.llm_calls import LLMCallRecord, split_transcript


def _append_line(path: Path, line: str) -> None:
    with path.open("ab+") as f:
        # A run killed (or out of space) mid-line left a partial line: end it, so this line starts
        # on a line of its own and only the cut one is skipped when reading.
        if f.tell() > 0:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                f.write(b"\n")
        f.write((line + "\n").encode())


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            half = len(text) // 2
            f.write(text[:half])
            f.flush()
            failpoint(f"write:{path.name}")  # a kill-anywhere test can stop here, mid-file
            f.write(text[half:])
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RunDir:
    """Paths and readers/writers of one run directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # paths
    @property
    def run_id(self) -> str:
        return self.root.resolve().name

    @property
    def config_path(self) -> Path:
        return self.root / "config.yaml"

    @property
    def checkpoints_path(self) -> Path:
        return self.root / "checkpoints.sqlite"

    @property
    def trace_path(self) -> Path:
        return self.root / "trace.jsonl"

    @property
    def llm_calls_path(self) -> Path:
        return self.root / "llm_calls.jsonl"

    @property
    def metrics_path(self) -> Path:
        return self.root / "metrics.json"

    @property
    def report_path(self) -> Path:
        return self.root / "report.html"

    def data_path(self, iteration: int) -> Path:
        return self.root / "data" / f"iter-{iteration:03d}.jsonl"

    def forest_path(self, iteration: int) -> Path:
        return self.root / "forest" / f"iter-{iteration:03d}.json"

    def adapter_dir(self, iteration: int) -> Path:
        return self.root / "adapters" / f"iter-{iteration:03d}"

    def exists(self) -> bool:
        return self.config_path.is_file()

    def has_checkpoint(self) -> bool:
        """Whether the checkpoint database holds at least one checkpoint (the run started)."""
        if not self.checkpoints_path.is_file():
            return False
        try:
            with contextlib.closing(sqlite3.connect(f"file:{self.checkpoints_path}?mode=ro", uri=True)) as conn:
                return conn.execute("SELECT 1 FROM checkpoints LIMIT 1").fetchone() is not None
        except sqlite3.Error:  # no table yet (created but never written), or not a database
            return False

    def discard_unstarted(self, *, remove_root: bool = False) -> None:
        """Remove what a run that never reached its first checkpoint left (config, empty
        database, trace); with ``remove_root``, the directory too when nothing else is in it."""
        for path in (self.config_path, self.checkpoints_path, self.trace_path):
            path.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm", "-journal"):
            self.checkpoints_path.with_name(self.checkpoints_path.name + suffix).unlink(missing_ok=True)
        if remove_root and self.root.is_dir():
            leftovers = [p for p in self.root.iterdir() if not (p.is_dir() and not any(p.rglob("*")))]
            if not leftovers:
                shutil.rmtree(self.root)

    # writers
    def write_config(self, data: dict[str, Any]) -> None:
        atomic_write(self.config_path, redact(yaml.safe_dump(data, sort_keys=False)))

    def write_examples(self, iteration: int, examples: list[TrainingExample]) -> None:
        lines = [redact(ex.model_dump_json()) for ex in examples]
        atomic_write(self.data_path(iteration), "".join(line + "\n" for line in lines))

    def write_forest(self, iteration: int, forest_data: dict[str, Any]) -> None:
        # Skill names and descriptions are model output: redacted like everything else.
        atomic_write(
            self.forest_path(iteration), redact(json.dumps({"iteration": iteration, "forest": forest_data}, indent=1))
        )

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        atomic_write(self.metrics_path, redact(json.dumps(metrics, indent=2)))

    def append_event(self, event: dict[str, Any] | TraceEvent) -> None:
        """Append an event to trace.jsonl; an LLM call's full transcript goes to llm_calls.jsonl."""
        if isinstance(event, TraceEvent):
            event = event.model_dump(mode="json")
        event, record = split_transcript(event)
        self.root.mkdir(parents=True, exist_ok=True)
        if record is not None:  # transcript first: an event in the trace always finds its transcript
            _append_line(self.llm_calls_path, redact(record.model_dump_json()))
        _append_line(self.trace_path, redact(json.dumps(event, default=str)))

    def write_llm_calls(self, records: list[LLMCallRecord]) -> None:
        """Replace llm_calls.jsonl (used by forks, which keep only the calls before the fork)."""
        atomic_write(self.llm_calls_path, "".join(redact(r.model_dump_json()) + "\n" for r in records))

    def remove_partial_files(self) -> list[Path]:
        """Delete temp files a killed run left behind (``.NAME.xxxx`` from :func:`atomic_write`)."""
        removed = []
        for folder in (self.root, self.root / "data", self.root / "forest"):
            for path in folder.glob(".*") if folder.is_dir() else []:
                if path.is_file():
                    path.unlink(missing_ok=True)
                    removed.append(path)
        return removed

    # readers
    def read_examples(self, iteration: int) -> list[TrainingExample]:
        path = self.data_path(iteration)
        if not path.is_file():
            return []
        return [TrainingExample.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()]

    def iterations_with_data(self) -> list[int]:
        return sorted(int(p.stem.split("-")[1]) for p in (self.root / "data").glob("iter-*.jsonl"))

    def read_events(self) -> list[TraceEvent]:
        if not self.trace_path.is_file():
            return []
        events = []
        for line in self.trace_path.read_text().splitlines():
            if line.strip():
                try:
                    events.append(TraceEvent.model_validate_json(line))
                except ValueError:
                    continue  # a line cut by a kill mid-write: skip it, keep the rest
        return events

    def read_llm_calls(self) -> list[LLMCallRecord]:
        """Every full LLM transcript of the run, in call order (none for runs made before they were kept)."""
        if not self.llm_calls_path.is_file():
            return []
        calls = []
        for line in self.llm_calls_path.read_text().splitlines():
            if line.strip():
                try:
                    calls.append(LLMCallRecord.model_validate_json(line))
                except ValueError:
                    continue  # a line cut by a kill mid-write
        return calls

    def read_metrics(self) -> dict[str, Any]:
        return json.loads(self.metrics_path.read_text()) if self.metrics_path.is_file() else {}

    def read_forests(self) -> dict[int, dict[str, Any]]:
        out = {}
        for p in sorted((self.root / "forest").glob("iter-*.json")):
            data = json.loads(p.read_text())
            out[int(data["iteration"])] = data["forest"]
        return out
