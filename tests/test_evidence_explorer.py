"""Module 3's evidence explorer: filters, table, plots and the data behind them."""
import itertools

import pytest

from ketamine_course import content, evidence_explorer as ee

ROWS = ee.load_rows()


def test_every_row_has_a_verified_source_and_the_fields_the_table_needs():
    for name in ("m3_trials", "m3_time_course"):
        for row in ee.load_rows(name):
            assert row["source"], row
            assert content.reference(row["source"]).verified, row["source"]
    for row in ROWS:
        for field in ("trial", "indication", "design", "comparator", "comparator_type", "outcome",
                      "outcome_detail", "timepoint", "finding"):
            assert row.get(field), (row["id"], field)


def test_filters_select_the_right_rows():
    ptsd = ee.filter_rows(ROWS, indication="PTSD")
    assert {r["id"] for r in ptsd} == {"feder2014", "feder2021", "abdallah2022"}
    active = ee.filter_rows(ROWS, comparator_type="active treatment")
    assert {r["id"] for r in active} == {"escape_trd", "elektd", "ketect"}
    both = ee.filter_rows(ROWS, indication="Treatment-resistant depression", comparator_type="active placebo")
    assert {r["id"] for r in both} == {"murrough2013", "wilkinson2019_midazolam", "karmadep2"}
    relapse = ee.filter_rows(ROWS, outcome="relapse")
    assert {r["id"] for r in relapse} == {"sustain1_remitters", "sustain1_responders"}
    assert ee.filter_rows(ROWS) == ROWS
    assert ee.filter_rows(ROWS, indication="PTSD", outcome="relapse") == []


def test_options_start_with_all_and_cover_the_other_indications():
    indications = ee.options(ROWS, "indication")
    assert indications[0] == ee.ALL
    for needed in ("Bipolar depression", "PTSD", "OCD", "Perinatal depression", "Chronic pain (CRPS)",
                   "Anxiety disorders", "Depression with suicidal ideation"):
        assert needed in indications


def test_nnt_column_uses_the_rounding_up_convention():
    by_id = {r["id"]: r for r in ROWS}
    assert ee.number_needed_text(by_id["elektd"]) == "NNT 8"
    assert ee.number_needed_text(by_id["sustain1_remitters"]) == "NNT 6"
    assert ee.number_needed_text(by_id["ketect"]) == "NNH 6"
    assert ee.number_needed_text(by_id["newport2015"]) == "—"


def test_table_lists_each_row_with_a_linked_source():
    html = ee.table_html(ROWS)
    assert html.count("<tr>") == len(ROWS) + 1
    assert "doi.org" in html or "pubmed" in html
    assert "No trial matches" in ee.table_html([])


CHOICES = [ee.options(ROWS, f) for f in ee.FILTERS]


@pytest.mark.parametrize("indication, comparator, outcome", [
    combo for combo in itertools.product(*CHOICES)
    if ee.filter_rows(ROWS, *combo) or combo == (ee.ALL, ee.ALL, ee.ALL)
])
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


def test_widget_builds_and_redraws(monkeypatch):
    box = ee.show()
    dropdowns = box.children[1].children
    dropdowns[0].value = "PTSD"
    dropdowns[0].value = ee.ALL


def test_importing_the_package_does_not_import_matplotlib():
    import subprocess
    import sys
    code = "import sys, ketamine_course.evidence_explorer, ketamine_course.evidence; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
