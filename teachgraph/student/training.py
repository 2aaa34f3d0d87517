"""Training in a child process: the job description and the launcher.

Training runs in ``python -m teachgraph.student.train_worker job.json`` rather than in the
orchestrator process because (a) a crash, an out-of-memory kill or a hang in torch must not take
down the LangGraph run (which then records the failure and carries on), (b) a hard timeout can
only be enforced on a process, and (c) the ~3 GiB of activations and optimizer state are given
back to the OS when the child exits. This module imports no torch, so the launcher is cheap.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from teachgraph.errors import StudentError
from teachgraph.student.base import TrainingPair, TrainResult
from teachgraph.student.config import StudentConfig

JOB_FILE = "train_job.json"
PAIRS_FILE = "train_pairs.jsonl"
LOG_FILE = "train.log"
RESULT_FILE = "train_result.json"
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
TAIL_LINES = 15


class TrainJob(BaseModel):
    """Everything the training child needs; written as JSON next to the adapter it produces."""

    model_config = ConfigDict(extra="forbid")

    base_dir: Path
    output_dir: Path
    pairs_path: Path
    result_path: Path
    init_adapter: Path | None = None
    lora_r: int
    lora_alpha: int
    lora_dropout: float
    lora_target_modules: str | list[str]
    modules_to_save: list[str] = Field(default_factory=list)
    learning_rate: float
    epochs: int
    batch_size: int
    max_length: int
    max_steps: int | None = None
    warmup_ratio: float = 0.1
    seed: int = 0
    num_threads: int = 2
    device: str = "auto"


class StudentTrainingError(StudentError):
    """The training child failed, crashed or timed out.

    Attributes:
        returncode: The child's exit status (negative: killed by that signal; ``None``: timeout).
        log_path: The child's full stdout+stderr.
        stderr_tail: The last lines of that log.
    """

    def __init__(self, message: str, *, returncode: int | None, log_path: Path, stderr_tail: str) -> None:
        super().__init__(message)
        self.returncode, self.log_path, self.stderr_tail = returncode, log_path, stderr_tail


def build_train_job(
    config: StudentConfig,
    base_dir: Path,
    output_dir: Path,
    init_adapter: Path | None,
) -> TrainJob:
    """The job for ``config``; ``init_adapter`` is dropped unless ``config.mode == "continue"``."""
    output_dir = Path(output_dir).resolve()
    start = Path(init_adapter).resolve() if init_adapter and config.mode == "continue" else None
    if start is not None:
        if not (start / "adapter_config.json").is_file():
            raise StudentError(
                f"cannot continue training from {start}: no adapter_config.json there "
                "(pass the output_dir of a successful earlier train() call)"
            )
        if start == output_dir:
            raise StudentError(
                f"output_dir {output_dir} is the init_adapter being continued; a failed run "
                "would destroy it, so write each round's adapter to a new directory"
            )
    return TrainJob(
        base_dir=base_dir,
        output_dir=output_dir,
        pairs_path=output_dir / PAIRS_FILE,
        result_path=output_dir / RESULT_FILE,
        init_adapter=start,
        lora_r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        lora_target_modules=config.lora_target_modules,
        modules_to_save=["lm_head"] if config.is_tiny and config.tiny_train_head else [],
        learning_rate=config.effective_learning_rate,
        epochs=config.epochs,
        batch_size=config.batch_size,
        max_length=config.max_length,
        max_steps=config.max_steps,
        warmup_ratio=config.warmup_ratio,
        seed=config.seed,
        num_threads=config.train_threads,
        device=config.device,
    )


def run_train_job(job: TrainJob, pairs: list[TrainingPair], *, timeout_s: float) -> TrainResult:
    """Write ``job`` and ``pairs`` into ``job.output_dir``, train in a child, return its result.

    Raises:
        StudentError: no pairs.
        StudentTrainingError: the child exited non-zero, was killed, timed out or produced no
            adapter; the message names the log file and quotes its last lines.
    """
    if not pairs:
        raise StudentError("train() got no training pairs; nothing to learn from")
    out = job.output_dir
    out.mkdir(parents=True, exist_ok=True)
    # Anything from an earlier run in this directory must not pass for this run's output.
    for name in (*ADAPTER_FILES, RESULT_FILE):
        (out / name).unlink(missing_ok=True)
    with open(job.pairs_path, "w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(pair.model_dump_json() + "\n")
    job_path = out / JOB_FILE
    job_path.write_text(job.model_dump_json(indent=2) + "\n", encoding="utf-8")
    log_path = out / LOG_FILE

    env = dict(os.environ)
    # The child must import this very teachgraph, even when it is not installed (a checkout).
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    env["HF_HUB_OFFLINE"] = "1"
    env["OMP_NUM_THREADS"] = str(job.num_threads)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see teachgraph.student._env
    # MKL otherwise picks kernels by memory alignment, so two processes training the same job
    # can differ in the last bits; a resumed run must reproduce the uninterrupted one.
    env.setdefault("MKL_CBWR", "AUTO,STRICT")
    env["PYTHONUNBUFFERED"] = "1"  # the log tail must be current when the child dies

    command = [sys.executable, "-m", "teachgraph.student.train_worker", str(job_path)]
    started = time.monotonic()
    with open(log_path, "wb") as log:
        # start_new_session: on timeout we kill the child's whole process group (it may have
        # spawned helpers) without touching ours.
        child = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        try:
            returncode: int | None = child.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(child)
            returncode = None
        except BaseException:  # e.g. KeyboardInterrupt: never leave an orphaned trainer behind
            _kill_group(child)
            raise
    seconds = time.monotonic() - started

    if returncode is None:
        _fail(f"student training timed out after {timeout_s:g} s and was killed", None, log_path)
    if returncode != 0:
        how = f"was killed by signal {-returncode}" if returncode < 0 else f"failed with exit code {returncode}"
        _fail(f"student training {how}", returncode, log_path)
    missing = [name for name in (*ADAPTER_FILES, RESULT_FILE) if not (out / name).is_file()]
    if missing:
        _fail(f"student training exited 0 but did not write {', '.join(missing)}", 0, log_path)

    data = json.loads(job.result_path.read_text(encoding="utf-8"))
    return TrainResult(
        adapter_dir=out,
        steps=data["steps"],
        examples=data["examples"],
        train_tokens=data["train_tokens"],
        seconds=seconds,  # the whole call (process start, loading, training, saving)
        final_loss=data["final_loss"],
    )


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGKILL it when the orchestrator dies (even by SIGKILL).

    Without this a killed run leaves its trainer running, and the resumed run's trainer would
    race it for the same adapter directory. Elsewhere (no prctl) this is a no-op.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have exited meanwhile
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


def log_tail(log_path: Path, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` non-empty lines of a log (progress-bar redraws split on ``\\r``)."""
    try:
        data = log_path.read_bytes()[-20_000:]
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace").replace("\r", "\n")
    kept = [line.rstrip() for line in text.split("\n") if line.strip()]
    return "\n".join(kept[-lines:])


def _fail(what: str, returncode: int | None, log_path: Path) -> None:
    # Remove a half-written adapter so nobody loads it as this round's result.
    for name in ADAPTER_FILES:
        (log_path.parent / name).unlink(missing_ok=True)
    tail = log_tail(log_path)
    # One line, as teachgraph errors promise; the full trace stays in the log file.
    quoted = " | ".join(tail.splitlines()) or "(no output)"
    raise StudentTrainingError(
        f"{what}; log: {log_path}; last output: {quoted}",
        returncode=returncode,
        log_path=log_path,
        stderr_tail=tail,
    )


def train_in_child(
    config: StudentConfig,
    base_dir: Path,
    pairs: list[TrainingPair],
    output_dir: Path,
    init_adapter: Path | None = None,
) -> TrainResult:
    """Build the job for ``config`` and run it in a child process (see :func:`run_train_job`)."""
    job = build_train_job(config, base_dir, output_dir, init_adapter)
    return run_train_job(job, pairs, timeout_s=config.train_timeout_s)
