"""Paths in a config are relative to the config file and checked before a run creates anything."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from teachgraph import runner as runner_module
from teachgraph.cli import app
from teachgraph.config import load_config, parse_config, resolve_paths
from teachgraph.errors import DataNotFoundError, TeachgraphError
from teachgraph.runner import run_episode
from teachgraph.tracing.rundir import RunDir
from tests.conftest import SMOKE

cli = CliRunner()


def one_line_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and "Traceback" not in result.output, lines
    return lines[0]


def test_every_path_field_resolves_against_the_config_directory(tmp_path: Path):
    data = {
        "task": {"name": "gsm8k", "params": {"data_dir": "data/gsm8k"}},
        "student": {"model": "models/my-student", "cache_dir": "cache"},
        "teacher": {
            "models": {
                "default": "scripted:script.yaml",
                "policy": {"spec": "scripted:../other.yaml", "max_tokens": 9},
                "data_writing": "openai:gpt-4o-mini",
                "error_analysis": f"scripted:{tmp_path}/absolute.yaml",
            }
        },
    }
    out = resolve_paths(data, tmp_path / "cfg")
    base = (tmp_path / "cfg").resolve()
    assert out["task"]["params"]["data_dir"] == str(base / "data/gsm8k")
    assert out["student"] == {"model": str(base / "models/my-student"), "cache_dir": str(base / "cache")}
    models = out["teacher"]["models"]
    assert models["default"] == f"scripted:{base / 'script.yaml'}"
    assert models["policy"] == {"spec": f"scripted:{base / '../other.yaml'}", "max_tokens": 9}
    assert models["data_writing"] == "openai:gpt-4o-mini"  # not a path
    assert models["error_analysis"] == f"scripted:{tmp_path}/absolute.yaml"  # already absolute
    assert data["student"]["model"] == "models/my-student"  # the input is not modified
    known = resolve_paths({"student": {"model": "tiny-llama"}}, tmp_path)
    assert known["student"]["model"] == "tiny-llama"  # a known model name is not a path
    served = resolve_paths({"student": {"kind": "openai-compatible", "model": "qwen"}}, tmp_path)
    assert served["student"]["model"] == "qwen"  # an endpoint student's model is a name


def test_the_smoke_config_loads_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(SMOKE)
    assert config.teacher.models["default"] == f"scripted:{SMOKE.parent.resolve() / 'smoke_script.yaml'}"
    # A mapping built in code keeps the current directory as its base.
    assert parse_config(yaml.safe_load(SMOKE.read_text())).teacher.models["default"] == "scripted:smoke_script.yaml"


def test_presets_resolve_against_the_config_file_too(tmp_path: Path):
    (tmp_path / "alt.yaml").write_text("default: ['{}']\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "task: {name: arithmetic}\nteacher: {models: {default: 'scripted:nope.yaml'}}\n"
        "presets: {alt: {teacher: {models: {default: 'scripted:alt.yaml'}}}}\n"
    )
    assert load_config(cfg, preset="alt").teacher.models["default"] == f"scripted:{tmp_path.resolve() / 'alt.yaml'}"
    with pytest.raises(DataNotFoundError, match=r"nope\.yaml"):
        load_config(cfg)


@pytest.mark.parametrize(
    ("yaml_text", "where", "missing"),
    [
        ("teacher: {models: {default: 'scripted:no_script.yaml'}}", "teacher.models.default", "no_script.yaml"),
        (
            "teacher: {models: {default: 'scripted:s.yaml', policy: {spec: 'scripted:gone.yaml'}}}",
            "teacher.models.policy",
            "gone.yaml",
        ),
        (
            "student: {model: ./no-such-model}\nteacher: {models: {default: 'scripted:s.yaml'}}",
            "student.model",
            "no-such-model",
        ),
    ],
)
def test_a_missing_file_fails_before_any_work_with_one_line(tmp_path: Path, yaml_text: str, where: str, missing: str):
    (tmp_path / "s.yaml").write_text("default: ['{}']\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("task: {name: arithmetic}\n" + yaml_text + "\n")
    out = tmp_path / "out"
    line = one_line_error(cli.invoke(app, ["run", str(cfg), "--out", str(out)], terminal_width=300))
    assert where in line and str(tmp_path.resolve() / missing.lstrip("./")) in line
    assert not out.exists()


def test_a_run_dir_left_before_the_first_checkpoint_neither_blocks_nor_stays(tmp_path: Path, monkeypatch):
    config = load_config(SMOKE)
    out = tmp_path / "run"

    def dies_before_streaming(*args, **kwargs):
        raise TeachgraphError("the provider is down")

    monkeypatch.setattr(runner_module, "_drive", dies_before_streaming)
    with pytest.raises(TeachgraphError, match="provider is down"):
        run_episode(config, out)
    assert not out.exists()  # nothing ran, nothing left

    # A directory a killed process left with a config but no checkpoint does not block --out.
    RunDir(out).write_config({"name": "leftover"})
    (out / "checkpoints.sqlite").write_bytes(b"")
    with pytest.raises(TeachgraphError, match="provider is down"):
        run_episode(config, out)
    assert not RunDir(out).exists()


def test_a_started_run_dir_says_how_to_continue(smoke_run: Path):
    result = cli.invoke(app, ["run", str(SMOKE), "--out", str(smoke_run)], terminal_width=300)
    line = one_line_error(result)
    assert "already holds a finished run" in line and "another --out" in line
