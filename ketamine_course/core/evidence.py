"""Reading trial results: absolute risk difference, number needed to treat (or harm), response and remission.

Pure Python. Rates are percentages (0 to 100) unless `scale=1` is passed for proportions.
Conventions used throughout the course:
- NNT = 1 / absolute risk difference, rounded UP to the next whole patient (so 7.04 becomes 8),
  because rounding down would overstate the benefit.
- When the treatment does worse than the comparator the same number is a number needed to harm (NNH);
  between two active treatments it is the other treatment's NNT, and callers should label it so.
- Equal rates give no finite NNT: the treatment made no difference in that trial.
- An NNT comes with the confidence interval of the risk difference, inverted (Newcombe's hybrid score
  interval from counts, or the paper's own interval). If that interval includes zero the result is not
  significant and the interval runs from an NNTB through infinity to an NNTH (Altman's notation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

# Definitions taught in module 3. Thresholds differ between trials: always read the paper's own.
DEFINITIONS = {
    "response": "A fall of at least 50% from the baseline score on a depression rating scale (MADRS, HDRS or QIDS).",
    "remission": "A score at or below a low threshold, meaning few symptoms remain: for example MADRS 10 or less "
    "(ESCAPE-TRD, KetECT) or 12 or less (the esketamine phase 3 trials).",
    "relapse": "Return of depressive symptoms to a defined level after response or remission.",
}


@dataclass(frozen=True)
class NumberNeeded:
    """The result of comparing two rates."""

    kind: str  # "NNT", "NNH" or "none"
    value: Optional[int]  # whole patients, rounded up; None when rates are equal
    exact: Optional[float]  # 1 / |risk difference| before rounding
    risk_difference: float  # benefit-oriented difference, as a proportion (positive = benefit)

    def describe(self) -> str:
        if self.kind == "none":
            return "The rates are equal: no finite number needed to treat."
        verb = "treat" if self.kind == "NNT" else "harm"
        return f"{self.kind} = {self.value}: about {self.value} patients to {verb} for one extra patient affected."


def _proportion(rate: float, scale: float) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate):
        raise ValueError(f"a rate must be a number, not {rate!r}")
    if not 0 <= rate <= scale:
        raise ValueError(f"a rate must lie between 0 and {scale:g}, not {rate!r}")
    return rate / scale


def risk_difference(rate_treated: float, rate_control: float, scale: float = 100) -> float:
    """Absolute risk difference, treated minus control, as a proportion (e.g. 55.4 vs 41.2 -> 0.142)."""
    return round(_proportion(rate_treated, scale) - _proportion(rate_control, scale), 12)


def number_needed(
    rate_treated: float, rate_control: float, higher_is_better: bool = True, scale: float = 100
) -> NumberNeeded:
    """NNT (or NNH) from two event rates, rounded up to a whole patient.

    higher_is_better: True for response or remission; False for relapse or a new episode, where the
    treatment helps by making the rate lower.
    """
    diff = risk_difference(rate_treated, rate_control, scale)
    benefit = diff if higher_is_better else -diff
    if benefit == 0:
        return NumberNeeded("none", None, None, 0.0)
    exact = 1 / abs(benefit)
    # Round up, ignoring floating-point noise such as 5.0000000001 (1 / 0.2).
    value = math.ceil(round(exact, 9))
    return NumberNeeded("NNT" if benefit > 0 else "NNH", value, exact, benefit)


def nnt(rate_treated: float, rate_control: float, higher_is_better: bool = True, scale: float = 100) -> Optional[int]:
    """The whole-patient NNT, or None when the treatment is not better (then see number_needed)."""
    result = number_needed(rate_treated, rate_control, higher_is_better, scale)
    return result.value if result.kind == "NNT" else None


def percent_change(baseline: float, follow_up: float) -> float:
    """Percentage fall in a symptom score from baseline (positive = improvement)."""
    if baseline <= 0:
        raise ValueError("a baseline score must be above zero")
    return (baseline - follow_up) / baseline * 100


def is_response(baseline: float, follow_up: float, threshold_percent: float = 50) -> bool:
    """Response: the score fell by at least `threshold_percent` (50% in most trials)."""
    return percent_change(baseline, follow_up) >= threshold_percent - 1e-9


def is_remission(score: float, cutoff: float = 10) -> bool:
    """Remission: the score is at or below the trial's cutoff (MADRS 10 or less unless told otherwise)."""
    return score <= cutoff


def classify(baseline: float, follow_up: float, remission_cutoff: float = 10) -> str:
    """'remission', 'response' (without remission) or 'no response'. Remission is checked first."""
    if is_remission(follow_up, remission_cutoff):
        return "remission"
    if is_response(baseline, follow_up):
        return "response"
    return "no response"


# --- uncertainty: the confidence interval of a risk difference, and the NNT that goes with it -----------

Z95 = 1.959963984540054


