"""The credit facts as Start here shows them and as the README states them: both made from credit.yaml."""

from ketamine_course.content import credit_facts, question_banks
from ketamine_course.widgets import course_card

from conftest import REPO


def test_the_readme_states_the_credit_facts_as_credit_yaml_has_them():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start, end = readme.index(course_card.README_START), readme.index(course_card.README_END)
    assert readme[start : end + len(course_card.README_END)] == course_card.readme_markdown(), (
        "README.md's credit facts are out of date: replace the block between the two markers with "
        "ketamine_course.widgets.course_card.readme_markdown()"
    )


def test_the_start_here_card_shows_every_fact_in_plain_language():
    facts, card = credit_facts(), course_card.card_html()
    for expected in (
        "not accredited",
        "Released 1 December 2026",
        "reviewed by 1 December 2027",
        "evidence is current to 1 December 2026",
        f"estimated {facts.hours:g} hours; no credit is designated",
        f"passed at {facts.pass_mark:g}%",
        "Course clinical author",
        "no financial relationships to disclose",
        "Commercial support: none",
        "Off-label in US, EU, UK",
        "Education, not medical advice",
    ):
        assert expected in card, expected
    for bank in question_banks().values():
        assert all(objective.text.replace("'", "&#x27;") in card for objective in bank.objectives)
    assert "role='region'" in card


def test_start_here_shows_the_card_in_one_call():
    notebook = (REPO / "course" / "00_start_here.ipynb").read_text(encoding="utf-8")
    assert notebook.count('"ui.course_card()"') == 1
