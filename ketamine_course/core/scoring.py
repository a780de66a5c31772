"""Scoring of every question type: one set of functions for instant feedback and for the grader.

Each function takes the learner's answer (as the answer store holds it) and a key, and returns an
Outcome: the fraction of credit (0 to 1) and a plain-language verdict. Malformed answers score
zero with a message; nothing here raises on a learner's input.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_NUMBER = 1e12  # larger (or NaN, or infinite) is no answer to any question of the course

# Units a numeric answer may be given in: unit -> (dimension, factor to the dimension's base unit).
UNITS = {
    "mg": ("mass", 1.0),
    "g": ("mass", 1000.0),
    "microgram": ("mass", 0.001),
    "mg/kg": ("dose per weight", 1.0),
    "microgram/kg": ("dose per weight", 0.001),
    "mL": ("volume", 1.0),
    "L": ("volume", 1000.0),
    "ng/mL": ("concentration", 1.0),
    "microgram/mL": ("concentration", 1000.0),
    "min": ("time", 1.0),
    "h": ("time", 60.0),
    "%": ("percent", 1.0),
    "patients": ("count", 1.0),
    "mmHg": ("pressure", 1.0),
}


@dataclass(frozen=True)
class Outcome:
    fraction: float  # share of the item's points earned, 0 to 1
    answered: bool
    verdict: str  # what the learner is told, without revealing the key

    @property
    def correct(self) -> bool:
        return self.fraction >= 1.0


UNANSWERED = Outcome(0.0, False, "Not answered yet.")


def score_single(answer, correct: str, option_ids) -> Outcome:
    """Single best answer: full credit for the keyed option, none otherwise."""
    if answer is None:
        return UNANSWERED
    if not isinstance(answer, str) or answer not in option_ids:
        return Outcome(0.0, False, "The saved answer is not one of this question's options; it counts as unanswered.")
    if answer == correct:
        return Outcome(1.0, True, "Correct.")
    return Outcome(0.0, True, "Not the best answer.")


def score_multiple(answer, correct, option_ids) -> Outcome:
    """Multiple select: each correct pick earns a share; each wrong pick takes one back (never below 0)."""
    if answer is None:
        return UNANSWERED
    if not isinstance(answer, list) or not all(isinstance(a, str) for a in answer):
        return Outcome(0.0, False, "The saved answer is not a list of options; it counts as unanswered.")
    picked = set(answer)
    if not picked <= set(option_ids):
        return Outcome(
            0.0, False, "The saved answer names options this question does not have; it counts as unanswered."
        )
    if not picked:
        return UNANSWERED
    keyed = set(correct)
    hits, false_picks = len(picked & keyed), len(picked - keyed)
    fraction = max(0.0, (hits - false_picks) / len(keyed))
    if fraction == 1.0:
        return Outcome(1.0, True, "Correct: you chose every right option and no wrong one.")
    return Outcome(
        round(fraction, 4),
        True,
        f"Partly right: {hits} of {len(keyed)} right options chosen, {false_picks} wrong option(s) chosen.",
    )


def convert(value: float, unit: str, to_unit: str):
    """Convert between units of one dimension; None when the dimensions differ or a unit is unknown."""
    if unit not in UNITS or to_unit not in UNITS:
        return None
    (dim_from, f_from), (dim_to, f_to) = UNITS[unit], UNITS[to_unit]
    if dim_from != dim_to:
        return None
    return value * f_from / f_to


def score_numeric(answer, value: float, unit: str, tolerance: float) -> Outcome:
    """Numeric with units: right when within the tolerance after converting the learner's unit."""
    if answer is None:
        return UNANSWERED
    if not isinstance(answer, dict) or "value" not in answer or "unit" not in answer:
        return Outcome(0.0, False, "The saved answer is not a number with a unit; it counts as unanswered.")
    given, given_unit = answer["value"], answer["unit"]
    if isinstance(given, bool) or not isinstance(given, (int, float)) or not abs(given) <= MAX_NUMBER:
        return Outcome(0.0, False, "The saved answer is not a number; it counts as unanswered.")
    converted = convert(float(given), str(given_unit), unit)
    if converted is None:
        return Outcome(0.0, True, f"The unit {given_unit} cannot express this quantity.")
    if abs(converted - value) <= tolerance + 1e-9:
        return Outcome(1.0, True, "Correct.")
    return Outcome(0.0, True, "Not within the accepted range.")


def score_ordering(answer, order) -> Outcome:
    """Ordering: the share of positions that hold the right step."""
    if answer is None:
        return UNANSWERED
    if not isinstance(answer, list) or sorted(map(str, answer)) != sorted(order):
        return Outcome(0.0, False, "The saved order does not place every step exactly once; it counts as unanswered.")
    right = sum(a == b for a, b in zip(answer, order))
    if right == len(order):
        return Outcome(1.0, True, "Correct order.")
    return Outcome(round(right / len(order), 4), True, f"{right} of {len(order)} steps in the right place.")


def score_reflection(answer) -> Outcome:
    """Reflections are read by a person; here we only tell whether something was written."""
    if isinstance(answer, str) and answer.strip():
        return Outcome(0.0, True, "Saved for your instructor to read.")
    return UNANSWERED


def score_item(kind: str, answer, key, option_ids=()) -> Outcome:
    """The one dispatch from a question type to its scoring function, for quizzes and the grader alike.

    `key` is the option id (single), the list of keyed option ids (multiple), a mapping with `value`,
    `unit` and `tolerance` (numeric), the steps in order (ordering), or None (reflection).
    """
    if kind == "single":
        return score_single(answer, key, option_ids)
    if kind == "multiple":
        return score_multiple(answer, key, option_ids)
    if kind == "numeric":
        return score_numeric(answer, key["value"], key["unit"], key["tolerance"])
    if kind == "ordering":
        return score_ordering(answer, key)
    if kind == "reflection":
        return score_reflection(answer)
    raise ValueError(f"a {kind} question is graded by hand, not scored automatically")


def describe_answer(item, value) -> str:
    """A saved answer in words, for the grader, the feedback and the learner's 'saved' line."""
    if value is None:
        return "no answer saved"
    try:
        if item.type == "single":
            return next(o.text for o in item.options if o.id == value)
        if item.type == "multiple":
            return "; ".join(o.text for o in item.options if o.id in value)
        if item.type == "numeric":
            return f"{value['value']} {value['unit']}"
        if item.type == "ordering":
            steps = {s.id: s.text for s in item.steps}
            return " → ".join(steps.get(s, "(empty)") for s in value)
        return str(value)
    except Exception:
        return "an answer this question cannot read"
