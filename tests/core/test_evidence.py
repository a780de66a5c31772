"""Reading trial results: NNT and NNH, risk differences, response and remission."""

import pytest

from ketamine_course.core import evidence


def test_risk_difference_in_proportions():
    assert evidence.risk_difference(55.4, 41.2) == pytest.approx(0.142)
    assert evidence.risk_difference(0.554, 0.412, scale=1) == pytest.approx(0.142)


@pytest.mark.parametrize(
    "treated, control, better, expected",
    [
        (55.4, 41.2, True, 8),  # ELEKT-D response: 1/0.142 = 7.04 -> rounded up to 8
        (26.7, 45.3, False, 6),  # SUSTAIN-1 relapse in remitters: 1/0.186 = 5.38 -> 6 (as the paper reports)
        (64, 28, True, 3),  # Murrough 2013 response at 24 h: 1/0.36 = 2.78 -> 3
        (6.7, 25.4, False, 6),  # Wang 2024 new episodes: 1/0.187 = 5.35 -> 6
        (60, 50, True, 10),  # Lii 2023: exactly 10, not rounded up to 11
        (45, 25, True, 5),  # exactly 5 despite floating-point noise in 1/0.2
    ],
)
def test_nnt_rounds_up_to_a_whole_patient(treated, control, better, expected):
    result = evidence.number_needed(treated, control, higher_is_better=better)
    assert result.kind == "NNT"
    assert result.value == expected
    assert evidence.nnt(treated, control, better) == expected


def test_equal_rates_have_no_finite_nnt():
    result = evidence.number_needed(40, 40)
    assert result.kind == "none" and result.value is None and result.exact is None
    assert "no finite" in result.describe()
    assert evidence.nnt(40, 40) is None


def test_newcombe_interval_matches_the_published_example():
    # Newcombe 1998, method 10: 56/70 vs 48/80 -> difference 0.2000, 95% CI 0.0524 to 0.3339.
    diff, lo, hi = evidence.risk_difference_ci(56, 70, 48, 80)
    assert (
        diff == pytest.approx(0.2) and lo == pytest.approx(0.0524, abs=1e-4) and hi == pytest.approx(0.3339, abs=1e-4)
    )
    # The Wald interval is narrower at the bottom and can overshoot; both are clipped to [-1, 1].
    _, wlo, whi = evidence.risk_difference_ci(56, 70, 48, 80, method="wald")
    assert wlo == pytest.approx(0.0575, abs=1e-4) and whi == pytest.approx(0.3425, abs=1e-4)
    assert evidence.risk_difference_ci(10, 10, 0, 10)[2] == 1.0
    # Boundary: 0 of n in both arms gives a zero difference with an interval around it.
    d0, l0, h0 = evidence.risk_difference_ci(0, 20, 0, 20)
    assert d0 == 0 and l0 < 0 < h0


def test_nnt_interval_from_counts_inverts_the_limits_and_rounds_up():
    result = evidence.number_needed_from_counts(24, 90, 39, 86, higher_is_better=False)  # SUSTAIN-1 remitters
    assert result.significant and result.point.value == 6 and result.bounds == (4, 23)
    assert result.describe() == "NNT 6 (95% CI 4 to 23)"


def test_nnt_interval_from_a_reported_ci_of_the_difference():
    result = evidence.number_needed_ci(3.9, 24.2, 55.4, 41.2)  # ELEKT-D, percentage points
    assert result.bounds == (5, 26) and result.describe() == "NNT 8 (95% CI 5 to 26)"
    # For relapse (lower is better) the signs are turned: a negative difference is a benefit.
    relapse = evidence.number_needed_ci(-31.9, -4.5, 26.7, 45.3, higher_is_better=False)
    assert relapse.significant and relapse.describe().startswith("NNT 6")
    with pytest.raises(ValueError):
        evidence.number_needed_ci(5, 1, 50, 40)


def test_an_interval_that_crosses_zero_is_not_significant_and_uses_altman_notation():
    result = evidence.number_needed_from_counts(12, 20, 10, 20)
    assert not result.significant and result.bounds is None
    text = result.describe()
    assert text.startswith("not significant") and "NNTB 3 to ∞ to NNTH 6" in text
    # An interval that touches zero exactly is not significant either.
    edge = evidence.number_needed_ci(0.0, 20.0, 60, 50)
    assert not edge.significant and "NNTB 5 to ∞" in edge.describe()


def test_a_better_active_comparator_is_named_not_called_a_harm():
    ketect = evidence.number_needed_ci(-30, -2, 46, 63)  # KetECT remission, ketamine minus ECT
    text = ketect.describe(benefit="NNT favouring ketamine", harm="NNT favouring ECT")
    assert text == "NNT favouring ECT 6 (95% CI 4 to 50)" and "NNH" not in text


def test_harm_counts_give_an_nnh_with_its_interval():
    dissociation = evidence.number_needed_from_counts(142, 346, 21, 222, higher_is_better=False)
    assert dissociation.point.kind == "NNH" and dissociation.describe() == "NNH 4 (95% CI 3 to 5)"


@pytest.mark.parametrize("bad", [(-1, 10, 1, 10), (11, 10, 1, 10), (1, 0, 1, 10), (1.5, 10, 1, 10), (True, 10, 1, 10)])
def test_impossible_counts_are_refused(bad):
    with pytest.raises(ValueError):
        evidence.risk_difference_ci(*bad)
    with pytest.raises(ValueError):
        evidence.risk_difference_ci(1, 10, 1, 10, method="exact")


def test_a_worse_outcome_is_a_number_needed_to_harm():
    # The bare arithmetic: a worse rate gives kind 'NNH' (the explorer relabels it for active comparators).
    result = evidence.number_needed(46, 63)
    assert result.kind == "NNH" and result.value == 6
    assert result.risk_difference == pytest.approx(-0.17)
    assert evidence.nnt(46, 63) is None
    assert "harm" in result.describe()


def test_more_relapse_on_treatment_is_a_harm():
    result = evidence.number_needed(30, 20, higher_is_better=False)
    assert result.kind == "NNH" and result.value == 10


def test_all_versus_none_gives_nnt_one():
    assert evidence.nnt(100, 0) == 1


@pytest.mark.parametrize("bad", [-1, 101, float("nan"), float("inf"), "50", None, True])
def test_impossible_rates_are_refused(bad):
    with pytest.raises(ValueError):
        evidence.number_needed(bad, 20)


def test_response_needs_a_fifty_percent_fall():
    assert evidence.is_response(30, 15)  # exactly 50%
    assert not evidence.is_response(30, 16)  # 46.7%
    assert evidence.percent_change(40, 10) == pytest.approx(75)
    with pytest.raises(ValueError):
        evidence.percent_change(0, 0)


def test_remission_is_a_low_score_not_a_large_fall():
    assert evidence.is_remission(10) and not evidence.is_remission(11)
    assert evidence.is_remission(12, cutoff=12)
    # A fall from 44 to 20 is a response (55%) but not remission; 22 to 10 is remission.
    assert evidence.classify(44, 20) == "response"
    assert evidence.classify(22, 10) == "remission"
    assert evidence.classify(30, 25) == "no response"


def test_definitions_cover_the_taught_terms():
    assert {"response", "remission", "relapse"} <= set(evidence.DEFINITIONS)
