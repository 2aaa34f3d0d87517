"""Every notebook in notebooks/ is executed (scripted teacher, tiny student), so none can rot."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
# Execution order: run_results.ipynb reads a finished run (here the session's smoke run).
ORDER = ["quickstart.ipynb", "run_results.ipynb"]


def test_every_notebook_is_executed_here():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(ORDER)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A notebooks/ directory to run in (what a notebook writes, e.g. runs/, lands in tmp).

    Notebooks are run from their own directory, as Jupyter does. ``../examples`` resolves to the
    repository's examples; so does ``examples/`` from here, for config paths that are still
    resolved against the working directory rather than the config file.
    """
    root = tmp_path_factory.mktemp("nb")
    (root / "examples").symlink_to(ROOT / "examples")
    cwd = root / "notebooks"
    cwd.mkdir()
    (cwd / "examples").symlink_to(ROOT / "examples")
    return cwd


@pytest.mark.slow
@pytest.mark.parametrize("name", ORDER)
def test_notebook_runs(name: str, workspace: Path, smoke_run: Path, monkeypatch: pytest.MonkeyPatch):
    # The kernel inherits the environment: this checkout's code first, and the run to read.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("TEACHGRAPH_RUN_DIR", str(smoke_run))
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(workspace)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any failure
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    if name == "run_results.ipynb":
        images = [o for o in outputs if "image/png" in o.get("data", {})]
        assert len(images) >= 2, "expected the per-skill accuracy plot and the forest drawing"
