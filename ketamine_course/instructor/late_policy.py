"""The course's late-submission rule, applied by nbgrader when it autogrades.

nbgrader compares each collected submission's time stamp with the assignment's due date (plus any
extension given to that student) and, for a late one, asks this plugin how many points each notebook
loses; the arithmetic is core/late_penalty.py. The course's rule and its setting live in nbgrader_config.py:

    c.AssignLatePenalties.plugin_class = "ketamine_course.instructor.late_policy.PerDayLatePenalty"
    c.PerDayLatePenalty.share_per_day = 0.10
"""

from __future__ import annotations

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

from ketamine_course.core.late_penalty import points_off, started_days_late


class PerDayLatePenalty(LateSubmissionPlugin):
    """A share of the notebook's points off for each started day late; never below zero."""

    share_per_day = Float(
        0.10,
        min=0.0,
        max=1.0,
        help="Share of a notebook's points lost for each started day after the due date (0.10 = 10%).",
    ).tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        points = self._points_possible(score)
        penalty = points_off(points, score, total_seconds_late, self.share_per_day)
        self.log.warning(
            "%s is %d started day(s) late: %g of %g point(s) off (%g%% of the points a day).",
            student_id,
            started_days_late(total_seconds_late),
            penalty,
            points,
            self.share_per_day * 100,
        )
        return penalty

    def _points_possible(self, score: float) -> float:
        """The points the notebook being graded is worth, from nbgrader's gradebook.

        nbgrader hands the plugin only the score; the notebook's maximum comes from the preprocessor
        that runs the plugin (its gradebook and the ids of the notebook being graded).
        """
        grader = self.parent
        try:
            notebook = grader.gradebook.find_submission_notebook(
                grader.notebook_id, grader.assignment_id, grader.student_id
            )
            return float(notebook.max_score)
        except Exception as exc:  # an nbgrader that runs the plugin differently: still grade, say so
            self.log.error(
                "Could not read the notebook's points (%s: %s); the late penalty is taken "
                "from the score earned instead.",
                exc.__class__.__name__,
                exc,
            )
            return float(score or 0)
