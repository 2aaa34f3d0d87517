"""One redactor: planted secrets of every common shape never reach a run directory, a log or a report."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from teachgraph.redaction import install_log_redaction, redact, redact_data, register_secret
from tests.conftest import cli
from tests.faults.conftest import tiny_config, write_config
from tests.faults.fault_server import FaultServer

SHAPES = {
    "openai": "sk-PLANTEDopenai0123456789abcd",
    "openai-project": "sk-proj-PLANTED0123456789abcdefXYZ",
    "langsmith": "lsv2_pt_PLANTED0123456789abcdef_0123abcd",
    "bearer": "Bearer PLANTEDbearerTOKEN0123456789",
    "aws-key-id": "AKIAPLANTEDKEY123456",
    "url-userinfo": "https://planteduser:plantedPASS99@example.com/v1",
    "basic-auth": "Authorization: Basic cGxhbnRlZHVzZXI6cGxhbnRlZFBBU1M5OQ==",
}
API_KEY_ENV_VALUE = "plantedCREDvalue-7f3a9c"  # in a variable whose name looks harmless
BASIC = "cGxhbnRlZHVzZXI6cGxhbnRlZFBBU1M5OQ=="  # base64("planteduser:plantedPASS99")
# What must never appear (the secret part of each shape).
NEEDLES = [
    "sk-PLANTEDopenai0123456789abcd",
    "sk-proj-PLANTED0123456789abcdefXYZ",
    "lsv2_pt_PLANTED0123456789abcdef_0123abcd",
    "PLANTEDbearerTOKEN0123456789",
    "AKIAPLANTEDKEY123456",
    "plantedPASS99",
    API_KEY_ENV_VALUE,
    BASIC,
]


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_each_shape_is_redacted(name: str) -> None:
    text = f"before {SHAPES[name]} after"
    clean = redact(text)
    assert all(n not in clean for n in NEEDLES), clean
    assert clean.startswith("before ") and clean.endswith(" after")


def test_registered_secrets_env_values_data_and_logs(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    register_secret("my-odd-credential-9")
    monkeypatch.setenv("SERVICE_TOKEN", "tok-from-env-123")
    assert redact("a my-odd-credential-9 b tok-from-env-123") == "a *** b ***"
    assert redact_data({"k": ["x sk-proj-PLANTED0123456789abcdefXYZ"], "n": 3}) == {"k": ["x ***"], "n": 3}
    install_log_redaction()
    with caplog.at_level(logging.INFO):
        logging.getLogger("some.library").info("calling with %s", "Bearer PLANTEDbearerTOKEN0123456789")
    assert "PLANTED" not in caplog.text and "Bearer ***" in caplog.text


def test_planted_secrets_reach_no_file_of_the_run_and_no_log(tmp_path: Path) -> None:
    planted = [*SHAPES.values(), API_KEY_ENV_VALUE]
    server = FaultServer(echo=" ".join(planted), leak=planted).start()
    server.plan = ["500", "500"]  # error bodies that echo the Authorization header and every shape
    try:
        url = server.url.replace("http://", "http://planteduser:plantedPASS99@")
        config = tiny_config(url)
        config.teacher.models["default"]["api_key_env"] = "TG_TEACHER_CRED"
        path = write_config(tmp_path / "cfg.yaml", config)
        env = {
            **os.environ,
            "TG_TEACHER_CRED": API_KEY_ENV_VALUE,
            "OPENAI_API_KEY": SHAPES["openai"],
            "LANGSMITH_API_KEY": SHAPES["langsmith"],
            "AWS_ACCESS_KEY_ID": SHAPES["aws-key-id"],
        }
        result = cli("run", str(path), "--out", str(tmp_path / "run"), env=env)
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    # httpx sends the URL's userinfo as basic auth; the 500 bodies echo that header back
    assert server.served["500"] == 2 and f"Basic {BASIC}" in server.authorization
    files = [p for p in (tmp_path / "run").rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {
        "config.yaml",
        "checkpoints.sqlite",
        "trace.jsonl",
        "metrics.json",
        "report.html",
    }
    leaks = [(str(p.relative_to(tmp_path)), n) for p in files for n in NEEDLES if n.encode() in p.read_bytes()]
    leaks += [("stdout/stderr", n) for n in NEEDLES if n in result.stdout + result.stderr]
    assert not leaks
    assert b"***" in (tmp_path / "run" / "data" / "iter-000.jsonl").read_bytes()  # the echoes were there
