"""Module 3's evidence explorer: filters, table, plots and the data behind them."""

import itertools

import pytest

from ketamine_course import content
from ketamine_course.widgets import evidence_explorer as ee

ROWS = ee.load_rows()


def test_every_row_has_a_verified_source_and_the_fields_the_table_needs():
    for name in ("m3_trials", "m3_time_course", "m3_harms"):
        for row in ee.load_rows(name):
            assert row["source"], row
            assert content.reference(row["source"]).verified, row["source"]
    for row in ROWS:
        for field in (
            "trial",
            "indication",
            "design",
            "comparator",
            "comparator_type",
            "outcome",
            "outcome_detail",
            "timepoint",
            "finding",
        ):
            assert row.get(field), (row["id"], field)


def test_filters_select_the_right_rows():
    ptsd = ee.filter_rows(ROWS, indication="PTSD")
    assert {r["id"] for r in ptsd} == {"feder2014", "feder2021", "abdallah2022"}
    active = ee.filter_rows(ROWS, comparator_type="active treatment")
    assert {r["id"] for r in active} == {"escape_trd", "elektd", "ketect"}
    both = ee.filter_rows(ROWS, indication="Treatment-resistant depression", comparator_type="active placebo")
    assert {r["id"] for r in both} == {"murrough2013"}
    relapse = ee.filter_rows(ROWS, outcome="relapse")
    assert {r["id"] for r in relapse} == {"sustain1_remitters", "sustain1_responders"}
    assert ee.filter_rows(ROWS) == ROWS
    assert ee.filter_rows(ROWS, indication="PTSD", outcome="relapse") == []


def test_options_start_with_all_and_cover_the_other_indications():
    indications = ee.options(ROWS, "indication")
    assert indications[0] == ee.ALL
    for needed in (
        "Bipolar depression",
        "PTSD",
        "OCD",
        "Perinatal depression (prevention after delivery)",
        "Chronic pain (CRPS)",
        "Chronic pain (mixed types)",
        "Anxiety disorders",
        "Depression with suicidal ideation",
        "Major depression, inpatients",
        "Depression (pooled trials)",
    ):
        assert needed in indications


def test_the_indication_filter_keeps_populations_apart():
    trd = {r["id"] for r in ee.filter_rows(ROWS, indication="Treatment-resistant depression")}
    # Not TRD populations: inpatients (KetECT, KARMA-Dep 2), surgical patients (Lii), pooled trials (Wilkinson).
    assert not trd & {"ketect", "karmadep2", "lii2023", "wilkinson2019_midazolam", "wilkinson2019_saline"}
    # The esketamine programme is taught with its failed trials beside the positive one.
    assert {"transform1", "transform2", "takahashi2021", "janik2025"} <= trd
    crps = {r["id"] for r in ee.filter_rows(ROWS, indication="Chronic pain (CRPS)")}
    assert crps == {"sigtermans2009"}


def test_rows_whose_papers_report_intervals_show_them():
    by_id = {r["id"]: r for r in ROWS}
    for key in ("transform2", "transform1", "aspire2", "orhurhu2019", "newport2015"):
        assert "(95% CI" in ee.result_text(by_id[key]), key
    assert "CI not reported" not in ee.table_html(ROWS)
    # A missing interval is explained in the row, not left silent.
    assert by_id["janik2025"]["ci_note"] and "see the note" in ee.result_text(by_id["janik2025"])


def test_nnt_column_gives_the_interval_and_the_flags():
    by_id = {r["id"]: r for r in ROWS}
    text = ee.number_needed_text
    # From arm counts (Newcombe): SUSTAIN-1 remitters 24/90 vs 39/86.
    assert text(by_id["sustain1_remitters"]) == "NNT 6 (95% CI 4 to 23)"
    assert text(by_id["wang2024"]) == "NNT 6 (95% CI 4 to 9)"
    # From the paper's CI of the difference; a non-inferiority trial's NNT is descriptive.
    assert text(by_id["elektd"]).startswith("NNT favouring ketamine/esketamine 8 (95% CI 5 to 26)")
    assert "non-inferiority" in text(by_id["elektd"])
    # Two active treatments: ECT's NNT over ketamine, never an NNH.
    assert text(by_id["ketect"]).startswith("NNT favouring ECT 6 (95% CI 4 to 50)")
    assert all("NNH" not in text(r) for r in ROWS if r["comparator_type"] == "active treatment")
    # A non-significant result gets no clean NNT.
    assert text(by_id["lii2023"]).startswith("no NNT") and "not significant" in text(by_id["lii2023"])
    # Crossover "response at any time" counts: no NNT.
    for key in ("diazgranados2010", "zarate2012"):
        assert text(by_id[key]).startswith("no NNT") and "any time" in text(by_id[key])
    assert text(by_id["murrough2013"]) == "NNT 3 (95% CI 2 to 9)"
    # No counts and no interval: the NNT is shown, and the missing CI is said.
    assert text(by_id["feder2021"]) == "NNT 3 (no 95% CI: arm counts not recorded)"
    assert text(by_id["newport2015"]) == "—"
    # A row that explains its missing interval points to its note instead of blaming missing counts.
    assert text(by_id["abbar2022"]) == "NNT 4 (no 95% CI: see the note)"
    assert text(by_id["grunebaum2018"]) == "NNT 4 (no 95% CI: see the note)"
    # ESCAPE-TRD: an unadjusted interval from the raw counts, said so in the row's note.
    assert text(by_id["escape_trd"]) == "NNT favouring ketamine/esketamine 11 (95% CI 7 to 32)"
    assert "unadjusted" not in by_id["escape_trd"]["finding"] and "adjusted" in by_id["escape_trd"]["ci_note"]


