"""The command line: tasks, graph drawings (snapshots), one-line errors, help."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from teachgraph.cli import app
from teachgraph.graphs.drawing import mermaid

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False, terminal_width=200)


@pytest.mark.parametrize("environment", ["open_ended", "skill_list", "skill_tree", "episode"])
def test_graph_drawings_are_pinned(environment, snapshot):
    assert mermaid(environment) == snapshot


@pytest.mark.parametrize("environment", ["open_ended", "skill_list", "skill_tree"])
def test_no_state_drawings_are_pinned(environment, snapshot):
    drawing = mermaid(environment, with_state=False)
    assert "error_analysis" not in drawing
    assert drawing == snapshot


def test_graph_command_names_every_teacher_node():
    result = invoke("graph", "skill_tree")
    assert result.exit_code == 0
    for node in ("error_analysis", "skill_induction", "subskill_exploration", "data_writing", "validation", "policy"):
        assert node in result.output


def test_tasks_lists_families_with_skills_and_sizes():
    result = invoke("tasks")
    assert result.exit_code == 0, result.output
    assert "arithmetic" in result.output and "gsm8k" in result.output
    assert "9: basic_arithmetic" in result.output
    assert "7373" in result.output and "120" in result.output
    assert "humaneval" in result.output and "164" in result.output
    assert "algorithmic_code" in result.output and "12: letter_counting" in result.output
    assert "easy_vqa" in result.output and "6: what_shape" in result.output and "yesno_color_negated" in result.output
    assert "shape_scenes" in result.output and "8: exist" in result.output and "1600" in result.output


def test_help_documents_every_command():
    result = invoke("--help")
    for command in ("run", "trace", "report", "graph", "tasks", "models"):
        assert command in result.output


def one_line_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert len(lines) == 1, lines
    return lines[0]


def test_missing_config_is_one_line(tmp_path):
    assert "config file not found" in one_line_error(
        invoke("run", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o"))
    )


def test_malformed_task_config_is_one_line(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("task: {name: arithmetic, params: {validation_sise: 3}}\n")
    assert "validation_sise" in one_line_error(invoke("run", str(cfg), "--out", str(tmp_path / "o")))


def test_unknown_task_is_one_line(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("task: {name: arithmatic}\n")
    assert "unknown task 'arithmatic'" in one_line_error(invoke("run", str(cfg), "--out", str(tmp_path / "o")))


def test_missing_data_path_is_one_line(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(f"task: {{name: gsm8k, params: {{data_dir: {tmp_path / 'nowhere'}}}}}\n")
    assert str(tmp_path / "nowhere") in one_line_error(invoke("run", str(cfg), "--out", str(tmp_path / "o")))


def test_broken_yaml_and_unknown_node_model_are_one_line(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("task: {name: arithmetic\n")
    assert "not valid YAML" in one_line_error(invoke("run", str(cfg), "--out", str(tmp_path / "o")))
    cfg.write_text(
        "task: {name: arithmetic}\nteacher: {models: {default: 'scripted:x', data_writer: 'openai:gpt-4o'}}\n"
    )
    assert "data_writer" in one_line_error(invoke("run", str(cfg), "--out", str(tmp_path / "o")))
