"""The arithmetic task: reasoning-gym generators as gold skills, scored by their own verifiers."""

from __future__ import annotations

import json

import pytest

from teachgraph.domain import SPLITS, TaskInstance
from teachgraph.errors import ConfigError
from teachgraph.tasks import ARITHMETIC_SKILLS, ArithmeticTask, Task, answers
from teachgraph.tasks.arithmetic_labels import expression_value


@pytest.fixture(scope="module")
def acceptance_task() -> ArithmeticTask:
    """200 real generated test instances spread over all skills (default easy difficulty)."""
    return ArithmeticTask({"train_size": 0, "validation_size": 0, "test_size": 200})


@pytest.fixture(scope="module")
def default_task() -> ArithmeticTask:
    return ArithmeticTask()


def _perturb(inst: TaskInstance) -> str:
    """A wrong answer of the same shape as the reference."""
    kind = ARITHMETIC_SKILLS[str(inst.metadata["generator"])].answer_kind
    if kind == "number":
        return str(int(inst.answer) + 1)
    if kind == "fraction":
        parts = answers.parse_fraction_parts(inst.answer)
        assert parts is not None, inst.answer
        return f"{parts[0] + 1}/{parts[1]}"
    items = json.loads(inst.answer.replace("'", '"'))
    changed = list(reversed(items))
    if changed == items:  # all equal: reversing changes nothing, so change a value
        changed[0] = str(float(changed[0]) + 10)
    return str(changed)


def test_acceptance_references_score_correct_and_perturbations_wrong(
    acceptance_task: ArithmeticTask,
) -> None:
    task = acceptance_task
    instances = task.instances("test")
    assert len(instances) == 200
    assert {i.gold_skill for i in instances} == {s.gold_skill for s in ARITHMETIC_SKILLS.values()}
    failures = []
    for inst in instances:
        as_target = task.score(inst, task.format_target(inst.answer))
        as_target_with_rationale = task.score(
            inst, task.format_target(inst.answer, "Let me work it out.\nThe answer: surely 0.")
        )
        as_raw = task.score(inst, inst.answer)
        wrong = _perturb(inst)
        perturbed = task.score(inst, task.format_target(wrong))
        perturbed_raw = task.score(inst, wrong)
        if not (as_target.correct and as_target.score == 1.0):
            failures.append(("target", inst.id, inst.answer, as_target))
        if not as_target_with_rationale.correct:
            failures.append(("rationale", inst.id, inst.answer, as_target_with_rationale))
        if not as_raw.correct:
            failures.append(("raw", inst.id, inst.answer, as_raw))
        if perturbed.correct or perturbed_raw.correct:
            failures.append(("perturbed", inst.id, inst.answer, wrong))
        if as_target.extracted_answer != inst.answer.strip():
            failures.append(("extracted", inst.id, inst.answer, as_target.extracted_answer))
        # The task's own equality agrees with its verifier.
        if not task.answers_equal(inst.answer, inst.answer) or task.answers_equal(inst.answer, wrong):
            failures.append(("answers_equal", inst.id, inst.answer, wrong))
    assert not failures, failures[:10]


def test_implements_the_task_protocol(default_task: ArithmeticTask) -> None:
    assert isinstance(default_task, Task)
    assert default_task.name == "arithmetic"


def test_default_split_sizes_and_skill_balance(default_task: ArithmeticTask) -> None:
    sizes = {s: len(default_task.instances(s)) for s in SPLITS}
    assert sizes == {"train": 270, "validation": 60, "test": 120}
    assert default_task.split_sizes() == sizes
    per_skill: dict[str, int] = {}
    for inst in default_task.instances("test"):
        per_skill[inst.gold_skill or ""] = per_skill.get(inst.gold_skill or "", 0) + 1
    assert max(per_skill.values()) - min(per_skill.values()) <= 1


def test_splits_are_disjoint_by_question_text(default_task: ArithmeticTask) -> None:
    seen: dict[str, str] = {}
    for split in SPLITS:
        for inst in default_task.instances(split):
            key = " ".join(inst.prompt.split())
            assert key not in seen, f"{inst.id} repeats {seen[key]}"
            seen[key] = inst.id
    ids = [i.id for s in SPLITS for i in default_task.instances(s)]
    assert len(ids) == len(set(ids))


def test_ids_gold_skills_and_metadata(default_task: ArithmeticTask) -> None:
    inst = default_task.instances("validation")[0]
    generator = inst.metadata["generator"]
    assert inst.id == f"arithmetic/validation/{generator}/0"
    assert inst.gold_skill == f"arithmetic/{generator}"
    names = [s.name for s in default_task.gold_skills()]
    assert names == [f"arithmetic/{g}" for g in ARITHMETIC_SKILLS]
    assert all(s.description for s in default_task.gold_skills())
    for split in SPLITS:
        for i in default_task.instances(split):
            assert i.id.startswith(f"arithmetic/{split}/{i.metadata['generator']}/")
            assert i.gold_skill in names
            json.dumps(i.metadata)  # JSON-serialisable
            assert TaskInstance.model_validate_json(i.model_dump_json()) == i