def test_a_difference_whose_interval_crosses_zero_is_marked_not_significant():
    row = {
        "rate_treatment": 60,
        "rate_comparator": 50,
        "events_treatment": 12,
        "n_treatment": 20,
        "events_comparator": 10,
        "n_comparator": 20,
        "comparator_type": "placebo",
        "higher_is_better": True,
    }
    out = ee.number_needed_text(row)
    assert out.startswith("not significant") and "NNTB" in out and "∞" in out and "NNTH" in out


def test_harms_are_numbers_needed_to_harm_with_intervals():
    harms = {h["id"]: h for h in ee.harm_rows()}
    assert harms["dissociation"]["nnh_text"] == "NNH 4 (95% CI 3 to 5)"
    assert harms["vomiting"]["nnh_text"] == "NNH 14 (95% CI 9 to 28)"
    # Systolic rise of 40 mmHg or more, by age: more often at 65 and over.
    young, old = harms["sbp40_under65"], harms["sbp40_65plus"]
    assert young["interval"].point.value == 13 and old["interval"].point.value == 7
    assert {"dissociation", "dizziness", "nausea", "sedation", "vomiting"} <= set(harms)
    html = ee.harms_table_html()
    assert html.count("<tr>") == len(harms) + 1 and "142/346" in html
    for h in harms.values():
        assert content.reference(h["source"]).verified
    # The adverse-reaction pool (N=346 vs 222) is the trials in adults under 65, never "all ages";
    # counts come from a named label revision, not from the current one that was not read.
    assert all(h["group"].startswith("Under 65") for h in harms.values() if h["n_treatment"] == 346)
    assert harms["sbp40_65plus"]["n_treatment"] == 72 and harms["sbp40_65plus"]["group"] == "65 and over"
    assert {h["source"] for h in harms.values()} == {"spravato_uspi_2021"}
    assert "2021 revision" in html and "under 65" in html


def test_table_lists_each_row_with_a_linked_source():
    html = ee.table_html(ROWS)
    assert html.count("<tr>") == len(ROWS) + 1
    assert "doi.org" in html or "pubmed" in html
    assert "No trial matches" in ee.table_html([])


CHOICES = [ee.options(ROWS, f) for f in ee.FILTERS]


@pytest.mark.parametrize(
    "indication, comparator, outcome",
    [
        combo
        for combo in itertools.product(*CHOICES)
        if ee.filter_rows(ROWS, *combo) or combo == (ee.ALL, ee.ALL, ee.ALL)
    ],
)
def test_plots_draw_for_every_filter_that_selects_rows(indication, comparator, outcome):
    import matplotlib.pyplot as plt

    rows = ee.filter_rows(ROWS, indication, comparator, outcome)
    drawn = [made for made in (ee.rate_figure(rows), ee.forest_figure(rows)) if made is not None]
    plottable = [r for r in rows if r.get("effect") or r.get("rate_treatment") is not None]
    assert bool(drawn) == bool(plottable), "a plot is drawn whenever a selected row has numbers to plot"
    for fig, caption, alt in drawn:
        assert fig.axes and all(ax.get_xlabel() for ax in fig.axes)
        assert fig._suptitle is not None or any(ax.get_title() for ax in fig.axes)
        assert caption.strip() and alt.strip()
        plt.close(fig)


def test_plots_of_an_empty_selection_are_skipped():
    assert ee.rate_figure([]) is None and ee.forest_figure([]) is None


def test_time_course_has_labelled_axes_caption_and_alt():
    import matplotlib.pyplot as plt

    fig, caption, alt = ee.time_course_figure()
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert "Kishimoto" in caption and alt
    plt.close(fig)


def test_time_course_alt_text_gives_every_plotted_number_from_the_data_file():
    rows = ee.load_rows("m3_time_course")
    alt = ee.time_course_alt(rows)
    for r in rows:
        if "percent" in r:
            assert f"{r['percent']:.0f}% " in alt and f"at day {r['day']:g}" in alt, r["label"]


def test_widget_builds_and_redraws(monkeypatch):
    box = ee.show()
    dropdowns = box.children[1].children
    dropdowns[0].value = "PTSD"
    dropdowns[0].value = ee.ALL
