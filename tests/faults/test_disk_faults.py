"""Disk faults: a full or read-only run directory gives one clear line; what was written before
stays intact, and the run resumes once there is room again."""

from __future__ import annotations

import errno
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from teachgraph.runner import RunDirError, resume_run, run_episode
from teachgraph.tracing.rundir import RunDir
from tests.conftest import ROOT
from tests.faults.conftest import tiny_config, write_config


def _can_mount() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


needs_mount = pytest.mark.skipif(not _can_mount(), reason="needs unshare + mount (root) for a private tmpfs")


def _in_private_tmpfs(options: str, command: str, copy_to: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``command`` (``{mnt}`` = the mount point) with a tmpfs of ``options`` mounted in a
    private mount namespace (nothing outside sees it); then copy the run out of it."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = (
        f"mount -t tmpfs -o {options} tmpfs {mnt} || exit 99; "
        f"{command.format(mnt=mnt)}; rc=$?; cp -a {mnt}/run {copy_to} 2>/dev/null; exit $rc"
    )
    return subprocess.run(["unshare", "-m", "sh", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600)


def _cli(*args: str) -> str:
    return " ".join([sys.executable, "-m", "teachgraph.cli", *args])


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-3000:]
    assert len(lines) == 1 and "Traceback" not in result.stderr, lines
    return lines[0]


@needs_mount
def test_full_run_directory_is_one_line_and_the_run_resumes(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg.yaml", tiny_config(None))
    copied = tmp_path / "copied"
    # 400 KiB: the config, the first checkpoints and the trace fit, the run does not.
    result = _in_private_tmpfs("size=400k", _cli("run", str(config), "--out", "{mnt}/run", "--quiet"), copied, tmp_path)
    line = _one_line(result)
    assert "No space left on device" in line or "disk is full" in line, line
    assert "resume with: teachgraph run --resume" in line
    run = RunDir(copied)
    assert run.exists() and run.checkpoints_path.is_file()
    for path in (copied / "data").glob("*.jsonl"):
        run.read_examples(int(path.stem.split("-")[1]))  # whatever data was written parses
    metrics = resume_run(copied)
    assert metrics["stop_reason"] == "iterations: 1 done" and run.read_examples(0)


@needs_mount
def test_read_only_run_directory_is_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg.yaml", tiny_config(None))
    result = _in_private_tmpfs(
        "ro", _cli("run", str(config), "--out", "{mnt}/run", "--quiet"), tmp_path / "x", tmp_path
    )
    line = _one_line(result)
    assert "cannot write to the run directory" in line and "Read-only file system" in line, line


@pytest.mark.skipif(_can_mount(), reason="the tmpfs tests above cover this for real")
def test_a_failed_data_write_keeps_checkpoints_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without root: the first data file write fails with ENOSPC (monkeypatched)."""
    out = tmp_path / "run"

    def full(self: RunDir, iteration: int, examples: list) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(self.data_path(iteration)))

    with monkeypatch.context() as patch:
        patch.setattr(RunDir, "write_examples", full)
        with pytest.raises(RunDirError, match=r"No space left on device.*resume with: teachgraph run --resume"):
            run_episode(tiny_config(None), out)
    run = RunDir(out)
    assert run.read_metrics()["evaluations"] and not run.read_examples(0)
    metrics = resume_run(out)
    assert metrics["stop_reason"] == "iterations: 1 done" and run.read_examples(0)
