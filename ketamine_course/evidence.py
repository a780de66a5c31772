"""Reading trial results: absolute risk difference, number needed to treat (or harm), response and remission.

Pure Python. Rates are percentages (0 to 100) unless `scale=1` is passed for proportions.
Conventions used throughout the course:
- NNT = 1 / absolute risk difference, rounded UP to the next whole patient (so 7.04 becomes 8),
  because rounding down would overstate the benefit.
- When the treatment does worse than the comparator the same number is a number needed to harm (NNH).
- Equal rates give no finite NNT: the treatment made no difference in that trial.
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


def number_needed(rate_treated: float, rate_control: float, higher_is_better: bool = True,
                  scale: float = 100) -> NumberNeeded:
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
