"""The course's late-submission rule, applied by nbgrader when it autogrades.

nbgrader compares each collected submission's time stamp with the assignment's due date (plus any
extension given to that student) and, for a late one, asks this plugin how many points each notebook
loses. The course's rule and its setting live in nbgrader_config.py:

    c.AssignLatePenalties.plugin_class = "ketamine_course.late_policy.PerDayLatePenalty"
    c.PerDayLatePenalty.share_per_day = 0.10
"""
from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

SECONDS_PER_DAY = 24 * 60 * 60


def started_days_late(seconds_late: float) -> int:
    """Whole days late, counting a started day as a full one: 1 second late is 1 day, 25 hours is 2."""
    if not seconds_late or seconds_late <= 0:
        return 0
    return math.ceil(seconds_late / SECONDS_PER_DAY)


def late_penalty(points_possible: float, score: float, seconds_late: float, share_per_day: float) -> float:
    """Points taken off a notebook's score for lateness, under the course's rule."""
    # The rule: every started day after the due date costs `share_per_day` of the points the notebook is
    # worth (10% by default: 1 point a day on a 10-point assignment), and a score never goes below zero.
    days = started_days_late(seconds_late)
    if days == 0:
        return 0.0
    penalty = share_per_day * days * max(float(points_possible or 0), 0.0)
    return round(min(penalty, max(float(score or 0), 0.0)), 4)


class PerDayLatePenalty(LateSubmissionPlugin):
    """A share of the notebook's points off for each started day late; never below zero."""

    share_per_day = Float(
        0.10, min=0.0, max=1.0,
        help="Share of a notebook's points lost for each started day after the due date (0.10 = 10%).",
    ).tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        points = self._points_possible(score)
        penalty = late_penalty(points, score, total_seconds_late, self.share_per_day)
        self.log.warning("%s is %d started day(s) late: %g of %g point(s) off (%g%% of the points a day).",
                         student_id, started_days_late(total_seconds_late), penalty, points,
                         self.share_per_day * 100)
        return penalty

    def _points_possible(self, score: float) -> float:
        """The points the notebook being graded is worth, from nbgrader's gradebook.

        nbgrader hands the plugin only the score; the notebook's maximum comes from the preprocessor
        that runs the plugin (its gradebook and the ids of the notebook being graded).
        """
        grader = self.parent
        try:
            notebook = grader.gradebook.find_submission_notebook(
                grader.notebook_id, grader.assignment_id, grader.student_id)
            return float(notebook.max_score)
        except Exception as exc:  # an nbgrader that runs the plugin differently: still grade, say so
            self.log.error("Could not read the notebook's points (%s: %s); the late penalty is taken "
                           "from the score earned instead.", exc.__class__.__name__, exc)
            return float(score or 0)
