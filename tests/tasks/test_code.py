"""The code task families: HumanEval and algorithmic_code, scored by running tests in the sandbox.

Acceptance (issue 16, point 1): every HumanEval canonical solution passes under our scoring and a
wrong stub fails, for all 164; the same for every problem of the generated family (408 at
default sizes). Scoring is batched (many problems per sandbox process), so these run in seconds.
"""

from __future__ import annotations

import re

import pytest

from teachgraph.domain import TaskInstance
from teachgraph.errors import ConfigError
from teachgraph.sandbox import Sandbox
from teachgraph.tasks import RunsCode, Task, family_executes_code, load_task
from teachgraph.tasks.code import (
    ALGORITHMIC_SKILLS,
    AlgorithmicCodeTask,
    HumanEvalTask,
    Suite,
    extract_code,
    format_solution,
    run_suites,
)
from teachgraph.tasks.code.mutants import wrong_stub


@pytest.fixture(scope="module")
def humaneval() -> HumanEvalTask:
    return HumanEvalTask()


@pytest.fixture(scope="module")
def algorithmic() -> AlgorithmicCodeTask:
    return AlgorithmicCodeTask()


def _all(task: Task) -> list[TaskInstance]:
    return [i for split in ("train", "validation", "test") for i in task.instances(split)]


def _stub(inst: TaskInstance) -> str:
    return format_solution(wrong_stub(str(inst.metadata["entry_point"])))


def test_every_humaneval_canonical_solution_passes_and_a_stub_fails(humaneval: HumanEvalTask) -> None:
    problems = humaneval.instances("test")
    assert len(problems) == 164 and len({p.id for p in problems}) == 164
    good = humaneval.score_many(problems, [format_solution(p.answer) for p in problems])
    assert [p.id for p, s in zip(problems, good, strict=True) if not s.correct] == []
    assert all(s.score == 1.0 and s.feedback is None for s in good)
    bad = humaneval.score_many(problems, [_stub(p) for p in problems])
    assert [p.id for p, s in zip(problems, bad, strict=True) if s.correct] == []
    assert all(s.feedback and s.feedback.startswith("test 1 of 1") for s in bad)


def test_every_generated_reference_passes_and_a_stub_fails(algorithmic: AlgorithmicCodeTask) -> None:
    problems = _all(algorithmic)
    assert len(problems) >= 200
    good = algorithmic.score_many(problems, [format_solution(p.answer) for p in problems])
    assert [p.id for p, s in zip(problems, good, strict=True) if not s.correct] == []
    bad = algorithmic.score_many(problems, [_stub(p) for p in problems])
    assert [p.id for p, s in zip(problems, bad, strict=True) if s.correct] == []
    assert "returned None, expected" in (bad[0].feedback or "")


def test_humaneval_completion_of_the_body_alone_counts(humaneval: HumanEvalTask) -> None:
    problem = humaneval.instances("test")[0]
    body = problem.answer[len(str(problem.metadata["preamble"])) :]
    assert humaneval.score(problem, body).correct  # a bare completion, as HumanEval models write
    assert humaneval.score(problem, f"Here it is:\n```python\n{body}```").correct


def test_feedback_names_the_failing_test_and_how(algorithmic: AlgorithmicCodeTask) -> None:
    problem = next(i for i in algorithmic.instances("test") if i.metadata["generator"] == "spell_backward")
    assertion = algorithmic.score(problem, "def spell_backward(word):\n    return word\n")
    assert not assertion.correct and "assertion failed" in (assertion.feedback or "")
    assert "spell_backward(" in (assertion.feedback or "") and "expected" in (assertion.feedback or "")
    raised = algorithmic.score(problem, "```python\ndef spell_backward(word):\n    return word[0] + 1\n```")
    assert "raised an exception: TypeError" in (raised.feedback or "")
    quick = problem.model_copy(update={"metadata": {**problem.metadata, "limit_s": 0.2}})
    hung = algorithmic.score(quick, "def spell_backward(word):\n    while True:\n        pass\n")
    assert "timed out" in (hung.feedback or "") and hung.score == 0.0
    nothing = algorithmic.score(problem, "I do not know.")
    assert nothing.extracted_answer is None and "no code found" in (nothing.feedback or "")
    broken = algorithmic.score(problem, "```python\ndef spell_backward(word) return\n```")
    assert "does not run: SyntaxError" in (broken.feedback or "")
    first = re.search(r"spell_backward\('(\w+)'\)", problem.metadata["tests"][0]).group(1)  # type: ignore[arg-type, index, union-attr]
    partial = algorithmic.score(
        problem, f"def spell_backward(word):\n    return word[::-1] if word == {first!r} else word\n"
    )
    assert 0.0 < partial.score < 1.0 and not partial.correct and "test 2 of 5" in (partial.feedback or "")


def test_extract_code_fenced_bare_and_prose() -> None:
    assert extract_code("```python\ndef f():\n    return 1\n```", "f") == "def f():\n    return 1"
    two = "```python\nimport math\n```\ntext\n```python\ndef f():\n    return 2\n```"
    assert extract_code(two, "f") == "def f():\n    return 2"
    assert extract_code("Sure! Here you go:\ndef f(x):\n    return x\nHope it helps.", "f") == "def f(x):\n    return x"
    assert extract_code("", "f") is None
    assert extract_code("No code from me.", "f") is None


