"""Module 4's adverse-effect data, chart and long-term-risk table."""

import pytest

from ketamine_course import content
from ketamine_course.widgets import adverse_effect_charts

OUTLINE_SHORT_TERM = [
    "nausea and vomiting",
    "dissociation",
    "blood pressure and heart rate changes",
    "dizziness and light-headedness",
    "hallucinations and visual disturbance",
    "raised intracranial pressure",
    "blurred vision",
    "disorientation and confusion",
]
LABEL_TABLE = {
    "Dissociation": (41, 9),
    "Dizziness": (29, 8),
    "Nausea": (28, 9),
    "Sedation": (23, 9),
    "Vomiting": (9, 2),
}


def test_every_row_has_a_verified_source():
    for name in (adverse_effect_charts.SHORT_TERM, adverse_effect_charts.LONG_TERM):
        for row in content.dataset(name).rows:
            for key in [row.source, *getattr(row, "also", [])]:
                assert content.reference(key).verified, f"{name}: {key}"


def test_every_short_term_effect_of_the_outline_has_a_row():
    topics = {
        getattr(r, "outline_topic", None)
        for r in adverse_effect_charts.frequency_rows(True) + adverse_effect_charts.frequency_rows(False)
    }
    assert set(OUTLINE_SHORT_TERM) <= topics


def test_label_frequencies_are_the_label_table():
    plotted = {r.effect: (r.drug_pct, r.placebo_pct) for r in adverse_effect_charts.frequency_rows()}
    for effect, numbers in LABEL_TABLE.items():
        assert plotted[effect] == numbers
    for r in adverse_effect_charts.frequency_rows():
        assert 0 <= r.placebo_pct <= 100 and 0 <= r.drug_pct <= 100
        assert not r.approximate  # read from tables, not off figures


def test_unplotted_rows_say_what_is_reported():
    for r in adverse_effect_charts.frequency_rows(plotted=False):
        assert r.frequency_text.strip()


def test_time_course_rows_are_consistent():
    rows = adverse_effect_charts.time_course_rows()
    assert rows
    for r in rows:
        start, end, peak = (getattr(r, k, None) for k in ("start_min", "end_min", "peak_min"))
        assert (start is not None and end is not None) or peak is not None
        if start is not None:
            assert 0 <= start < end
    bp = next(r for r in rows if r.effect.startswith("Blood-pressure rise (esketamine)"))
    assert bp.peak_min == 40 and bp.source == "spravato_uspi"


def test_the_strip_s_reference_lines_are_rows_of_the_data_file():
    lines = {r.minute: r for r in adverse_effect_charts.reference_lines()}
    assert sorted(lines) == [40, 120] and {r.source for r in lines.values()} == {"spravato_uspi"}
    fig = adverse_effect_charts.time_course_figure()
    assert [t.get_text() for t in fig.axes[0].texts] == [lines[40].label, lines[120].label]
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_long_term_table_covers_the_outline():
    risks = " ".join(r.risk.lower() for r in adverse_effect_charts.long_term_rows())
    for word in ("dependence", "cognitive", "uropathy", "kidney", "liver", "psychosis", "mania"):
        assert word in risks
    for r in adverse_effect_charts.long_term_rows():
        assert r.known and r.in_whom and r.monitor
    html = adverse_effect_charts.long_term_html()
    assert html.count("<tr>") == 1 + len(adverse_effect_charts.long_term_rows())


@pytest.mark.parametrize("make", [adverse_effect_charts.profile_figure, adverse_effect_charts.time_course_figure])
def test_figures_have_title_and_axis_labels(make):
    fig = make()
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel()
    assert "%" in ax.get_xlabel() or "Minutes" in ax.get_xlabel()
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_the_chart_holds_one_population_only():
    """Every plotted row comes from the US label's pooled short-term TRD table; other populations are text rows
    that name their population."""
    for r in adverse_effect_charts.frequency_rows():
        assert r.source == "spravato_uspi_2021" and "short-term TRD" in r.product, r.effect
    others = [
        r
        for r in adverse_effect_charts.frequency_rows(plotted=False)
        if r.source in ("canuso2021", "daly2019_sustain1")
    ]
    assert len(others) == 2 and all("different population" in r.product for r in others)


def test_dissociation_is_given_against_placebo_and_not_as_a_sign_of_efficacy():
    row = next(
        r
        for r in adverse_effect_charts.frequency_rows(plotted=False)
        if r.outline_topic == "hallucinations and visual disturbance"
    )
    assert "61-84%" in row.frequency_text and "5-16% on placebo" in row.frequency_text
    assert "not a sign that treatment works" in row.frequency_text
    assert {"chen2022_dissociation", "mathai2023_dissociation"} <= set(row.also)
    # the placebo range is the manufacturer's summary, not label text, and the range spans populations
    assert "spravato_medinfo_2024" in row.also and "no placebo rate" in row.frequency_text
    assert "not the chart's population alone" in row.frequency_text


def test_plotted_label_numbers_cite_the_revision_read():
    """The pooled table was read in the 2021 revision: the plotted rows and the caption say so."""
    from ketamine_course.widgets.adverse_effect_charts import tag

    assert {r.source for r in adverse_effect_charts.frequency_rows()} == {"spravato_uspi_2021"}
    assert tag("spravato_uspi_2021") == "US label 2021"
    hyp = next(r for r in adverse_effect_charts.frequency_rows(plotted=False) if "hypoaesthesia" in r.effect.lower())
    assert "18%" in hyp.frequency_text and "spravato_uspi_2021" in hyp.also


def test_the_label_common_reactions_vertigo_and_hypoaesthesia_are_listed():
    effects = " ".join(
        r.effect.lower()
        for r in adverse_effect_charts.frequency_rows(True) + adverse_effect_charts.frequency_rows(False)
    )
    assert "vertigo" in effects and "hypoaesthesia" in effects


def test_the_raised_icp_row_gives_both_contraindication_lists():
    row = next(
        r
        for r in adverse_effect_charts.frequency_rows(plotted=False)
        if r.outline_topic == "raised intracranial pressure"
    )
    text = row.frequency_text
    for phrase in ("within the last 6 weeks", "resuscitation equipment", "hypertensive encephalopathy", "US:", "EU:"):
        assert phrase in text, phrase


def test_long_term_advice_no_source_gives_is_marked_course_advice():
    rows = {r.risk: r for r in adverse_effect_charts.long_term_rows()}
    cognitive = next(r for k, r in rows.items() if k.startswith("Cognitive"))
    liver = next(r for k, r in rows.items() if k.startswith("Liver"))
    assert "Course advice" in cognitive.monitor and "Course advice" in liver.monitor
    dependence = next(r for k, r in rows.items() if "dependence" in k.lower())
    assert "no withdrawal symptoms" in dependence.known
