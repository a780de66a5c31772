"""Item statistics of a graded assignment, and the flags that mark an item worth a second look.

Pure Python on plain numbers. For one item: each learner's share of its points earned (0 to 1), and
each learner's points on the other items ("rest"). Difficulty is the mean share (higher = easier);
discrimination is the correlation of the share with the rest (the corrected item-total correlation);
the upper-lower index compares the top and bottom 27% ranked by the rest.
"""

from __future__ import annotations

import math

# Thresholds of the flags. They are prompts to look at an item again, not verdicts.
TOO_EASY_ABOVE = 0.90  # difficulty above this: nearly everyone earned the points
TOO_HARD_BELOW = 0.20  # difficulty below this: few earned the points
WEAK_DISCRIMINATION_BELOW = 0.10  # discrimination below this (and not negative): tells learners apart poorly
NEGATIVE_DISCRIMINATION_BELOW = 0.0  # discrimination below this: stronger learners did worse on the item
UNUSED_OPTION_PICKS = 0  # an option chosen by this many learners or fewer is doing no work
GROUP_SHARE = 0.27  # the upper and lower groups of the upper-lower index: 27% of learners each
FULL_CREDIT = 1 - 1e-9  # a share of the points at least this large is full credit

FLAG_EXPLANATIONS = {
    "too easy": f"More than {TOO_EASY_ABOVE:.0%} of the points were earned. The item may not test much; "
    "that is fine for a safety fact every clinician must know, less so for a question meant to "
    "make learners think.",
    "too hard": f"Fewer than {TOO_HARD_BELOW:.0%} of the points were earned. Check the key, the wording and "
    "whether the module teaches this clearly before blaming the learners.",
    "negative discrimination": "Learners who did well on the rest of the assignment did worse on this item than "
    "those who did poorly. Usual causes: a wrong key, an ambiguous stem, or a "
    "distractor that a well-read clinician can defend. Review it first.",
    "weak discrimination": f"The item tells stronger and weaker learners apart only a little (discrimination "
    f"below {WEAK_DISCRIMINATION_BELOW:.2f}). Often it is too easy or too hard, or tests "
    "something the rest of the assignment does not.",
    "unused distractor": "A wrong option that nobody chose. It is not drawing anyone away from the right answer; "
    "replace it with a mistake clinicians really make, or drop it.",
    "keyed answer never chosen": "Nobody chose this right option. Check the key in solutions/ first.",
}


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def pearson(xs, ys):
    """Pearson's correlation; None when there are fewer than 3 learners or either side has no spread."""
    if len(xs) < 3:
        return None
    mx, my = mean(xs), mean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx < 1e-12 or syy < 1e-12:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / math.sqrt(sxx * syy)


def group_size(learners: int) -> int:
    """Learners in each of the upper and lower groups: 27% of the cohort, rounded, at least 1."""
    return min(max(1, round(GROUP_SHARE * learners)), learners // 2)


def upper_lower_index(fractions, rest, students):
    """Mean share of the item earned by the top 27% on the other items, minus that of the bottom 27%.

    Learners are ranked by their score on the other items; ties are broken by student id, so the
    result does not depend on the order the gradebook lists them. None with fewer than 2 learners.
    """
    size = group_size(len(fractions))
    if size < 1:
        return None
    ranked = sorted(range(len(fractions)), key=lambda j: (rest[j], students[j]))
    lower, upper = ranked[:size], ranked[-size:]
    return mean(fractions[j] for j in upper) - mean(fractions[j] for j in lower)


def rest_scores(points: list, fractions: list, leave_out: int) -> list:
    """Each learner's points on every item but `leave_out` (fractions: one list of shares per item),
    rounded so that equal totals tie exactly when ranked."""
    learners = len(fractions[leave_out])
    return [
        round(sum(points[k] * fractions[k][j] for k in range(len(points)) if k != leave_out), 6)
        for j in range(learners)
    ]


def fully_right(fractions) -> float:
    """The share of learners with full credit."""
    return mean(f >= FULL_CREDIT for f in fractions)


def keyed_options(item_type: str, key) -> set:
    """The right options of a single or multiple choice item; empty for other types or an unknown key."""
    if key is None:
        return set()
    return {key} if item_type == "single" else set(key) if item_type == "multiple" else set()


def unused_options(choices: dict) -> list:
    """The options (option id -> learners who chose it) that are doing no work."""
    return [o for o, n in choices.items() if n <= UNUSED_OPTION_PICKS]


def flags(difficulty: float, discrimination, unused: list, keyed: set) -> list:
    """(flag, detail) pairs for an item, by the thresholds at the top of this module."""
    found = []
    if difficulty > TOO_EASY_ABOVE:
        found.append(("too easy", f"difficulty {difficulty:.2f}"))
    if difficulty < TOO_HARD_BELOW:
        found.append(("too hard", f"difficulty {difficulty:.2f}"))
    if discrimination is not None:
        if discrimination < NEGATIVE_DISCRIMINATION_BELOW:
            found.append(("negative discrimination", f"discrimination {discrimination:.2f}"))
        elif discrimination < WEAK_DISCRIMINATION_BELOW:
            found.append(("weak discrimination", f"discrimination {discrimination:.2f}"))
    never_right = [o for o in unused if o in keyed]
    never_wrong = [o for o in unused if o not in keyed]
    if never_right:
        found.append(("keyed answer never chosen", f"option(s) {', '.join(never_right)}"))
    if never_wrong:
        found.append(
            (
                "unused distractor",
                f"option(s) {', '.join(never_wrong)}"
                + ("" if keyed else " (the key could not be read: one may be a right option)"),
            )
        )
    return found


def decimals(value, digits: int = 3) -> str:
    """A statistic with `digits` decimals; '' when it is not defined (None)."""
    return "" if value is None else f"{value:.{digits}f}"
