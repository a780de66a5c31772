"""Plasma ketamine concentration over time: a two-compartment model, pure Python.

Doses in mg, weights in kg, times in hours, volumes in L, clearances in L/h; concentrations are
returned in ng/mL. Every parameter is passed in: the values and their sources live in
`content/data/m1_pk_parameters.yaml`. No numpy, no plotting, no files.

Model: a central and a peripheral compartment with linear elimination from the central one.
Intravenous doses enter the central compartment at a constant rate (an infusion); other routes
enter by first-order absorption with a bioavailable fraction F.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MG_PER_L_TO_NG_PER_ML = 1000.0


@dataclass(frozen=True)
class Disposition:
    """Two-compartment disposition for one patient: V1, V2 (L), CL, Q (L/h)."""

    v1: float
    v2: float
    cl: float
    q: float

    def rates(self):
        """(alpha, beta, k21): the fast and slow exponents (1/h) and the return rate constant."""
        k10, k12, k21 = self.cl / self.v1, self.q / self.v1, self.q / self.v2
        total, product = k10 + k12 + k21, k10 * k21
        root = math.sqrt(total * total - 4.0 * product)
        return (total + root) / 2.0, (total - root) / 2.0, k21

    def exponentials(self):
        """[(coefficient per L, exponent per h)] of the unit-dose central concentration."""
        alpha, beta, k21 = self.rates()
        return [((alpha - k21) / (alpha - beta) / self.v1, alpha), ((k21 - beta) / (alpha - beta) / self.v1, beta)]

    def half_lives(self):
        """(distribution, elimination) half-lives in hours."""
        alpha, beta, _ = self.rates()
        return math.log(2) / alpha, math.log(2) / beta

    @property
    def vss(self) -> float:
        return self.v1 + self.v2


def disposition_from_literature(
    cl_per_70kg: float, vss_per_70kg: float, t_half_alpha_h: float, t_half_beta_h: float, weight_kg: float = 70.0
) -> Disposition:
    """V1, V2 and Q from clearance, steady-state volume and the two half-lives (exact solution).

    Uses alpha*beta = k10*k21, alpha + beta = k10 + k12 + k21 and Vss = V1 * (1 + k12/k21).
    Volumes and clearances scale in proportion to body weight (a simplification).
    """
    scale = weight_kg / 70.0
    cl, vss = cl_per_70kg * scale, vss_per_70kg * scale
    alpha, beta = math.log(2) / t_half_alpha_h, math.log(2) / t_half_beta_h
    denominator = alpha + beta - vss * alpha * beta / cl
    if alpha <= beta or denominator <= 0:
        raise ValueError("these half-lives, clearance and volume do not fit a two-compartment model")
    k21 = alpha * beta / denominator
    k10 = alpha * beta / k21
    k12 = alpha + beta - k10 - k21
    if k12 <= 0:
        raise ValueError("these half-lives, clearance and volume do not fit a two-compartment model")
    v1 = cl / k10
    q = k12 * v1
    return Disposition(v1=v1, v2=q / k21, cl=cl, q=q)


def infusion_concentration(t_h: float, dose_mg: float, duration_h: float, disposition: Disposition) -> float:
    """Concentration (ng/mL) at time t after the start of a constant-rate infusion of dose_mg."""
    if t_h <= 0 or dose_mg <= 0:
        return 0.0
    if duration_h <= 0:
        return bolus_concentration(t_h, dose_mg, disposition)
    rate = dose_mg / duration_h
    during = min(t_h, duration_h)
    after = max(0.0, t_h - duration_h)
    total = sum(c / k * (1.0 - math.exp(-k * during)) * math.exp(-k * after) for c, k in disposition.exponentials())
    return rate * total * MG_PER_L_TO_NG_PER_ML


def bolus_concentration(t_h: float, dose_mg: float, disposition: Disposition) -> float:
    """Concentration (ng/mL) at time t after an instantaneous intravenous dose."""
    if t_h < 0 or dose_mg <= 0:
        return 0.0
    return dose_mg * sum(c * math.exp(-k * t_h) for c, k in disposition.exponentials()) * MG_PER_L_TO_NG_PER_ML


def absorption_concentration(
    t_h: float, dose_mg: float, bioavailability: float, ka_per_h: float, disposition: Disposition
) -> float:
    """Concentration (ng/mL) at time t after an extravascular dose with first-order absorption."""
    if t_h <= 0 or dose_mg <= 0 or bioavailability <= 0:
        return 0.0
    total = 0.0
    for c, k in disposition.exponentials():
        if abs(ka_per_h - k) < 1e-9:
            total += c * ka_per_h * t_h * math.exp(-k * t_h)
        else:
            total += c * ka_per_h * (math.exp(-k * t_h) - math.exp(-ka_per_h * t_h)) / (ka_per_h - k)
    return bioavailability * dose_mg * total * MG_PER_L_TO_NG_PER_ML


def one_compartment_bolus(t_h: float, dose_mg: float, volume_l: float, clearance_l_per_h: float) -> float:
    """Concentration (ng/mL) after a bolus into a single compartment: C0 * exp(-CL/V * t)."""
    return dose_mg / volume_l * math.exp(-clearance_l_per_h / volume_l * t_h) * MG_PER_L_TO_NG_PER_ML


def auc_infinity(dose_mg: float, bioavailability: float, disposition: Disposition) -> float:
    """Area under the curve to infinity (ng*h/mL): F * dose / CL."""
    return bioavailability * dose_mg / disposition.cl * MG_PER_L_TO_NG_PER_ML


def trapezoid_auc(times, concentrations) -> float:
    """Area under sampled points by the trapezoid rule (same units as the inputs' product)."""
    pairs = list(zip(times, concentrations))
    return sum((t1 - t0) * (c0 + c1) / 2.0 for (t0, c0), (t1, c1) in zip(pairs, pairs[1:]))


def time_to_peak(ka_per_h: float, disposition: Disposition, horizon_h: float = 12.0, step_h: float = 0.001) -> float:
    """Time (h) of the highest concentration after an extravascular dose (grid search)."""
    best_t, best_c, t = 0.0, -1.0, step_h
    while t <= horizon_h:
        c = absorption_concentration(t, 1.0, 1.0, ka_per_h, disposition)
        if c > best_c:
            best_t, best_c = t, c
        elif c < best_c:  # past the single peak
            break
        t += step_h
    return best_t


def ka_for_tmax(tmax_h: float, disposition: Disposition) -> float:
    """The absorption rate constant (1/h) that puts the peak at tmax_h (faster ka, earlier peak)."""
    lo, hi = 0.01, 500.0
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        if time_to_peak(mid, disposition) > tmax_h:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


@dataclass(frozen=True)
class Route:
    """How a dose enters: an infusion (bioavailability 1) or first-order absorption."""

    key: str
    label: str
    bioavailability: float
    tmax_h: float | None = None  # extravascular routes: the published time to peak
    infusion: bool = False


def time_course(
    route: Route,
    dose_mg: float,
    disposition: Disposition,
    duration_h: float = 0.0,
    ka_per_h: float | None = None,
    end_h: float = 6.0,
    step_h: float = 1.0 / 60.0,
):
    """([times in h], [concentrations in ng/mL]) from 0 to end_h."""
    n = int(round(end_h / step_h))
    times = [i * step_h for i in range(n + 1)]
    if route.infusion:
        conc = [infusion_concentration(t, dose_mg, duration_h, disposition) for t in times]
    else:
        ka = ka_per_h if ka_per_h is not None else ka_for_tmax(route.tmax_h, disposition)
        conc = [absorption_concentration(t, dose_mg, route.bioavailability, ka, disposition) for t in times]
    return times, conc


def bioavailable_dose(dose_mg: float, bioavailability: float) -> float:
    """The part of a dose that reaches the circulation (mg)."""
    return dose_mg * bioavailability


def intervals_above(times, concentrations, threshold: float):
    """[(start, end)] time intervals (h) where the concentration is at or above threshold."""
    spans, start = [], None
    for t, c in zip(times, concentrations):
        if c >= threshold and start is None:
            start = t
        elif c < threshold and start is not None:
            spans.append((start, t))
            start = None
    if start is not None:
        spans.append((start, times[-1]))
    return spans
