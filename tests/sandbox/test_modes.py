"""No silent downgrade: a run that cannot isolate programs stops; the weaker mode is explicit and recorded."""

from __future__ import annotations

import pytest
import yaml

from teachgraph.config import parse_config
from teachgraph.providers import ModelRouter
from teachgraph.runner import check_sandbox, resolved_config, run_episode
from teachgraph.sandbox import Sandbox, SandboxUnavailable, bubblewrap
from teachgraph.tracing.report import render_report
from tests.conftest import SMOKE
from tests.tracing.fake_run import build_run


@pytest.fixture
def no_isolation(monkeypatch):
    monkeypatch.setattr(bubblewrap, "problem", lambda: "bwrap not found (test)")


def smoke_config(**overrides):
    return parse_config({**yaml.safe_load(SMOKE.read_text()), **overrides}, source="smoke", base_dir=SMOKE.parent)


def test_isolated_mode_refuses_to_run_without_isolation(no_isolation):
    with pytest.raises(SandboxUnavailable) as err:
        Sandbox().run("print(1)")
    message = str(err.value)
    assert "\n" not in message and "bwrap not found" in message and "sandbox: limits-only" in message


def test_a_run_stops_before_doing_anything(no_isolation, tmp_path):
    with pytest.raises(SandboxUnavailable, match="sandbox: limits-only"):
        run_episode(smoke_config(), tmp_path / "run")
    assert not (tmp_path / "run" / "config.yaml").exists()


def test_limits_only_is_allowed_explicitly_and_recorded(no_isolation, tmp_path):
    config = smoke_config(sandbox="limits-only")
    sandbox = Sandbox(mode=config.sandbox)
    assert sandbox.run("print(6 * 7)").result == "42"
    data = resolved_config(config, ModelRouter(config.teacher.models), check_sandbox(config, sandbox))
    assert data["sandbox"] == "limits-only" and data["sandbox_in_use"].startswith("limits-only")
    run = build_run(tmp_path / "run")
    saved = yaml.safe_load(run.config_path.read_text())
    run.write_config({**saved, "sandbox": data["sandbox"], "sandbox_in_use": data["sandbox_in_use"]})
    assert "limits-only: resource limits" in render_report(run.root)


def test_runs_without_programs_need_no_isolation(no_isolation):
    config = smoke_config(
        teacher={**yaml.safe_load(SMOKE.read_text())["teacher"], "validation": {"require_program": False}}
    )
    assert check_sandbox(config, Sandbox()) is None


def test_an_unknown_mode_is_a_config_error():
    from teachgraph.errors import ConfigError

    with pytest.raises(ConfigError, match="sandbox"):
        smoke_config(sandbox="none")


def test_the_smoke_run_records_the_isolation_it_used(smoke_run):
    config = yaml.safe_load((smoke_run / "config.yaml").read_text())
    assert config["sandbox"] == "isolated" and config["sandbox_in_use"].startswith("bubblewrap")