def test_generation_is_deterministic_and_seeded() -> None:
    params = {"skills": ["gcd", "chain_sum"], "train_size": 4, "validation_size": 4, "test_size": 4}
    a = ArithmeticTask(params)
    b = ArithmeticTask(params)
    c = ArithmeticTask({**params, "seed": 1})
    for split in SPLITS:
        assert a.instances(split) == b.instances(split)
    assert [i.prompt for i in a.instances("test")] != [i.prompt for i in c.instances("test")]


def test_test_split_does_not_depend_on_other_split_sizes() -> None:
    small = ArithmeticTask({"skills": ["lcm"], "train_size": 0, "validation_size": 0, "test_size": 10})
    large = ArithmeticTask({"skills": ["lcm"], "train_size": 50, "validation_size": 20, "test_size": 10})
    assert small.instances("test") == large.instances("test")


def test_scores_from_round_trip_json(acceptance_task: ArithmeticTask) -> None:
    """Instances reloaded from JSON (checkpoints, run dirs) still verify."""
    for inst in acceptance_task.instances("test")[::20]:
        reloaded = TaskInstance.model_validate_json(inst.model_dump_json())
        assert acceptance_task.score(reloaded, f"Answer: {inst.answer}").correct


def _first(task: ArithmeticTask, generator: str) -> TaskInstance:
    return next(i for i in task.instances("test") if i.metadata["generator"] == generator)


def test_score_normalises_formatting_but_not_expressions(acceptance_task: ArithmeticTask) -> None:
    task = acceptance_task
    gcd = _first(task, "gcd")
    assert task.score(gcd, f"The GCD is found by Euclid.\nAnswer: {gcd.answer}.00").correct
    assert task.score(gcd, f"**Answer:** ${gcd.answer}$").correct
    assert task.score(gcd, f"\\boxed{{{gcd.answer}}}").correct
    # A number written as an unevaluated quotient does not answer "what is the GCD".
    assert not task.score(gcd, f"Answer: {2 * int(gcd.answer)}/2").correct
    basic = _first(task, "basic_arithmetic")
    expression = basic.metadata["reasoning_gym"]["expression"]  # type: ignore[index]
    copied = task.score(basic, f"Answer: {expression}")
    assert not copied.correct  # copying the question's expression is not an answer


def test_score_partial_credit_is_not_correct(acceptance_task: ArithmeticTask) -> None:
    inst = _first(acceptance_task, "leg_counting")
    result = acceptance_task.score(inst, f"Answer: 1{inst.answer}")
    assert not result.correct
    assert 0.0 < result.score < 1.0  # reasoning-gym's own partial credit, kept in `score`
    assert result.feedback and inst.answer in result.feedback


def test_score_without_an_answer(acceptance_task: ArithmeticTask) -> None:
    inst = acceptance_task.instances("test")[0]
    result = acceptance_task.score(inst, "I do not know.")
    assert not result.correct and result.score == 0.0 and result.extracted_answer is None
    assert result.feedback and "Answer:" in result.feedback


def test_fraction_answers(acceptance_task: ArithmeticTask) -> None:
    task = acceptance_task
    inst = _first(task, "fraction_simplification")
    p, q = answers.parse_fraction_parts(inst.answer)  # type: ignore[misc]
    for spelling in (
        f"{p}/{q}",
        f"$\\frac{{{p}}}{{{q}}}$",
        f"\\dfrac{{{p}}}{{{q}}}",
        f"\\tfrac{{{p}}}{{{q}}}",
    ):
        assert task.score(inst, f"Answer: {spelling}").correct, spelling
    # Not in lowest terms: the verifier refuses it, and so does answers_equal.
    assert not task.score(inst, f"Answer: {2 * p}/{2 * q}").correct
    assert not task.answers_equal(f"{2 * p}/{2 * q}", f"{p}/{q}")
    assert task.answers_equal(f"\\frac{{{p}}}{{{q}}}", f"{p}/{q}")
    assert not task.answers_equal("0.75", "3/4")


def test_sorting_answers(acceptance_task: ArithmeticTask) -> None:
    task = acceptance_task
    inst = _first(task, "number_sorting")
    items = json.loads(inst.answer.replace("'", '"'))
    plain = ", ".join(str(int(float(x))) for x in items)  # easy numbers have no decimals
    assert task.score(inst, f"Answer: {plain}").correct
    assert task.score(inst, f"Answer: [{plain}]").correct
    assert task.answers_equal(inst.answer, plain)
    assert not task.answers_equal(inst.answer, ", ".join(reversed(plain.split(", "))))


