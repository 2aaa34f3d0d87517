"""The teacher on a code task, with a scripted writer: problems, reference solutions and unit tests.

Acceptance (issue 16, point 2): a teacher example whose solution fails its own tests, one whose
tests pass a wrong solution, and one copying a HumanEval prompt are each rejected with their
reason; a sound one is accepted, and its training target is the solution as the student is scored.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import BaseMessage

from teachgraph.domain import EvaluatedInstance, RejectionReason
from teachgraph.graphs import teacher as builders
from teachgraph.nodes.code_writing import CodeBatch
from teachgraph.providers import ScriptedChatModel
from teachgraph.state import SkillAction
from teachgraph.tasks.code import AlgorithmicCodeTask, humaneval_problems
from teachgraph.testing import scripted_router
from tests.graphs.conftest import run_teacher

LOOP = """def count_bits(n: int) -> int:
    total = 0
    while n > 0:
        total += n % 2
        n //= 2
    return total"""
STRONG = [
    "count_bits(0) == 0",
    "count_bits(1) == 1",
    "count_bits(7) == 3",
    "count_bits(8) == 1",
    "count_bits(1023) == 10",
]


def section(problem: str, solution: str, tests: list[str]) -> str:
    asserts = "\n".join(f"assert {t}" for t in tests)
    return f"### Problem\n{problem}\n### Solution\n```python\n{solution}\n```\n### Tests\n```python\n{asserts}\n```\n"


def reply() -> str:
    humaneval = humaneval_problems()[0]
    return "\n".join(
        [
            section("Count the set bits: write count_bits(n) for a non-negative n.", LOOP, STRONG),
            section(
                "Write parity(n): 1 when n has an odd number of set bits, else 0.",
                "def parity(n):\n    return bin(n).count('1') % 2",
                ["parity(3) == 0", "parity(7) == 0", "parity(1) == 1"],  # parity(7) is 1: the tests are wrong
            ),
            section(
                "Write is_power_of_two(n) returning whether n is a power of two.",
                "def is_power_of_two(n):\n    return n > 0 and n & (n - 1) == 0",
                ["is_power_of_two(1) in (True, None)", "is_power_of_two(3) in (False, None)"],  # accepts None
            ),
            section(
                "Write count_bits(n), counting the one bits of n, for n = 0.",
                LOOP,
                ["count_bits(0) == 0", "count_bits(0) + 1 == 1"],  # only n = 0: most mutants pass
            ),
            section(humaneval["prompt"], humaneval["prompt"] + humaneval["canonical_solution"],
                    ["has_close_elements([1.0, 2.0], 0.5) == False", "has_close_elements([1.0, 1.1], 0.5) == True"]),
        ]
    )  # fmt: skip


@pytest.fixture(scope="module")
def code_task() -> AlgorithmicCodeTask:
    return AlgorithmicCodeTask(
        {"skills": ["count_bits", "spell_backward"], "train_size": 4, "validation_size": 4, "test_size": 4,
         "limit_s": 0.5}
    )  # fmt: skip


@pytest.fixture(scope="module")
def code_evaluated(code_task: AlgorithmicCodeTask) -> list[EvaluatedInstance]:
    problems = code_task.instances("validation")
    predictions = ["def count_bits(n):\n    return 0\n" if i % 2 else p.answer for i, p in enumerate(problems)]
    return [
        EvaluatedInstance(
            instance=p, prediction=pred, correct=s.correct, score=s.score, extracted_answer=s.extracted_answer,
            feedback=s.feedback,
        )
        for p, pred, s in zip(problems, predictions, code_task.score_many(problems, predictions), strict=True)
    ]  # fmt: skip


def first_root(quota: int):
    def policy(forest: Any, **_: Any) -> list[SkillAction]:
        return [
            SkillAction(skill=r, kind="exploit", reason="t", quotas={r: quota if i == 0 else 0})
            for i, r in enumerate(forest.roots())
        ]

    return policy


def test_reply_sections_parse_into_examples_with_one_test_per_assert() -> None:
    batch = CodeBatch.from_text(reply())
    assert len(batch.examples) == 5
    assert batch.examples[0].answer == LOOP and len(batch.examples[0].tests) == len(STRONG)
    with pytest.raises(ValueError, match="Problem"):
        CodeBatch.from_text("def f(): pass")


def test_a_tests_block_cut_off_at_max_tokens_keeps_the_asserts_before_the_cut() -> None:
    """A 1.5B writer runs on with asserts until max_tokens: the last one is cut mid-statement."""
    text = section("Write rev(s) returning s backward.", "def rev(s):\n    return s[::-1]",
                   ["rev('ab') == 'ba'", "rev('') == ''", "rev('abc') == 'cba'"])  # fmt: skip
    cut = text.rstrip().removesuffix("```").rstrip() + "\nassert rev('abcd') == 'dc"  # no closing fence either
    [example] = CodeBatch.from_text(cut).examples
    assert example.tests == ["assert rev('ab') == 'ba'", "assert rev('') == ''", "assert rev('abc') == 'cba'"]
    from teachgraph.tasks.code import split_tests

    assert split_tests("assert f(1 ==") == ["assert f(1 =="]  # nothing parses: one test, which validation rejects
    assert split_tests("x = f(2)\nassert x == 4\nassert f(") == ["x = f(2)\nassert x == 4"]


def test_code_examples_are_rejected_with_their_reasons(code_task, code_evaluated) -> None:
    prompts: list[str] = []

    def respond(messages: list[BaseMessage]) -> str:
        prompts.append(str(messages[-1].content))
        return reply()

    writer = ScriptedChatModel(responses=[respond], mode="cycle", script_name="code")
    out = run_teacher(
        builders.skill_tree(policy=first_root(5)),
        code_task,
        code_evaluated,
        router=scripted_router(data_writing=writer),
        use_gold_skills=True,
    )
    verdicts = {ex.input.splitlines()[0][:40]: ex.verdict for ex in out["examples"]}
    got = {k: (v.reason, v.detail) for k, v in verdicts.items() if v is not None}
    reasons = [r for r, _ in got.values()]
    assert reasons == [
        RejectionReason.ACCEPTED,
        RejectionReason.FAILS_OWN_TESTS,
        RejectionReason.WEAK_TESTS,
        RejectionReason.WEAK_TESTS,
        RejectionReason.CONTAMINATED,
    ], got
    details = [d for _, d in got.values()]
    assert "test 2 of 3 assertion failed" in details[1]
    assert "trivially wrong solution" in details[2]
    assert "mutants of the solution" in details[3]
    assert "HumanEval/0" in details[4]
    accepted = next(ex for ex in out["examples"] if ex.accepted)
    assert accepted.target == f"```python\n{LOOP}\n```" and accepted.tests[0] == "assert count_bits(0) == 0"
    assert code_task.score(code_task.instances("test")[0], accepted.target).extracted_answer == LOOP
    # The writer was asked for code, and shown what failed (not the reference program).
    assert "### Tests" in prompts[0] and "test 1 of 5" in prompts[0]


PARITY = "def parity(n):\n    return bin(n).count('1') % 2"


def test_wrong_expected_values_are_settled_by_an_independent_solution(code_task, code_evaluated) -> None:
    """The solution is right and the writer's values wrong: an independent solution that agrees on every
    test input restates the failing tests; one that disagrees leaves the example to be rejected."""
    asked: list[str] = []

    def respond(messages: list[BaseMessage]) -> str:
        prompt = str(messages[-1].content)
        if "Solve this problem" not in prompt:
            return "\n".join([
                section("Write parity(n): 1 when n has an odd number of set bits, else 0.", PARITY,
                        ["parity(3) == 0", "parity(7) == 0", "parity(1) == 1", "parity(8) == 1"]),
                section("Write double(n) returning twice n.", "def double(n):\n    return n + n + 1",
                        ["double(2) == 4", "double(0) == 0"]),  # the solution is wrong, not the tests
                section("Write triple(n) returning three times n. Example: triple(5) -> 14", # a wrong example
                        "def triple(n):\n    return 3 * n", ["triple(5) == 14", "triple(1) == 3", "triple(0) == 0"]),
                section("Write parity(n): 1 when n has an odd number of set bits, else 0.", PARITY,
                        ["parity(3) == 0", "parity(7) == 0", "parity(1) == 1", "parity(8) == 1"]),  # written twice
            ])  # fmt: skip
        asked.append(prompt)
        if "def parity(n)" in prompt:
            return "```python\ndef parity(n):\n    return sum(int(c) for c in format(n, 'b')) & 1\n```"
        if "def triple(n)" in prompt:
            return "```python\ndef triple(n):\n    return n * 3\n```"
        return "```python\ndef double(n):\n    return 2 * n\n```"

    events: list = []
    out = run_teacher(
        builders.skill_tree(policy=first_root(4)),
        code_task,
        code_evaluated,
        router=scripted_router(data_writing=ScriptedChatModel(responses=[respond], mode="cycle", script_name="c")),
        use_gold_skills=True,
        events=events,
    )
    parity, double, triple, again = out["examples"][:4]
    # Asked from the problem and the signature alone: neither the reference nor the tests.
    assert len(asked) == 3 and "count('1')" not in asked[0] and "parity(7)" not in asked[0]
    assert parity.accepted, parity.verdict
    assert parity.tests == ["assert parity(3) == 0", "assert parity(7) == 1", "assert parity(1) == 1",
                            "assert parity(8) == 1"]  # fmt: skip
    assert "tests 2 of 4: expected values computed by the reference solution" in parity.provenance.expectations
    assert "agreed on all 4 test inputs" in parity.provenance.expectations
    assert double.verdict.reason is RejectionReason.FAILS_OWN_TESTS and double.tests[0] == "assert double(2) == 4"
    assert "disagreed with the reference on 2 of 2 test inputs, first double(2): 5 vs 4" in (
        double.provenance.expectations
    )
    # The problem's worked example showed the writer's wrong value: corrected with the test.
    assert triple.accepted, triple.verdict
    assert triple.tests == ["assert triple(5) == 15", "assert triple(1) == 3", "assert triple(0) == 0"]
    assert triple.input.startswith("Write triple(n) returning three times n. Example: triple(5) -> 15")
    assert "(and in the problem's worked example of test 1)" in triple.provenance.expectations
    # The repeated example is settled like the first, without a fourth call, and rejected as a duplicate.
    assert again.tests == parity.tests and again.provenance.expectations == parity.provenance.expectations
    assert again.verdict.reason is RejectionReason.DUPLICATE
    noted = [e["data"]["example_id"] for e in events if e["kind"] == "expectations"]
    assert noted == [parity.id, double.id, triple.id]


def test_code_example_runs_end_to_end_with_the_scripted_teacher(tmp_path) -> None:
    """examples/code.yaml, smoke preset, one iteration: code written, checked, trained on, and scored."""
    import json

    from teachgraph.config import load_config
    from tests.conftest import ROOT, cli

    config = ROOT / "examples" / "code.yaml"
    full = load_config(config)
    assert full.task.name == "algorithmic_code" and full.task.params["humaneval_in_test"] is True
    out = tmp_path / "run"
    result = cli("run", str(config), "--preset", "smoke", "--iterations", "1", "--out", str(out))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    examples = [json.loads(line) for line in (out / "data" / "iter-000.jsonl").read_text().splitlines()]
    accepted = [e for e in examples if e["verdict"]["accepted"]]
    assert accepted and all(e["target"].startswith("```python\n") and e["tests"] for e in accepted)
    metrics = json.loads((out / "metrics.json").read_text())
    assert "sandbox_in_use" in (out / "config.yaml").read_text()
    # Evaluated before and after training, per gold skill (pass@1 by running the student's code).
    assert [e["iteration"] for e in metrics["evaluations"]] == [0, 1]
    assert set(metrics["evaluations"][1]["test"]["per_skill"]) == {
        "algorithmic_code/count_bits", "algorithmic_code/letter_counting", "algorithmic_code/spell_backward"
    }  # fmt: skip
    from benchmarks.code_pass_at_1 import pass_at_1, written_summary

    written = written_summary(out)
    assert written["written"] == len(examples) and written["verdicts"]["accepted"] == len(accepted)

    report = pass_at_1(out)  # what the note on a real run reports: pass@1 before/after, paired statistics
    assert set(report) == {"algorithmic_code"} and report["algorithmic_code"]["n"] == 12
    assert report["algorithmic_code"]["paired"]["n"] == 12


def test_the_program_engine_is_refused_on_a_code_task(tmp_path) -> None:
    import yaml

    from teachgraph.config import load_config
    from teachgraph.errors import ConfigError
    from tests.conftest import ROOT

    data = yaml.safe_load((ROOT / "examples" / "code.yaml").read_text())
    data["teacher"]["engine"] = "programs"
    path = tmp_path / "code.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="engine: programs does not fit the code task"):
        load_config(path)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.text(max_size=60),
            st.sampled_from(["### Problem", "### Solution", "### Tests", "```python", "```", "assert f(1) == 2",
                             "def f(x):", "    return x", "## tests", "x" * 5000, "\x00", "}"]),
        ),
        max_size=30,
    )
)  # fmt: skip
def test_any_reply_parses_or_fails_with_a_value_error(parts: list[str]) -> None:
    text = "\n".join(parts)
    try:
        batch = CodeBatch.from_text(text)
    except ValueError:  # pydantic's ValidationError is one: the writer re-asks with the error
        return
    assert 1 <= len(batch.examples) <= 16
    for ex in batch.examples:
        assert len(ex.question) <= 3000 and len(ex.answer) <= 4000 and len(ex.tests) <= 20
        assert all(len(t) <= 2000 for t in ex.tests)


def test_failures_of_a_code_task_are_shown_with_their_test_report(code_evaluated) -> None:
    """A code task's reference is a program: the teacher sees which test failed, under a header that says so."""
    from teachgraph.nodes.error_analysis import failure_columns, format_failure

    failures = [e for e in code_evaluated if not e.correct]
    assert failures and failure_columns(failures).endswith("which test failed and how")
    line = format_failure(failures[0], "e1")
    assert "| tests: " in line and "\n" not in line
    math = failures[0].model_copy(update={"instance": failures[0].instance.model_copy(update={"answer": "7"})})
    assert failure_columns([math]).endswith("correct answer")