def _wilson(events: int, total: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of one proportion (used by Newcombe's method)."""
    p = events / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def _counts(events, total, name):
    if isinstance(events, bool) or isinstance(total, bool) or not isinstance(events, int) or not isinstance(total, int):
        raise ValueError(f"{name}: events and totals must be whole numbers")
    if total <= 0 or not 0 <= events <= total:
        raise ValueError(f"{name}: need 0 <= events <= total and total > 0, not {events}/{total}")


def risk_difference_ci(
    events_treated: int, n_treated: int, events_control: int, n_control: int, method: str = "newcombe", z: float = Z95
) -> tuple[float, float, float]:
    """Risk difference (treated minus control, as a proportion) with its 95% confidence interval.

    method="newcombe": Newcombe's hybrid score interval (method 10 of Newcombe 1998), which behaves at
    0% and 100% and in small groups; method="wald": the simple normal approximation, taught for comparison.
    Returns (difference, lower, upper).
    """
    _counts(events_treated, n_treated, "treated arm")
    _counts(events_control, n_control, "control arm")
    p1, p2 = events_treated / n_treated, events_control / n_control
    diff = p1 - p2
    if method == "wald":
        se = math.sqrt(p1 * (1 - p1) / n_treated + p2 * (1 - p2) / n_control)
        return diff, max(-1.0, diff - z * se), min(1.0, diff + z * se)
    if method != "newcombe":
        raise ValueError(f"unknown method {method!r}: use 'newcombe' or 'wald'")
    l1, u1 = _wilson(events_treated, n_treated, z)
    l2, u2 = _wilson(events_control, n_control, z)
    lower = diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return diff, max(-1.0, lower), min(1.0, upper)


def _whole(x: float) -> int:
    return math.ceil(round(x, 9))


@dataclass(frozen=True)
class NumberNeededCI:
    """An NNT (or NNH) with the interval that comes from the CI of the risk difference.

    All differences are benefit-oriented proportions (positive = the first arm did better).
    significant is False when the interval of the difference includes zero: then there is no
    finite NNT interval, and the interval is written in Altman's notation, from a number needed to
    treat for benefit (NNTB) through infinity to a number needed to treat for harm (NNTH).
    """

    point: NumberNeeded
    lower_difference: float
    upper_difference: float

    @property
    def significant(self) -> bool:
        return self.lower_difference > 0 or self.upper_difference < 0

    @property
    def bounds(self) -> Optional[tuple[int, int]]:
        """Whole-patient bounds of the NNT (or NNH) interval, each rounded up; None if not significant."""
        if not self.significant:
            return None
        near, far = sorted((abs(self.lower_difference), abs(self.upper_difference)), reverse=True)
        return _whole(1 / near), _whole(1 / far)

    def describe(self, benefit: str = "NNT", harm: str = "NNH") -> str:
        """'NNT 6 (95% CI 4 to 19)', or 'not significant: NNTB 4 to ∞ to NNTH 9' when the CI crosses zero.

        benefit and harm name the two directions; for two active treatments pass labels that say which
        treatment each number favours (a worse active comparator is not a 'harm').
        """
        if not self.significant:

            def part(diff, label):
                return f"{label} {_whole(1 / abs(diff))}" if diff != 0 else None

            low = part(self.upper_difference, "NNTB") if self.upper_difference > 0 else None
            high = part(self.lower_difference, "NNTH") if self.lower_difference < 0 else None
            span = " to ".join(p for p in (low, "∞", high) if p)
            return f"not significant (95% CI of the difference includes zero): {span}"
        lo, hi = self.bounds
        label = benefit if self.lower_difference > 0 else harm
        value = self.point.value
        return f"{label} {value} (95% CI {lo} to {hi})"


def number_needed_ci(
    lower_difference: float,
    upper_difference: float,
    rate_treated: float,
    rate_control: float,
    higher_is_better: bool = True,
    scale: float = 100,
) -> NumberNeededCI:
    """NNT with its interval from a reported (or computed) CI of the risk difference.

    lower_difference and upper_difference are the CI of treated minus control, on the same scale as the
    rates (percentage points by default). For outcomes where lower is better (relapse), the signs are
    turned so that positive always means benefit.
    """
    point = number_needed(rate_treated, rate_control, higher_is_better, scale)
    lo, hi = lower_difference / scale, upper_difference / scale
    if lo > hi:
        raise ValueError("the lower limit of the interval is above the upper limit")
    if not higher_is_better:
        lo, hi = -hi, -lo
    return NumberNeededCI(point, lo, hi)


def number_needed_from_counts(
    events_treated: int,
    n_treated: int,
    events_control: int,
    n_control: int,
    higher_is_better: bool = True,
    method: str = "newcombe",
) -> NumberNeededCI:
    """NNT (or NNH) with a 95% CI computed from the two arms' counts (Newcombe by default)."""
    diff, lo, hi = risk_difference_ci(events_treated, n_treated, events_control, n_control, method)
    return number_needed_ci(
        lo * 100, hi * 100, events_treated / n_treated * 100, events_control / n_control * 100, higher_is_better
    )
