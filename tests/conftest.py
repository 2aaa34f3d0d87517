"""Session fixtures shared across test packages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "examples" / "smoke.yaml"


def cli(
    *args: str, timeout: float = 600, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """Run ``teachgraph ARGS`` in a child process, from the repository root (or ``cwd``)."""
    return subprocess.run(
        [sys.executable, "-m", "teachgraph.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """One run of examples/smoke.yaml through the CLI, shared by every test that only reads it.

    Started from outside the repository: the config's paths resolve against its own directory.
    """
    out = tmp_path_factory.mktemp("smoke") / "run"
    result = cli("run", str(SMOKE), "--out", str(out), cwd=out.parent)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out
