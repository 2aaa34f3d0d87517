"""Root budgets read the student's state: weaker skills get more, and a skill that got worse
after being taught gets less (learning progress)."""

from __future__ import annotations

from teachgraph.nodes.policies import falls_in_a_row, root_budgets
from teachgraph.skills import SkillForest


def forest_with(histories: dict[str, list[float]], n: int = 40) -> SkillForest:
    forest = SkillForest()
    for name, values in histories.items():
        path = forest.add_skill(name)
        for iteration, value in enumerate(values):
            forest.record_accuracy(path, iteration=iteration, split="validation", value=value, n=n)
    return forest


def test_weaker_skills_get_more_and_no_state_splits_evenly():
    forest = forest_with({"gcd": [0.2], "lcm": [0.6]})
    assert root_budgets(forest, 100, with_state=True) == {"gcd": 64, "lcm": 36}  # 0.9 : 0.5
    assert root_budgets(forest, 100, with_state=False) == {"gcd": 50, "lcm": 50}


def test_a_fall_beyond_noise_halves_a_skill_each_time_in_a_row():
    # se of 0.25 over 40 items is 0.068: 0.25 -> 0.15 is a fall, 0.25 -> 0.20 is noise.
    assert falls_in_a_row(forest_with({"lcm": [0.25, 0.15]}), "lcm") == 1
    assert falls_in_a_row(forest_with({"lcm": [0.25, 0.20]}), "lcm") == 0
    assert falls_in_a_row(forest_with({"lcm": [0.40, 0.25, 0.15]}), "lcm") == 2
    assert falls_in_a_row(forest_with({"lcm": [0.40, 0.25, 0.30]}), "lcm") == 0  # it recovered
    assert falls_in_a_row(forest_with({"lcm": [0.0, 0.0]}), "lcm") == 0
    forest = forest_with({"gcd": [0.2, 0.2], "lcm": [0.25, 0.15]})  # equal error rates (0.8 vs 0.85)
    shares = root_budgets(forest, 100, with_state=True)
    assert shares == {"gcd": 65, "lcm": 35}  # 0.9 : 0.95 / 2
    assert root_budgets(forest, 100, with_state=False) == {"gcd": 50, "lcm": 50}  # no state: no progress read
