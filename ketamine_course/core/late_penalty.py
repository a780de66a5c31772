"""The course's late-submission rule, as arithmetic.

Every started day after the due date costs `share_per_day` of the points a notebook is worth (10% by
default: 1 point a day on a 10-point assignment), and a score never goes below zero.
"""

from __future__ import annotations

import math

SECONDS_PER_DAY = 24 * 60 * 60


def started_days_late(seconds_late: float) -> int:
    """Whole days late, counting a started day as a full one: 1 second late is 1 day, 25 hours is 2."""
    if not seconds_late or seconds_late <= 0:
        return 0
    return math.ceil(seconds_late / SECONDS_PER_DAY)


def points_off(points_possible: float, score: float, seconds_late: float, share_per_day: float) -> float:
    """Points taken off a notebook's score for lateness: a share of its points per started day, at most the score."""
    days = started_days_late(seconds_late)
    if days == 0:
        return 0.0
    penalty = share_per_day * days * max(float(points_possible or 0), 0.0)
    return round(min(penalty, max(float(score or 0), 0.0)), 4)
