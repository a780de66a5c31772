"""content/credit.yaml: the facts continuing education asks for, checked against their schema and the course."""

import json
import re

import pytest
import yaml

from ketamine_course import content
from ketamine_course.content.models import CreditFacts

from conftest import REPO

CREDIT = yaml.safe_load((content.CONTENT_DIR / "credit.yaml").read_text(encoding="utf-8"))


def with_changes(**changes) -> dict:
    return {**CREDIT, **changes}


def test_the_credit_facts_load_and_agree_with_the_course():
    facts = content.credit_facts()
    assert {m.module for m in facts.modules} == set(content.question_banks())
    assert facts.hours == (facts.total_minutes // 15) / 4 and facts.hours > 0
    assert facts.accreditation.status == "not accredited"
    assert all(member.financial_relationships == "none" for member in facts.team)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"review_by": "2030-01-01"}, "review at least every 3 years"),
        ({"review_by": "2026-11-30"}, "must come after release_date"),
        ({"team": [{**CREDIT["team"][0], "financial_relationships": []}, CREDIT["team"][1]]}, 'write "none"'),
        ({"accreditation": {"status": "accredited", "statement": "Yes."}}, "names its provider"),
        ({"pass_mark": 30}, "greater than or equal to 50"),
        ({"signing_keys": [{"owner": "x", "public_key": "A" * 43 + "=", "fingerprint": "0" * 64}]}, "fingerprint"),
    ],
)
def test_the_schema_refuses(changes, message):
    with pytest.raises(ValueError, match=message):
        CreditFacts.model_validate(with_changes(**changes))


def test_a_missing_disclosure_is_refused():
    member = {k: v for k, v in CREDIT["team"][0].items() if k != "financial_relationships"}
    with pytest.raises(ValueError, match="financial_relationships"):
        CreditFacts.model_validate(with_changes(team=[member, CREDIT["team"][1]]))


@pytest.mark.parametrize(
    "text, message",
    [(None, "are missing"), ("release_date: [", "are not valid"), ("pass_mark: 80\n", "are not valid")],
)
def test_missing_or_invalid_credit_facts_stop_publishing_with_a_clear_message(credit_yaml, text, message):
    credit_yaml(text)
    with pytest.raises(content.CreditFactsError, match=message) as raised:
        content.credit_facts()
    assert "credit.yaml" in str(raised.value) and "published" in str(raised.value)


def test_facts_that_contradict_the_rest_of_the_course_are_refused(credit_yaml):
    changed = dict(CREDIT, off_label=[{**CREDIT["off_label"][0], "refs": ["no_such_source"]}])
    changed["modules"] = CREDIT["modules"][1:]
    credit_yaml(yaml.safe_dump(changed))
    with pytest.raises(content.CreditFactsError, match="unknown reference no_such_source") as raised:
        content.credit_facts()
    assert "quiz banks" in str(raised.value)


def module_minutes(notebook: str, assignment: str, rates) -> float:
    """What a module takes, worked out from its size on the basis stated in credit.yaml."""
    cells = json.loads((REPO / notebook).read_text(encoding="utf-8"))["cells"]
    words = sum(len(re.findall(r"[A-Za-z0-9']+", "".join(c["source"]))) for c in cells if c["cell_type"] == "markdown")
    calls = [line for c in cells if c["cell_type"] == "code" for line in "".join(c["source"]).splitlines()]
    quick = sum(line.startswith("ui.quiz(") for line in calls)
    interactive = sum(line.startswith("ui.") and not line.startswith(("ui.quiz(", "ui.references(")) for line in calls)
    items = content.assessments()[assignment].items
    reflections = sum(i.type == "reflection" for i in items)
    return (
        words / rates.words_per_minute
        + quick * rates.quick_check
        + interactive * rates.interactive
        + (len(items) - reflections) * rates.graded_item
        + reflections * rates.reflection
    )


@pytest.mark.parametrize("module", CREDIT["modules"], ids=[m["module"] for m in CREDIT["modules"]])
def test_each_time_estimate_matches_the_size_of_its_module(module):
    """The stated minutes stay within 15% of a recount on the stated basis: update them when a module grows."""
    derived = module_minutes(module["notebook"], module["assignment"], content.credit_facts().time_rates)
    assert abs(module["minutes"] - derived) <= 0.15 * derived, (
        f"{module['module']}: credit.yaml says {module['minutes']} min; its content works out at {derived:.0f} min"
    )


def test_every_pass_mark_the_text_states_is_credit_yamls():
    texts = [REPO / "README.md", *sorted((REPO / "course").glob("*.ipynb"))]
    stated = {(p.name, m) for p in texts for m in re.findall(r"pass mark \((\d+)%", p.read_text(encoding="utf-8"))}
    assert stated and all(float(mark) == content.credit_facts().pass_mark for _, mark in stated), stated


def test_no_certificate_after_the_review_date():
    facts = content.credit_facts()
    assert facts.overdue_review(facts.review_by) == ""
    late = facts.review_by.replace(year=facts.review_by.year + 1)
    assert f"due for review by {facts.review_by}" in facts.overdue_review(late)
