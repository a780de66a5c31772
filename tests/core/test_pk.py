"""The pharmacokinetic model against hand-worked values and a published peak; the explorer's logic."""

import math

import pytest

from ketamine_course.content import dataset
from ketamine_course.content.models import DataSet
from ketamine_course.core import pk
from ketamine_course.widgets import pk_explorer


def literature_disposition(weight=70.0):
    p = pk_explorer.parameters()
    return pk.disposition_from_literature(p.cl, p.vss, p.t_half_alpha_h, p.t_half_beta_h, weight)


# --- hand-worked values ------------------------------------------------------------------------


def test_one_compartment_bolus_halves_after_one_half_life():
    volume, clearance = 252.0, 79.0  # L and L/h
    half_life = math.log(2) * volume / clearance  # about 2.2 h
    c0 = pk.one_compartment_bolus(0.0, 35.0, volume, clearance)
    assert c0 == pytest.approx(35.0 / 252.0 * 1000)  # 138.9 ng/mL
    assert pk.one_compartment_bolus(half_life, 35.0, volume, clearance) == pytest.approx(c0 / 2)
    assert half_life == pytest.approx(2.21, abs=0.01)


def test_one_compartment_end_of_infusion_matches_hand_calculation():
    """The one-compartment check in the evidence notes: about 125 ng/mL, too low against 185."""
    rate, cl, v, t = 52.5, 79.0, 252.0, 40 / 60  # mg/h for 35 mg over 40 min
    by_hand = rate / cl * (1 - math.exp(-cl / v * t)) * 1000
    assert by_hand == pytest.approx(125, abs=1)


def test_two_compartment_solution_reproduces_its_inputs():
    d = literature_disposition()
    assert d.cl == pytest.approx(79.0)
    assert d.vss == pytest.approx(252.0)
    alpha_half, beta_half = d.half_lives()
    assert alpha_half * 60 == pytest.approx(12.5)
    assert beta_half == pytest.approx(2.5)


def test_two_compartment_bolus_with_no_distribution_is_one_compartment():
    d = pk.Disposition(v1=252.0, v2=1e-9 + 1e-6, cl=79.0, q=1e-9)
    half_life = math.log(2) * 252.0 / 79.0
    c0 = pk.bolus_concentration(0.0, 35.0, d)
    assert pk.bolus_concentration(half_life, 35.0, d) == pytest.approx(c0 / 2, rel=1e-4)


@pytest.mark.parametrize(
    "route, bioavailability, tmax", [("oral", 0.2, 0.75), ("sublingual", 0.29, 0.75), ("esketamine", 0.48, 0.5)]
)
def test_auc_equals_bioavailable_dose_over_clearance(route, bioavailability, tmax):
    d = literature_disposition()
    ka = pk.ka_for_tmax(tmax, d)
    step, end = 0.01, 80.0
    times = [i * step for i in range(int(end / step) + 1)]
    conc = [pk.absorption_concentration(t, 100.0, bioavailability, ka, d) for t in times]
    expected = bioavailability * 100.0 / 79.0 * 1000  # ng*h/mL
    assert pk.auc_infinity(100.0, bioavailability, d) == pytest.approx(expected)
    assert pk.trapezoid_auc(times, conc) == pytest.approx(expected, rel=0.01)


def test_infusion_auc_equals_dose_over_clearance():
    d = literature_disposition()
    step = 0.01
    times = [i * step for i in range(int(80 / step) + 1)]
    conc = [pk.infusion_concentration(t, 35.0, 40 / 60, d) for t in times]
    assert pk.trapezoid_auc(times, conc) == pytest.approx(35.0 / 79.0 * 1000, rel=0.01)


def test_ka_for_tmax_puts_the_peak_where_asked():
    d = literature_disposition()
    for tmax in (0.25, 0.5, 0.75, 1.5):
        assert pk.time_to_peak(pk.ka_for_tmax(tmax, d), d) == pytest.approx(tmax, abs=0.01)


def test_bioavailable_dose():
    assert pk.bioavailable_dose(50.0, 0.29) == pytest.approx(14.5)


def test_concentrations_are_zero_before_dosing_and_for_no_dose():
    d = literature_disposition()
    assert pk.infusion_concentration(0.0, 35.0, 0.5, d) == 0.0
    assert pk.absorption_concentration(1.0, 0.0, 0.5, 2.0, d) == 0.0
    assert pk.infusion_concentration(-1.0, 35.0, 0.5, d) == 0.0


def test_impossible_parameters_are_refused():
    with pytest.raises(ValueError):
        pk.disposition_from_literature(79.0, 252.0, 3.0, 2.5)  # "distribution" slower than elimination


