import pytest

from ketamine_course.core import scoring

OPTIONS = ["a", "b", "c", "d"]


def test_single_best_answer():
    assert scoring.score_single("b", "b", OPTIONS).fraction == 1
    assert scoring.score_single("a", "b", OPTIONS).fraction == 0
    assert scoring.score_single("a", "b", OPTIONS).answered
    assert not scoring.score_single(None, "b", OPTIONS).answered


@pytest.mark.parametrize("bad", ["z", 3, ["b"], {"value": "b"}])
def test_single_malformed_answer_is_unanswered(bad):
    outcome = scoring.score_single(bad, "b", OPTIONS)
    assert outcome.fraction == 0 and not outcome.answered and "unanswered" in outcome.verdict


@pytest.mark.parametrize(
    "picked, expected",
    [
        (["a", "b"], 1.0),  # all right, none wrong
        (["a"], 0.5),  # half the right ones
        (["a", "b", "c"], 0.5),  # both right, one wrong: (2 - 1) / 2
        (["a", "c"], 0.0),  # one right, one wrong
        (["c", "d"], 0.0),  # never below zero
        (["a", "b", "c", "d"], 0.0),  # ticking everything earns nothing
    ],
)
def test_multiple_select_partial_credit(picked, expected):
    assert scoring.score_multiple(picked, ["a", "b"], OPTIONS).fraction == pytest.approx(expected)


def test_multiple_select_rejects_unknown_options_and_empty():
    assert not scoring.score_multiple(["a", "x"], ["a"], OPTIONS).answered
    assert not scoring.score_multiple([], ["a"], OPTIONS).answered
    assert not scoring.score_multiple("a", ["a"], OPTIONS).answered


def test_numeric_within_tolerance_and_units():
    assert scoring.score_numeric({"value": 36, "unit": "mg"}, 36, "mg", 0.5).correct
    assert scoring.score_numeric({"value": 36.5, "unit": "mg"}, 36, "mg", 0.5).correct
    assert not scoring.score_numeric({"value": 36.6, "unit": "mg"}, 36, "mg", 0.5).correct
    assert scoring.score_numeric({"value": 0.036, "unit": "g"}, 36, "mg", 0.5).correct
    wrong_dimension = scoring.score_numeric({"value": 36, "unit": "mg/kg"}, 36, "mg", 0.5)
    assert wrong_dimension.fraction == 0 and wrong_dimension.answered and "unit" in wrong_dimension.verdict


@pytest.mark.parametrize(
    "bad",
    [
        {"value": "abc", "unit": "mg"},
        {"value": float("nan"), "unit": "mg"},
        {"value": True, "unit": "mg"},
        {"unit": "mg"},
        36,
        "36 mg",
    ],
)
def test_numeric_malformed_is_unanswered(bad):
    outcome = scoring.score_numeric(bad, 36, "mg", 0.5)
    assert outcome.fraction == 0 and not outcome.answered


def test_convert():
    assert scoring.convert(2, "h", "min") == 120
    assert scoring.convert(1, "mg", "min") is None
    assert scoring.convert(1, "furlong", "mg") is None


def test_ordering_credit_per_position():
    key = ["a", "b", "c", "d"]
    assert scoring.score_ordering(key, key).fraction == 1
    assert scoring.score_ordering(["b", "a", "c", "d"], key).fraction == 0.5
    assert not scoring.score_ordering(["a", "a", "c", "d"], key).answered
    assert not scoring.score_ordering(["a", None, "c", "d"], key).answered


def test_reflection_only_records_that_something_was_written():
    assert scoring.score_reflection("Because blood pressure rises.").answered
    assert not scoring.score_reflection("   ").answered
    assert scoring.score_reflection("text").fraction == 0
