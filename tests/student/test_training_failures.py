"""Training failures surface as StudentError and leave the calling process fully usable."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from teachgraph.errors import StudentError
from teachgraph.student import StudentConfig, StudentTrainingError, TrainingPair, build_student
from teachgraph.student.training import ADAPTER_FILES, log_tail

PAIRS = [TrainingPair(prompt="What is 1+1?", target="2")]


def test_child_crash_raises_student_error_and_parent_survives(tiny_config: StudentConfig, tmp_path: Path) -> None:
    student = build_student(tiny_config)
    # A corrupt adapter to continue from: the child dies with a traceback while loading it.
    broken = tmp_path / "broken-adapter"
    broken.mkdir()
    (broken / "adapter_config.json").write_text("{ this is not json")

    with pytest.raises(StudentTrainingError) as info:
        student.train(PAIRS, tmp_path / "out", init_adapter=broken)

    err = info.value
    assert isinstance(err, StudentError)
    assert err.returncode == 1
    assert "failed with exit code 1" in str(err)
    assert "\n" not in str(err)  # teachgraph errors are one line
    assert "Error" in err.stderr_tail  # the child's exception is quoted
    assert err.log_path.is_file()
    assert not any((tmp_path / "out" / name).exists() for name in ADAPTER_FILES)

    # The parent is unharmed and keeps working (test_tiny_learning shows training succeeds).
    assert len(student.predict(["What is 1+1?"])) == 1

    # Loading that broken adapter for prediction fails cleanly too, keeping the base in use.
    with pytest.raises(StudentError, match="cannot load adapter"):
        student.load_adapter(broken)
    assert student.adapter is None
    assert len(student.predict(["What is 1+1?"])) == 1


def test_child_timeout_is_killed_and_reported(tiny_config: StudentConfig, tmp_path: Path) -> None:
    student = build_student(tiny_config.model_copy(update={"train_timeout_s": 0.5}))
    with pytest.raises(StudentTrainingError, match=r"timed out after 0\.5 s") as info:
        student.train(PAIRS, tmp_path / "out")
    assert info.value.returncode is None
    assert not (tmp_path / "out" / "train_result.json").exists()
    # The job description stays for the post-mortem.
    job = json.loads((tmp_path / "out" / "train_job.json").read_text())
    assert job["output_dir"] == str((tmp_path / "out").resolve())


def test_child_killed_by_signal(tiny_config: StudentConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that dies from a signal (e.g. the OOM killer) is reported as such."""
    student = build_student(tiny_config)
    # sitecustomize runs at interpreter start-up, here only in the child (via its PYTHONPATH).
    (tmp_path / "sitecustomize.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    old = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(tmp_path), old) if p))
    with pytest.raises(StudentTrainingError, match="killed by signal 9") as info:
        student.train(PAIRS, tmp_path / "out")
    assert info.value.returncode == -9


def test_bad_inputs_fail_before_starting_a_child(tiny_config: StudentConfig, tmp_path: Path) -> None:
    student = build_student(tiny_config)
    with pytest.raises(StudentError, match="no training pairs"):
        student.train([], tmp_path / "out")
    with pytest.raises(StudentError, match=r"no adapter_config\.json"):
        student.train(PAIRS, tmp_path / "out", init_adapter=tmp_path / "missing")
    with pytest.raises(StudentError, match=r"no adapter_config\.json"):
        student.load_adapter(tmp_path / "missing")
    same = tmp_path / "same"
    same.mkdir()
    (same / "adapter_config.json").write_text("{}")
    with pytest.raises(StudentError, match="is the init_adapter"):
        student.train(PAIRS, same, init_adapter=same)


def test_log_tail_splits_progress_bars(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"a\n\nbar 1%\rbar 50%\rbar 100%\nTraceback\nValueError: boom\n")
    assert log_tail(log, lines=3) == "bar 100%\nTraceback\nValueError: boom"
    assert log_tail(tmp_path / "missing") == ""
