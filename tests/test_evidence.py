"""Reading trial results: NNT and NNH, risk differences, response and remission."""
import pytest

from ketamine_course import evidence


def test_risk_difference_in_proportions():
    assert evidence.risk_difference(55.4, 41.2) == pytest.approx(0.142)
    assert evidence.risk_difference(0.554, 0.412, scale=1) == pytest.approx(0.142)


@pytest.mark.parametrize("treated, control, better, expected", [
    (55.4, 41.2, True, 8),     # ELEKT-D response: 1/0.142 = 7.04 -> rounded up to 8
    (26.7, 45.3, False, 6),    # SUSTAIN-1 relapse in remitters: 1/0.186 = 5.38 -> 6 (as the paper reports)
    (64, 28, True, 3),         # Murrough 2013 response at 24 h: 1/0.36 = 2.78 -> 3
    (6.7, 25.4, False, 6),     # Wang 2024 new episodes: 1/0.187 = 5.35 -> 6
    (60, 50, True, 10),        # Lii 2023: exactly 10, not rounded up to 11
    (45, 25, True, 5),         # exactly 5 despite floating-point noise in 1/0.2
])
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


def test_a_worse_outcome_is_a_number_needed_to_harm():
    # KetECT remission: ketamine 46% vs ECT 63%. For ketamine this is a harm: NNH 1/0.17 = 5.9 -> 6.
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
    assert evidence.is_response(30, 15)          # exactly 50%
    assert not evidence.is_response(30, 16)      # 46.7%
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
