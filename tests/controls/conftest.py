"""Configs for the run-control tests: the smoke run with prices, budgets or review switched on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT, SMOKE


def smoke_config(tmp_path: Path, name: str, **changes: dict[str, Any]) -> Path:
    """examples/smoke.yaml with sections updated (``teacher={...}``, ``loop={...}``, ``prices={...}``),
    written to ``tmp_path``; the script path is made absolute so the copy runs from anywhere."""
    data = yaml.safe_load(SMOKE.read_text())
    data["teacher"]["models"] = {"default": f"scripted:{ROOT / 'examples' / 'smoke_script.yaml'}"}
    for section, values in changes.items():
        data[section] = {**(data.get(section) or {}), **values}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
