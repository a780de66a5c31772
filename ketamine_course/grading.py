"""Helpers called from the grade cells of assignments.

`check` is the visible part of a grade cell: it tells the learner whether the item is answered,
and never reveals or needs a key. `grade` is called from the hidden tests (solutions/ only), with
the key passed in by the instructor's notebook: it scores the saved answer with the same function
the formative quizzes use, prints the verdict and the rationale for the feedback, and returns the
points earned, which nbgrader reads as partial credit.
"""

from __future__ import annotations

import math
import warnings

from ketamine_course.content import assessments, graded_item
from ketamine_course.content.citations import short_form
from ketamine_course.core import scoring
from ketamine_course.runtime import nbgrader
from ketamine_course.storage import answer_store


class Score(float):
    """Points earned. nbgrader reads the plain-text form (a number); people see the HTML form."""

    def __new__(cls, points: float, out_of: float):
        points = points if math.isfinite(points) else 0.0
        score = super().__new__(cls, round(min(max(points, 0.0), out_of), 2))  # never more than the item's points
        score.out_of = out_of
        return score

    def __repr__(self):
        return f"{float(self):g}"

    def _repr_html_(self):
        return f"<b>Score: {float(self):g} of {self.out_of:g} point(s)</b>"


def check(item_id: str) -> None:
    """Under nbgrader (Validate, autograde), say whether an item has a saved answer. Never raises.

    In the live notebook the item's own widget shows "Saved", so this stays silent there: a line
    printed at Run All, before the learner answers, would only go stale.
    """
    if not nbgrader.autograding():
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        item = graded_item(item_id)
        stored = answer_store.read_store()
    for problem in _problems(stored):
        print(problem)
    value = stored.answers.get(item_id)
    if value is None:
        print(f"{item_id}: not answered yet. Answer it above; it is saved as soon as you do.")
    else:
        print(f"{item_id}: answer saved ({scoring.describe_answer(item, value)}).")


def grade(item_id: str, key, points: float, rationale: str, refs=()) -> Score:
    """Score the saved answer to a graded item against `key`; print the verdict and rationale."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        item = graded_item(item_id)
        stored = answer_store.read_store()
        value = stored.answers.get(item_id)
        try:
            outcome = _score(item, value, key)
        except Exception:  # whatever the store holds, a grading cell never fails on it
            outcome = scoring.Outcome(0.0, False, "The saved answer cannot be read; it counts as unanswered.")
        sources = "; ".join(short_form(k) for k in refs)
    for problem in _problems(stored):
        print(problem)
    print(f"{item_id}: {item.stem}")
    print(f"Your answer: {scoring.describe_answer(item, value)}")
    print(f"Result: {outcome.verdict}")
    print(f"Why: {rationale}" + (f" ({sources})" if sources else ""))
    fraction = outcome.fraction if math.isfinite(outcome.fraction) else 0.0
    return Score(min(max(fraction, 0.0), 1.0) * points, points)


def _problems(stored) -> list:
    """What the store could not give, plus a line for every saved id that is no graded item of the course."""
    known = {item.id for a in assessments().values() for item in a.items}
    unknown = sorted(i for i in stored.answers if i not in known)
    shown = ", ".join(i if len(i) <= 40 else i[:37] + "..." for i in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
    extra = [f"answers.json holds answers to questions this course does not have ({shown}); they are ignored."]
    return list(stored.problems) + (extra if unknown else [])


AUTOMATIC = ("single", "multiple", "numeric", "ordering")


def _score(item, value, key) -> scoring.Outcome:
    if item.type not in AUTOMATIC:
        raise ValueError(f"{item.id} is a {item.type} item: it is graded by hand, not by grade()")
    return scoring.score_item(item.type, value, key, [o.id for o in getattr(item, "options", [])])