def test_student_prompt_and_target(default_task: ArithmeticTask) -> None:
    inst = default_task.instances("test")[0]
    prompt = default_task.student_prompt(inst.prompt)
    assert prompt.startswith(inst.prompt) and "Answer: <final answer>" in prompt
    target = default_task.format_target("12", "6 + 6 = 12")
    assert target == "6 + 6 = 12\nAnswer: 12"


def test_difficulty_and_knobs_change_generation() -> None:
    base = {"skills": ["gcd"], "train_size": 0, "validation_size": 0, "test_size": 30}
    easy = ArithmeticTask(base)
    wide = ArithmeticTask({**base, "knobs": {"gcd": {"min_value": 1000, "max_value": 5000}}})
    hard = ArithmeticTask({**base, "difficulty": "hard"})

    def numbers(t: ArithmeticTask) -> list[int]:
        return [n for i in t.instances("test") for n in i.metadata["reasoning_gym"]["numbers"]]  # type: ignore[index,union-attr,misc]

    assert max(numbers(easy)) <= 50
    assert min(numbers(wide)) >= 1000
    assert max(numbers(hard)) > 50
    assert all(i.metadata["difficulty"] == "hard" for i in hard.instances("test"))


def test_every_skill_generates_at_every_difficulty() -> None:
    for difficulty in ("easy", "medium", "hard"):
        task = ArithmeticTask({"difficulty": difficulty, "train_size": 0, "validation_size": 0, "test_size": 18})
        for inst in task.instances("test"):
            assert task.score(inst, task.format_target(inst.answer)).correct, (difficulty, inst)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"skills": ["gcd", "sudoku"]}, "unknown skill"),
        ({"skills": []}, "at least one skill"),
        ({"skills": ["gcd", "gcd"]}, "must not repeat"),
        ({"test_size": -1}, "test_size"),
        ({"test_sise": 5}, "test_sise: unknown parameter"),
        ({"seed": "zero"}, "seed"),
        ({"difficulty": "brutal"}, "difficulty"),
        ({"knobs": {"gcd": {"max_value": 10}}, "skills": ["lcm"]}, "not in skills"),
        ({"knobs": {"gcd": {"max_vale": 10}}}, "max_vale"),
        ({"knobs": {"gcd": {"min_value": 50, "max_value": 10}}}, "max_value must be > min_value"),
        ({"knobs": {"gcd": {"max_value": "ten"}}}, "params.knobs.gcd"),
        ({"knobs": {"basic_arithmetic": {"operators": ["%"]}}}, "unsupported operator"),
    ],
)
def test_bad_params_raise_one_line_config_errors(params: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        ArithmeticTask(params)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_too_small_question_space_is_a_config_error() -> None:
    task = ArithmeticTask(
        {
            "skills": ["products"],
            "knobs": {"products": {"min_terms": 2, "max_terms": 2, "max_digits": 1}},
            "test_size": 500,
        }
    )
    with pytest.raises(ConfigError, match="distinct new questions"):
        task.instances("test")


def test_unknown_split_is_rejected(default_task: ArithmeticTask) -> None:
    with pytest.raises(ValueError):
        default_task.instances("dev")  # type: ignore[arg-type]


def test_basic_arithmetic_labels_follow_operator_precedence() -> None:
    """reasoning-gym's easy expressions are labelled left to right ("6 - 5 * 2" -> 2); ours are not."""
    task = ArithmeticTask({"skills": ["basic_arithmetic"], "train_size": 170, "validation_size": 12, "test_size": 100})
    relabelled = 0
    for split in ("train", "validation", "test"):
        for item in task.instances(split):
            expression = item.metadata["reasoning_gym"]["expression"]
            assert item.answer == str(eval(expression.replace("/", "//"))), item.prompt  # independent oracle
            assert task.score(item, f"The answer is {item.answer}").correct
            if "reasoning_gym_answer" in item.metadata:  # the upstream label is kept, and now scores wrong
                relabelled += 1
                assert not task.score(item, item.metadata["reasoning_gym_answer"]).correct
    assert relabelled > 10  # the bug is common at these settings (29 of 282 items)


@pytest.mark.parametrize(
    ("expression", "value"),
    [("6 - 5 * 2", -4), ("2 + 6 * 8", 50), ("(2 + 6) * 8", 64), ("-3 * -2", 6), ("7 / 2", 3), ("-7 / 2", -4)],
)
def test_expression_value(expression: str, value: int) -> None:
    assert expression_value(expression) == value


@pytest.mark.parametrize("expression", ["x + 1", "2 ** 3", "1.5 + 1", "4 / 0", "print(1)", "1 +"])
def test_expression_value_rejects_anything_else(expression: str) -> None:
    with pytest.raises(ValueError):
        expression_value(expression)
