"""The module 2 evidence map: every outline indication, a status and a rating, every number sourced."""

from ketamine_course import content
from ketamine_course.widgets import evidence_map

OUTLINE = {
    "Treatment-resistant depression",
    "Major depression with acute suicidal ideation or behaviour",
    "Bipolar depression",
    "Generalised anxiety disorder",
    "Social anxiety disorder",
    "Post-traumatic stress disorder",
    "Neuropathic pain",
    "Complex regional pain syndrome",
    "Treatment-resistant obsessive-compulsive disorder",
    "Postpartum depression",
    "Acute suicidal ideation in emergencies (IV racemic ketamine)",
}


def _outline_name(name: str) -> str:
    """The outline topic of a row; the postpartum row may be named as a prevention trial."""
    return "Postpartum depression" if "ostpartum" in name else name


def test_every_outline_indication_is_mapped_once():
    names = [_outline_name(i.name) for i in evidence_map.indications()]
    assert sorted(names) == sorted(OUTLINE)


def test_every_row_has_a_status_a_rating_and_verified_sources():
    for item in evidence_map.indications():
        assert item.status in evidence_map.STATUS_LABELS
        assert item.strength in evidence_map.STRENGTHS
        assert item.largest_n > 0 and item.source in item.refs
        for key in item.refs:
            assert content.reference(key).verified, f"{item.name}: {key} is not verified"


def test_only_esketamine_indications_are_approved():
    approved = {i.name for i in evidence_map.indications() if i.status == "approved"}
    assert approved == {"Treatment-resistant depression", "Major depression with acute suicidal ideation or behaviour"}


def test_plotted_numbers_match_the_cited_studies():
    numbers = {i.source: i.largest_n for i in evidence_map.indications()}
    assert numbers == {
        "reif2023_escape": 676,
        "canuso2021": 456,
        "wilkinson2018": 167,
        "diazgranados2010": 18,
        "glue2017": 12,
        "taylor2018": 18,
        "abdallah2022_ptsd": 158,
        "orhurhu2019": 211,
        "sigtermans2009": 60,
        "rodriguez2013": 15,
        "wang2024_bmj": 364,
    }


def test_table_lists_every_indication_with_links():
    table = evidence_map.table_html()
    for item in evidence_map.indications():
        assert item.name in table
    assert table.count("<tr>") == len(OUTLINE) + 1 and "https://" in table


def test_the_figure_is_labelled():
    fig = evidence_map.figure()
    ax = fig.axes[0]
    assert ax.get_title() and "Participants" in ax.get_xlabel()
    assert len(ax.patches) == len(OUTLINE)
    assert evidence_map.CAPTION and evidence_map.alt_text()
    for item in evidence_map.indications():
        assert f"{item.name} {item.largest_n}" in evidence_map.alt_text()
    import matplotlib.pyplot as plt

    plt.close(fig)