def test_intervals_above_threshold():
    times = [0, 1, 2, 3, 4]
    assert pk.intervals_above(times, [0, 5, 5, 0, 5], 5) == [(1, 3), (4, 4)]
    assert pk.intervals_above(times, [0, 1, 2, 1, 0], 5) == []


# --- against published data ------------------------------------------------------------------


PUBLISHED_PEAK = 185.0  # ng/mL, 0.5 mg/kg over 40 min (zanos2018_pr, Table 1)
TOLERANCE = 0.25  # the model is a population-average sketch: +-25%


@pytest.mark.parametrize("weight", [50.0, 70.0, 110.0])
def test_peak_at_end_of_standard_infusion_is_near_the_published_value(weight):
    d = literature_disposition(weight)
    peak = pk.infusion_concentration(40 / 60, 0.5 * weight, 40 / 60, d)
    assert peak == pytest.approx(PUBLISHED_PEAK, rel=TOLERANCE)
    assert pk_explorer.parameters().validation_peak == PUBLISHED_PEAK


def test_infusion_peaks_at_the_end_of_the_infusion():
    s = pk_explorer.scenario("iv", 0.5, 70, 40)
    assert s.peak_time_h == pytest.approx(40 / 60, abs=0.04)


# --- data files and the explorer's logic ------------------------------------------------------


@pytest.mark.parametrize("name", ["m1_pk_parameters", "m1_time_windows", "m1_mechanism_steps"])
def test_module_data_files_have_a_source_on_every_row(name):
    data = dataset(name)
    assert isinstance(data, DataSet)
    from ketamine_course.content import reference

    for row in data.rows:
        assert reference(row.source).verified


def test_intramuscular_draws_no_curve_because_its_numbers_are_unconfirmed():
    s = pk_explorer.scenario("im", 0.5, 70)
    assert not pk_explorer.route_has_curve("im")
    assert s.peak == 0.0
    assert "could not confirm" in s.caption
    assert [w[0] for w in s.windows] == ["observation"]


def test_esketamine_windows_come_from_the_label_and_trials():
    s = pk_explorer.scenario("intranasal_esketamine", 56, 70)
    kinds = {w[0]: w for w in s.windows}
    assert kinds["blood_pressure"][3] == pytest.approx(0.67)  # peak about 40 min
    assert kinds["observation"][1:3] == (0.0, 2.0)
    assert s.dose_mg == 56  # esketamine is dosed in mg, whatever the weight
    assert s.peak_time_h == pytest.approx(0.5, abs=0.04)


def test_iv_windows_follow_the_infusion_and_the_dissociation_range():
    s = pk_explorer.scenario("iv", 0.5, 70, 40)
    kinds = [w[0] for w in s.windows]
    assert kinds.count("dissociation") == 1 and "blood_pressure" in kinds
    observation = next(w for w in s.windows if w[0] == "observation")
    assert observation[1:3] == pytest.approx((40 / 60, 40 / 60 + 2))
    low = pk_explorer.parameters().dissociation_low
    start, end = next(w for w in s.windows if w[0] == "dissociation")[1:3]
    inside = [c for t, c in zip(s.times, s.conc) if start <= t < end]
    assert min(inside) >= low


def test_oral_dose_stays_below_the_dissociation_range_and_says_so():
    s = pk_explorer.scenario("oral", 0.5, 70)
    assert "dissociation" not in [w[0] for w in s.windows]
    assert "stays below" in s.caption and "norketamine" in s.caption
    assert "No cited source gives a blood-pressure window" in s.caption


def test_caption_and_alt_text_change_with_the_settings():
    a = pk_explorer.scenario("iv", 0.5, 70, 40)
    b = pk_explorer.scenario("iv", 0.8, 70, 40)
    assert a.caption != b.caption and a.alt != b.alt
    assert "35 mg for 70 kg" in a.caption and "56 mg for 70 kg" in b.caption
    assert f"{a.peak:.0f} ng/mL" in a.alt


def test_mg_per_kg_dosing_gives_weight_independent_levels():
    """Volumes and clearance scale with weight in this model, so mg/kg doses give the same curve."""
    light, heavy = pk_explorer.scenario("iv", 0.5, 50, 40), pk_explorer.scenario("iv", 0.5, 120, 40)
    assert light.peak == pytest.approx(heavy.peak)


def test_fixed_esketamine_dose_gives_lower_levels_in_heavier_patients():
    light = pk_explorer.scenario("intranasal_esketamine", 56, 50)
    heavy = pk_explorer.scenario("intranasal_esketamine", 56, 120)
    assert light.peak > heavy.peak