def test_a_suite_that_hangs_or_kills_its_harness_costs_only_itself() -> None:
    good = Suite("def f(x):\n    return x + 1\n", ["assert f(1) == 2", "assert f(2) == 3"], 1.0)
    hangs = Suite("def f(x):\n    while True:\n        try:\n            pass\n        except BaseException:\n            pass\n",
                  ["assert f(1) == 2", "assert f(2) == 3"], 0.2)  # fmt: skip
    killer = Suite("import os\nos.kill(os.getppid(), 9)\n", ["assert True"], 1.0)
    results = run_suites([good, hangs, killer, good], Sandbox(), chunk=4)
    assert [r.ok for r in results] == [True, False, False, True]
    assert results[1].tests[0].status == "timeout" and results[1].tests[1].status in ("timeout", "not_run")
    assert "harness was stopped" in results[2].setup_error


def test_splits_are_disjoint_and_deterministic(algorithmic: AlgorithmicCodeTask) -> None:
    calls = {}
    for split in ("train", "validation", "test"):
        tests = {t for i in algorithmic.instances(split) for t in i.metadata["tests"]}  # type: ignore[union-attr]
        calls[split] = tests
    assert not calls["train"] & calls["test"] and not calls["validation"] & calls["test"]
    assert not calls["train"] & calls["validation"]
    prompts = [i.prompt for i in _all(algorithmic)]
    assert len(set(prompts)) == len(prompts)
    again = AlgorithmicCodeTask({"train_size": 0, "validation_size": 12})
    assert again.instances("test") == algorithmic.instances("test")  # test never depends on other sizes
    assert {i.gold_skill for i in algorithmic.instances("test")} == {s.gold_skill for s in ALGORITHMIC_SKILLS.values()}


def test_humaneval_can_join_the_generated_test_split() -> None:
    task = AlgorithmicCodeTask({"skills": ["count_bits"], "train_size": 0, "validation_size": 0, "test_size": 2,
                                "humaneval_in_test": True})  # fmt: skip
    test = task.instances("test")
    assert task.split_sizes()["test"] == len(test) == 166
    assert [i.gold_skill for i in test[:3]] == [
        "algorithmic_code/count_bits",
        "algorithmic_code/count_bits",
        "humaneval",
    ]
    assert task.student_prompt(test[2].prompt).startswith("Complete this Python function.")


def test_humaneval_validation_is_taken_from_test() -> None:
    task = HumanEvalTask({"validation_size": 20, "seed": 1})
    val, test = task.instances("validation"), task.instances("test")
    assert len(val) == 20 and len(test) == 144 and not {i.id for i in val} & {i.id for i in test}
    assert task.instances("train") == []


def test_registry_builds_code_tasks_that_take_the_runs_sandbox() -> None:
    task = load_task({"name": "algorithmic_code", "params": {"skills": ["count_bits"], "test_size": 3}})
    assert isinstance(task, AlgorithmicCodeTask) and isinstance(task, Task) and isinstance(task, RunsCode)
    assert family_executes_code("humaneval") and not family_executes_code("arithmetic")
    task.use_sandbox(Sandbox(mode="limits-only"))
    assert task.sandbox.mode == "limits-only"
    with pytest.raises(ConfigError, match="unknown skill"):
        load_task({"name": "algorithmic_code", "params": {"skills": ["nope"]}})


def test_training_target_is_what_scoring_reads(algorithmic: AlgorithmicCodeTask) -> None:
    problem = algorithmic.instances("train")[0]
    target = algorithmic.format_target(problem.answer)
    assert target.startswith("```python\n") and algorithmic.score(problem, target).correct
    assert algorithmic.answers_equal(problem.answer, problem.answer + "\n# same program\n")
    assert not algorithmic.answers_equal("def f(:", "def f(:")


def test_stop_at_failure_skips_the_rest() -> None:
    hangs_after_one = "def f(x):\n    if x > 1:\n        while True:\n            pass\n    return 0\n"
    tests = ["assert f(1) == 1", "assert f(2) == 2", "assert f(3) == 3"]
    stopped, full = run_suites([Suite(hangs_after_one, tests, 0.3, stop_at_failure=True),
                                Suite(hangs_after_one, tests, 0.3)], Sandbox())  # fmt: skip
    assert [t.status for t in stopped.tests] == ["fail", "not_run", "not_run"]
    assert [t.status for t in full.tests] == ["fail", "timeout", "timeout"]


def test_records_the_code_forges_or_an_exit_at_load_are_read_safely() -> None:
    forge = (
        "import os, json\n"
        "for fd in range(3, 12):\n"
        "    try:\n"
        "        os.write(fd, (json.dumps({'status': 'bogus'}) + '\\n').encode())\n"
        "    except OSError:\n"
        "        pass\n"
        "def f(x):\n    return x\n"
    )
    exits = "import os\nos._exit(0)\n"
    forged, exited = run_suites(
        [Suite(forge, ["assert f(1) == 2"], 1.0), Suite(exits, ["assert True"], 1.0)], Sandbox()
    )
    assert not forged.ok and forged.tests[0].status in ("error", "fail")
    assert exited.setup_error == "the solution's top-level code ended the process"
