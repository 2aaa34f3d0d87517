"""Forking a finished run from a checkpoint with a different model for one node."""

from __future__ import annotations

from pathlib import Path

from teachgraph.runner import fork_run, load_run_config
from teachgraph.tracing.rundir import RunDir
from tests.conftest import SMOKE


def test_fork_replays_an_iteration_with_another_model_for_one_node(smoke_run: Path, tmp_path: Path):
    source = RunDir(smoke_run)
    before = source.trace_path.read_bytes()
    script = tmp_path / "writer_b.yaml"
    script.write_text((SMOKE.parent / "smoke_script.yaml").read_text())
    metrics = fork_run(smoke_run, tmp_path / "fork", iteration=1, models={"data_writing": f"scripted:{script}"})
    fork = RunDir(tmp_path / "fork")

    assert source.trace_path.read_bytes() == before  # the source run is untouched
    assert [e["iteration"] for e in metrics["evaluations"]] == [0, 1, 2]
    # iteration 0 is the source's, iteration 1 was written again by the new model
    assert [x.id for x in fork.read_examples(0)] == [x.id for x in source.read_examples(0)]
    models_1 = {x.provenance.model for x in fork.read_examples(1)}
    assert models_1 and all(str(script) in m for m in models_1)
    writer_calls = [e for e in fork.read_events() if e.kind == "llm_call" and e.node == "data_writing"]
    assert {str(script) in str(e.data["model"]) for e in writer_calls} == {False, True}
    assert all((str(script) in str(e.data["model"])) == (e.iteration == 1) for e in writer_calls)
    assert load_run_config(fork).teacher.models["data_writing"] == f"scripted:{script}"
    assert (fork.adapter_dir(1) / "adapter_config.json").is_file()