def test_explorer_widget_redraws_on_change():
    explorer = pk_explorer.Explorer()
    first = explorer.output.value
    explorer.route.value = "sublingual"
    assert explorer.output.value != first
    assert explorer.infusion.layout.display == "none"
    explorer.route.value = "intranasal_esketamine"
    assert explorer.dose_kg.layout.display == "none" and explorer.dose_mg.layout.display is None
    assert 'alt="' in explorer.output.value and "<figcaption>" in explorer.output.value


def test_esketamine_doses_are_the_fixed_doses_of_the_data_file():
    explorer = pk_explorer.Explorer()
    assert list(explorer.dose_mg.options) == list(pk_explorer.parameters().esketamine_doses) == [28, 56, 84]
    assert explorer.dose_mg.value == 56


def test_captions_of_routes_without_a_curve_take_their_numbers_from_the_data_files():
    rows = {r.route: r for r in dataset("m1_pk_parameters").rows if getattr(r, "route", None)}
    for route in ("im", "intranasal_racemic"):
        caption = pk_explorer.scenario(route, 0.5, 70).caption
        assert rows[route].caption in caption
        assert "Observation: at least 2 hours as a reference (US esketamine label)." in caption


# --- December 2026 revision: model assumptions are said to be assumptions ----------------------


def test_intranasal_racemic_shows_the_published_range_and_no_curve():
    s = pk_explorer.scenario("intranasal_racemic", 0.5, 70)
    assert not pk_explorer.route_has_curve("intranasal_racemic")
    assert s.peak == 0.0
    low, high, keys = pk_explorer.parameters().bioavailability_ranges["intranasal_racemic"]
    assert (low, high) == (0.11, 0.45)
    assert {"intranasal_pk2022", "yanagihara2003"} <= set(keys)
    assert "11% to 45%" in s.caption and "does not pick one value" in s.caption
    # 35 mg x 11% = 3.85 mg and x 45% = 15.75 mg: the boundaries of the range are printed rounded
    assert "about 4 to 16 mg" in s.caption
    assert "varies too widely" in s.alt


def test_oral_caption_does_not_teach_below_the_band_as_safe():
    s = pk_explorer.scenario("oral", 0.5, 70)
    assert "does not make the dose safe" in s.caption
    assert "norketamine" in s.caption and "October 2023" in s.caption and "FDA 2023" in s.caption


def test_fixed_esketamine_dose_caption_names_weight_scaling_as_an_assumption():
    s = pk_explorer.scenario("intranasal_esketamine", 56, 120)
    assert "fixed dose" in s.caption and "assumption" in s.caption
    assert "weight_scaling" not in s.caption
    assert "assumption" in pk_explorer.parameters().weight_scaling_note


def test_weight_note_appears_only_away_from_the_reference_weight():
    assert "model assumption" not in pk_explorer.scenario("iv", 0.5, 70, 40).caption
    assert "model assumption" in pk_explorer.scenario("iv", 0.5, 71, 40).caption


def test_blood_pressure_windows_carry_the_label_proportions():
    iv = pk_explorer.scenario("iv", 0.5, 70, 40).caption
    esk = pk_explorer.scenario("intranasal_esketamine", 56, 70).caption
    for caption in (iv, esk):
        assert "8% of patients under 65" in caption and "17%" in caption
    assert "one retrospective series" in iv


def test_dissociation_band_is_drawn_from_the_data_file():
    p = pk_explorer.parameters()
    plot = pk_explorer.Plot()
    assert plot.band_range == (p.dissociation_low, p.dissociation_high)
    s = pk_explorer.scenario("iv", 0.5, 70, 40)
    plot.draw(s, True, (120.0, 300.0))  # a changed range replaces the band
    assert plot.band_range == (120.0, 300.0)


def test_observation_window_for_racemic_routes_says_it_is_borrowed_from_esketamine():
    assert "no label sets one" in pk_explorer.scenario("iv", 0.5, 70, 40).caption
    assert "no label sets one" not in pk_explorer.scenario("intranasal_esketamine", 56, 70).caption


def test_blood_pressure_captions_warn_that_a_large_rise_can_follow_any_dose_and_cite_the_series():
    esk = pk_explorer.scenario("intranasal_esketamine", 56, 70).caption
    iv = pk_explorer.scenario("iv", 0.5, 70, 40).caption
    assert "any dose" in esk
    assert "drawing simplification" in iv and "Riva-Posse" in iv  # the IV caveat cites the series it describes


def test_oral_caption_says_its_time_to_peak_is_borrowed():
    assert "borrows the sublingual" in pk_explorer.scenario("oral", 0.5, 70).caption
    assert "borrows the sublingual" not in pk_explorer.scenario("sublingual", 0.5, 70).caption
