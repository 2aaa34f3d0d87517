"""The run directory: everything a run leaves behind, in the layout of docs/architecture.md.

```
runs/<run-id>/
  config.yaml          the resolved config (models per node, seeds, budgets), secrets redacted
  checkpoints.sqlite   LangGraph checkpoints (resume, history, fork)
  trace.jsonl          decision and LLM-call events
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

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from teachgraph.domain import TrainingExample
from teachgraph.failpoints import failpoint
from teachgraph.redaction import redact
from teachgraph.tracing.events import TraceEvent


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
        line = event.model_dump_json() if isinstance(event, TraceEvent) else json.dumps(event, default=str)
        self.root.mkdir(parents=True, exist_ok=True)
        with self.trace_path.open("ab+") as f:
            # A run killed (or out of space) mid-line left a partial line: end it, so this event
            # starts on a line of its own and only the cut one is skipped when reading.
            if f.tell() > 0:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    f.write(b"\n")
            f.write((redact(line) + "\n").encode())

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

    def read_metrics(self) -> dict[str, Any]:
        return json.loads(self.metrics_path.read_text()) if self.metrics_path.is_file() else {}

    def read_forests(self) -> dict[int, dict[str, Any]]:
        out = {}
        for p in sorted((self.root / "forest").glob("iter-*.json")):
            data = json.loads(p.read_text())
            out[int(data["iteration"])] = data["forest"]
        return out
