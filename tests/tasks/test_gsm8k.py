"""The GSM8K task on the real data files (../shared/data/gsm8k)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from teachgraph.domain import SPLITS, TaskInstance
from teachgraph.errors import ConfigError, DataNotFoundError
from teachgraph.tasks import GSM8KTask, Task
from teachgraph.tasks.gsm8k import ENV_VAR, resolve_data_dir

REAL_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "gsm8k"

pytestmark = pytest.mark.skipif(not (REAL_DIR / "test.jsonl").is_file(), reason=f"GSM8K data not present at {REAL_DIR}")


@pytest.fixture(scope="module")
def task() -> GSM8KTask:
    return GSM8KTask()


def test_acceptance_references_score_correct_and_perturbations_wrong(task: GSM8KTask) -> None:
    instances = task.instances("test")
    assert len(instances) == 200
    failures = []
    for inst in instances:
        wrong = str(int(inst.answer) + 1)
        solution = str(inst.metadata["solution"])
        checks = {
            "target": task.score(inst, task.format_target(inst.answer)).correct,
            "target+rationale": task.score(inst, task.format_target(inst.answer, solution)).correct,
            "raw": task.score(inst, inst.answer).correct,
            "gsm8k-format": task.score(inst, f"{solution}\n#### {inst.answer}").correct,
            "not perturbed": not task.score(inst, task.format_target(wrong)).correct,
            "not perturbed raw": not task.score(inst, wrong).correct,
            "answers_equal": task.answers_equal(inst.answer, inst.answer)
            and not task.answers_equal(inst.answer, wrong),
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            failures.append((inst.id, inst.answer, bad))
    assert not failures, failures[:10]


def test_implements_the_task_protocol(task: GSM8KTask) -> None:
    assert isinstance(task, Task)
    assert task.name == "gsm8k"
    assert task.gold_skills() is None


def test_default_splits(task: GSM8KTask) -> None:
    sizes = {s: len(task.instances(s)) for s in SPLITS}
    assert sizes == {"train": 7473 - 100, "validation": 100, "test": 200}
    assert task.split_sizes() == sizes
    first = task.instances("test")[0]
    assert first.id == "gsm8k/test/0"
    assert first.prompt.startswith("Janet")
    assert first.answer == "18"
    assert first.gold_skill is None
    assert "<<16-3-4=9>>" in str(first.metadata["solution"])


def test_splits_are_disjoint(task: GSM8KTask) -> None:
    keys = {s: {" ".join(i.prompt.split()).casefold() for i in task.instances(s)} for s in SPLITS}
    assert not keys["train"] & keys["validation"]
    assert not keys["train"] & keys["test"]
    assert not keys["validation"] & keys["test"]
    lines = {s: {i.metadata["line"] for i in task.instances(s)} for s in ("train", "validation")}
    assert not lines["train"] & lines["validation"]
    ids = [i.id for s in SPLITS for i in task.instances(s)]
    assert len(ids) == len(set(ids))


def test_validation_is_a_seeded_sample(task: GSM8KTask) -> None:
    again = GSM8KTask({"validation_size": 100})
    other = GSM8KTask({"validation_size": 100, "seed": 1})
    assert again.instances("validation") == task.instances("validation")
    assert other.instances("validation") != task.instances("validation")
    lines = [i.metadata["line"] for i in task.instances("validation")]
    assert lines == sorted(lines) and max(lines) > 1000  # spread over the file, not a prefix


def test_answers_are_normalised(task: GSM8KTask) -> None:
    # Real test items whose '#### ' answer has a thousands separator ("#### 2,125").
    raw_lines = (REAL_DIR / "test.jsonl").read_text().splitlines()
    with_commas = [
        i
        for i in GSM8KTask({"test_size": None}).instances("test")
        if "," in json.loads(raw_lines[int(str(i.metadata["line"]))])["answer"].rsplit("####", 1)[1]
    ]
    assert len(with_commas) == 14
    for inst in with_commas:
        assert inst.answer.isdigit()
        with_sep = f"{int(inst.answer):,}"
        assert task.score(inst, f"Answer: ${with_sep}").correct


def test_full_test_set_and_round_trip() -> None:
    full = GSM8KTask({"test_size": None, "validation_size": 0})
    assert len(full.instances("test")) == 1319
    assert len(full.instances("train")) == 7473
    inst = full.instances("test")[-1]
    assert TaskInstance.model_validate_json(inst.model_dump_json()) == inst


def test_score_does_not_evaluate_expressions(task: GSM8KTask) -> None:
    inst = task.instances("test")[0]  # answer 18 = (16 - 3 - 4) * 2
    assert not task.score(inst, "Answer: (16 - 3 - 4) * 2").correct
    assert task.score(inst, "She makes $18.00 every day.\nAnswer: $18.00").correct
    assert task.score(inst, "Answer: 18 dollars").correct
    assert not task.score(inst, "I am not sure.").correct


# --------------------------------------------------------------------------------------------
# locating the data
# --------------------------------------------------------------------------------------------


def _write_mini(directory: Path, n_train: int = 5, n_test: int = 3) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, n in (("train.jsonl", n_train), ("test.jsonl", n_test)):
        rows = [{"question": f"{name} q{i}: what is {i} + 1?", "answer": f"{i} + 1\n#### {i + 1}"} for i in range(n)]
        (directory / name).write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return directory


def test_missing_data_dir_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "gsm8k"
    with pytest.raises(DataNotFoundError) as err:
        GSM8KTask({"data_dir": str(missing)})
    assert str(missing) in str(err.value)
    assert "data_dir" in str(err.value) and ENV_VAR in str(err.value)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    d = _write_mini(tmp_path / "g")
    (d / "test.jsonl").unlink()
    with pytest.raises(DataNotFoundError, match=r"test\.jsonl"):
        GSM8KTask({"data_dir": str(d)})


def test_env_var_and_param_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_dir = _write_mini(tmp_path / "env", n_test=2)
    param_dir = _write_mini(tmp_path / "param", n_test=3)
    monkeypatch.setenv(ENV_VAR, str(env_dir))
    assert resolve_data_dir() == env_dir.resolve()
    assert resolve_data_dir(str(param_dir)) == param_dir.resolve()
    from_env = GSM8KTask({"validation_size": 1})
    assert len(from_env.instances("test")) == 2
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "absent"))
    with pytest.raises(DataNotFoundError, match=ENV_VAR):
        GSM8KTask()


def test_relative_data_dir_from_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_mini(tmp_path / "data" / "gsm8k")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert (
        GSM8KTask({"data_dir": "data/gsm8k", "validation_size": 2}).data_dir == (tmp_path / "data" / "gsm8k").resolve()
    )


def test_default_dir_found_from_another_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from anywhere: the default falls back to the repository root."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_data_dir() == REAL_DIR.resolve()


def test_malformed_file_is_reported(tmp_path: Path) -> None:
    d = _write_mini(tmp_path / "g")
    (d / "train.jsonl").write_text('{"question": "q", "answer": "no final answer"}\n')
    with pytest.raises(DataNotFoundError, match="####"):
        GSM8KTask({"data_dir": str(d), "validation_size": 0}).instances("train")
    (d / "train.jsonl").write_text("not json\n")
    with pytest.raises(DataNotFoundError, match=r"train\.jsonl:1"):
        GSM8KTask({"data_dir": str(d), "validation_size": 0}).instances("train")


def test_duplicate_questions_never_cross_splits(tmp_path: Path) -> None:
    d = _write_mini(tmp_path / "g", n_train=6, n_test=2)
    rows = [json.loads(x) for x in (d / "train.jsonl").read_text().splitlines()]
    test_rows = [json.loads(x) for x in (d / "test.jsonl").read_text().splitlines()]
    rows.append(dict(test_rows[0]))  # a test question leaked into train
    rows.append(dict(rows[1]))  # a repeated train question
    (d / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    for seed in range(10):
        t = GSM8KTask({"data_dir": str(d), "validation_size": 3, "seed": seed})
        keys = {s: [i.prompt for i in t.instances(s)] for s in SPLITS}
        assert len(keys["train"]) + len(keys["validation"]) == 6
        assert not set(keys["train"]) & set(keys["validation"])
        assert not (set(keys["train"]) | set(keys["validation"])) & set(keys["test"])


def test_oversized_validation_is_a_config_error(tmp_path: Path) -> None:
    d = _write_mini(tmp_path / "g")
    with pytest.raises(ConfigError, match="validation_size"):
        GSM8KTask({"data_dir": str(d), "validation_size": 50}).instances("validation")
