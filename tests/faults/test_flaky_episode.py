"""Episodes over a fault server: transient faults lose nothing, fatal ones and dead servers stop
the run with one line, and ``--resume`` finishes it once the server is back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from teachgraph.providers.faults import ProviderStop
from teachgraph.runner import resume_run, run_episode
from teachgraph.tracing.rundir import RunDir
from tests.conftest import cli
from tests.faults.conftest import assert_same_run, tiny_config, write_config
from tests.faults.fault_server import FaultServer


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    srv = FaultServer(seed=7, slow_s=1.0).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def healthy_run(server: FaultServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    server.fail_rate, server.mode = 0.0, "normal"
    out = tmp_path_factory.mktemp("healthy") / "run"
    run_episode(tiny_config(server.url), out)
    return out


def test_30_percent_transient_faults_lose_and_duplicate_nothing(
    server: FaultServer, healthy_run: Path, tmp_path: Path
) -> None:
    server.served.clear()
    server.fail_rate = 0.3
    try:
        metrics = run_episode(tiny_config(server.url), tmp_path / "flaky")
    finally:
        server.fail_rate = 0.0
    assert metrics["stop_reason"]
    faults = {k: v for k, v in server.served.items() if k != "ok"}
    assert sum(faults.values()) >= 0.15 * sum(server.served.values()), server.served
    assert len(faults) >= 4, server.served  # several kinds of fault were served
    assert_same_run(healthy_run, tmp_path / "flaky")
    events = RunDir(tmp_path / "flaky").read_events()
    assert any(e.kind == "retry" for e in events)
    assert all(e.data.get("ok") for e in events if e.kind == "llm_call")
    examples = RunDir(tmp_path / "flaky").read_examples(0)
    assert examples and len({ex.id for ex in examples}) == len(examples)


def test_revoked_key_stops_at_once_with_one_line(server: FaultServer, tmp_path: Path) -> None:
    server.mode = "401"
    server.served.clear()
    try:
        config = write_config(tmp_path / "cfg.yaml", tiny_config(server.url))
        result = cli("run", str(config), "--out", str(tmp_path / "run"), "--quiet")
    finally:
        server.mode = "normal"
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    line = lines[0]
    assert (
        "run stopped: node error_analysis" in line and f"openai-compatible:fault-model@127.0.0.1:{server.port}" in line
    )
    assert "AuthenticationError" in line and f"teachgraph run --resume {tmp_path / 'run'}" in line
    assert "Traceback" not in result.stdout + result.stderr
    assert server.served["401"] == 1  # not retried
    assert RunDir(tmp_path / "run").checkpoints_path.is_file()


def test_dead_server_stops_after_the_failure_limit_and_resume_completes(
    server: FaultServer, healthy_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "down"
    config = tiny_config(server.url)
    config.teacher.retry.max_retries = 1
    config.teacher.retry.failure_limit = 2
    server.stop()
    try:
        with pytest.raises(ProviderStop, match=r"2 calls in a row failed \(failure limit 2\).*Connection error"):
            run_episode(config, out)
    finally:
        server.start()
    run = RunDir(out)
    assert not run.read_metrics().get("stop_reason")
    failed = [e for e in run.read_events() if e.kind == "failure"]
    assert len(failed) == 2 and all("provider error" in str(e.data["error"]) for e in failed)
    metrics = resume_run(out)
    assert metrics["stop_reason"] == "iterations: 1 done"
    # The call that failed before the stop stays on record; the rest of the step ran normally.
    recorded = [f for r in metrics["rounds"] for f in r["failures"]]
    assert any("provider error" in f["error"] for f in recorded)
    assert run.read_examples(0)
