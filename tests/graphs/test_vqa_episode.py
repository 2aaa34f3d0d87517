"""examples/vqa.yaml end to end (smoke preset: scripted teacher, vision student on the tiny random
LM): the vision student is a ``student.kind``, trained and evaluated as tool nodes; scene data with
provenance; the report shows the training images; configs that cannot work are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from teachgraph.config import load_config
from teachgraph.errors import ConfigError
from teachgraph.tasks.vqa import SceneImage, split_image
from teachgraph.tasks.vqa.parsing import parse_question
from teachgraph.tasks.vqa.programs import answer
from tests.conftest import ROOT, cli

CONFIG = ROOT / "examples" / "vqa.yaml"


@pytest.fixture(scope="module")
def vqa_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("vqa") / "run"
    result = cli("run", str(CONFIG), "--preset", "smoke", "--out", str(out))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def test_the_full_config_is_the_real_teacher_and_student() -> None:
    config = load_config(CONFIG)
    assert config.task.name == "shape_scenes" and config.student.kind == "vision"
    assert config.teacher.engine == "programs" and config.teacher.environment == "skill_tree"
    assert config.teacher.models["default"]["spec"] == "local:qwen2.5-coder-1.5b-instruct"
    assert load_config(CONFIG, preset="small").task.params["families"] == [
        "exist",
        "count",
        "query_color",
        "query_shape",
    ]


def test_scene_data_is_answered_from_its_scene_with_provenance(vqa_run: Path) -> None:
    examples = [
        json.loads(line) for f in sorted((vqa_run / "data").glob("iter-*.jsonl")) for line in f.read_text().splitlines()
    ]
    accepted = [e for e in examples if e["verdict"]["accepted"]]
    assert len(accepted) >= 12
    for e in accepted:
        ref, text = split_image(e["input"])
        assert isinstance(ref, SceneImage) and e["answer"] == answer(ref.scene, parse_question(text))
        p = e["provenance"]
        assert p["node"] == "data_writing" and p["generator"] and p["seed"] is not None and p["skill"]
        assert p["model"].startswith("scripted:") and e["verdict"]["reason"] == "accepted"


def test_vision_student_trained_and_evaluated_as_tool_nodes(vqa_run: Path) -> None:
    metrics = json.loads((vqa_run / "metrics.json").read_text())
    assert [e["iteration"] for e in metrics["evaluations"]] == [0, 1, 2]
    assert all(len(e["test"]["outcomes"]) == 12 for e in metrics["evaluations"])
    for adapter in sorted((vqa_run / "adapters").iterdir()):
        names = {p.name for p in adapter.iterdir()}
        assert {"adapter_config.json", "projector.safetensors", "projector.json"} <= names
    from benchmarks.vqa_run import before_after

    report = before_after(vqa_run)  # what the note on the real run reports
    assert report["all"]["n"] == 12 and report["all"]["paired"]["n"] == 12
    assert set(report["per_skill"]) == {"shape_scenes/count", "shape_scenes/query_color", "shape_scenes/spatial"}


def test_report_and_trace_show_scenes_not_json(vqa_run: Path) -> None:
    html = (vqa_run / "report.html").read_text()
    assert html.count('<img class="vqa"') >= 5 and "data:image/png;base64," in html
    trace = [json.loads(line) for line in (vqa_run / "trace.jsonl").read_text().splitlines()]
    verdicts = [e for e in trace if e["kind"] == "verdict"]
    assert verdicts and all(e["data"]["question"].startswith("[image 128x128") for e in verdicts)
    forest = json.loads(sorted((vqa_run / "forest").glob("iter-*.json"))[-1].read_text())
    nodes = forest["forest"]["nodes"]
    assert any(n["generators"] for n in nodes)
    assert all(not q.startswith("<image>") for n in nodes for q in n["recent_questions"])


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"teacher": {"engine": "examples"}}, "does not fit the task 'shape_scenes'"),
        ({"task": {"name": "easy_vqa", "params": {}}}, "no teacher engine writes data for it"),
        ({"student": {"kind": "hf"}}, "use student.kind: vision"),
    ],
)
def test_configs_that_cannot_teach_images_are_refused(tmp_path: Path, change: dict, fragment: str) -> None:
    data = yaml.safe_load(CONFIG.read_text())
    for key, value in change.items():
        data[key] = {**data[key], **value} if key != "task" else value
    path = tmp_path / "vqa.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=fragment):
        load_config(path)


def test_report_cell_draws_image_questions_and_leaves_text_alone() -> None:
    from teachgraph.tracing.report.images import question_cell

    scene = '<image>{"kind": "scene", "scene": {"objects": [{"shape": "circle", "color": "red", "size": "small", "x": 20, "y": 20}]}}</image>\nIs there a <b>red</b> circle?'  # fmt: skip
    cell = str(question_cell(scene, 1200))
    assert cell.startswith('<img class="vqa"') and "Is there a &lt;b&gt;red&lt;/b&gt; circle?" in cell
    assert str(question_cell("What is 2 + 3?", 1200)) == '<div class="text">What is 2 + 3?</div>'
    broken = str(question_cell('<image>{"kind": "scene"}</image> <script>', 1200))  # untrusted: shown as text
    assert "<img" not in broken and "&lt;script&gt;" in broken
    assert "[5 more characters]" in str(question_cell("x" * 15, 10))
