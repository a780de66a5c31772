"""The item statistics on plain numbers: undefined where they should be, and the flags at their thresholds.

The statistics of whole cohorts, recomputed with numpy, are checked in test_item_analysis.py.
"""

from __future__ import annotations

from ketamine_course.core import item_statistics


def test_statistics_on_tiny_or_uniform_groups_are_undefined_not_errors():
    assert item_statistics.pearson([1, 1, 1], [0, 1, 2]) is None
    assert item_statistics.pearson([1, 0], [1, 0]) is None
    assert item_statistics.group_size(1) == 0 and item_statistics.upper_lower_index([1.0], [0.0], ["a"]) is None
    assert item_statistics.group_size(200) == 54


def test_the_rest_leaves_the_item_out():
    points = [1.0, 2.0, 0.5]
    fractions = [[1.0, 0.0], [0.5, 1.0], [1.0, 1.0]]
    assert item_statistics.rest_scores(points, fractions, 0) == [1.5, 2.5]
    assert item_statistics.rest_scores(points, fractions, 1) == [1.5, 0.5]


def test_flags_at_their_thresholds():
    flags = item_statistics.flags
    assert flags(0.5, 0.3, [], {"a"}) == []
    assert [f for f, _ in flags(0.95, None, [], set())] == ["too easy"]
    assert [f for f, _ in flags(0.1, -0.2, [], set())] == ["too hard", "negative discrimination"]
    assert flags(0.5, 0.05, [], set()) == [("weak discrimination", "discrimination 0.05")]
    assert flags(0.5, 0.3, ["a", "d"], {"a"}) == [
        ("keyed answer never chosen", "option(s) a"),
        ("unused distractor", "option(s) d"),
    ]
    assert "key could not be read" in flags(0.5, 0.3, ["d"], set())[0][1]


def test_keyed_and_unused_options():
    assert item_statistics.keyed_options("single", "b") == {"b"}
    assert item_statistics.keyed_options("multiple", ["a", "c"]) == {"a", "c"}
    assert item_statistics.keyed_options("numeric", {"value": 1}) == set()
    assert item_statistics.keyed_options("single", None) == set()
    assert item_statistics.unused_options({"a": 3, "b": 0, "c": 1}) == ["b"]
