"""teachgraph.stats: intervals and paired tests, checked against values computed by hand."""

from __future__ import annotations

import math

import pytest

from teachgraph.stats import accuracy_interval, compare_paired, mcnemar_exact, outcomes_string, parse_outcomes


def test_wilson_interval_matches_the_textbook_value() -> None:
    # 40 of 100: Wilson 95% interval (0.309, 0.498) (e.g. Newcombe 1998, method 3).
    lo, hi = accuracy_interval(40, 100)
    assert lo == pytest.approx(0.3094, abs=1e-3) and hi == pytest.approx(0.4980, abs=1e-3)


def test_wilson_interval_stays_inside_zero_one() -> None:
    assert accuracy_interval(0, 20)[0] == 0.0 and accuracy_interval(0, 20)[1] > 0.1
    assert accuracy_interval(20, 20)[1] == 1.0 and accuracy_interval(20, 20)[0] < 0.9
    assert accuracy_interval(0, 0) == (0.0, 1.0)


def test_mcnemar_exact_is_the_two_sided_binomial_tail() -> None:
    # 2 vs 10 discordant items: 2 * P(X <= 2), X ~ Bin(12, 1/2) = 2 * 79 / 4096.
    assert mcnemar_exact(10, 2) == pytest.approx(2 * 79 / 4096)
    assert mcnemar_exact(2, 10) == mcnemar_exact(10, 2)
    assert mcnemar_exact(5, 5) == 1.0 and mcnemar_exact(0, 0) == 1.0


def test_paired_comparison_counts_discordant_items() -> None:
    baseline = "0000011111" * 40
    treatment = "1100011110" * 40  # +2 and -1 per block of ten
    result = compare_paired(baseline, treatment)
    assert result.n == 400 and result.treatment_only == 80 and result.baseline_only == 40
    assert result.difference == pytest.approx(0.1)
    lo, hi = result.interval
    assert lo < 0.1 < hi and lo > 0  # a real gain: the interval excludes 0
    assert result.p_value == pytest.approx(mcnemar_exact(80, 40)) and result.p_value < 0.001
    # No difference at all: a degenerate interval at 0 and p = 1.
    same = compare_paired(baseline, baseline)
    assert same.difference == 0 and same.interval == (0.0, 0.0) and same.p_value == 1.0


def test_paired_bootstrap_width_tracks_the_normal_approximation() -> None:
    baseline = "01" * 200
    treatment = "0110" * 100  # 100 gains, 100 losses: no difference, wide interval
    result = compare_paired(baseline, treatment)
    se = math.sqrt(200 / 400) / math.sqrt(400)  # sd of the per-item difference / sqrt(n)
    lo, hi = result.interval
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.1)


def test_unpaired_or_malformed_outcomes_are_refused() -> None:
    with pytest.raises(ValueError, match="same, non-zero number"):
        compare_paired("0101", "010")
    with pytest.raises(ValueError, match="string of 0 and 1"):
        parse_outcomes("01x1")
    assert outcomes_string([True, False, True]) == "101"
