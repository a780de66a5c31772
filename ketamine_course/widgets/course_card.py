"""The course's facts for credit, in plain language: a card on Start here and a section of the README.

Both are made from `content/credit.yaml` (with the objectives of each module's quiz bank, the
evidence date of references.yaml and the disclaimer of course.yaml), so they cannot disagree with it.
"""

from __future__ import annotations

import html
from datetime import date

from ketamine_course.content import course_facts, credit_facts, question_banks, reference
from ketamine_course.content.citations import evidence_date
from ketamine_course.widgets import theme

README_START = "<!-- credit facts: made from ketamine_course/content/credit.yaml; do not edit by hand -->"
README_END = "<!-- end of credit facts -->"


def _day(when: date) -> str:
    return f"{when:%d %B %Y}".lstrip("0")


def _hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def _disclosure(member) -> str:
    if member.financial_relationships == "none":
        return "no financial relationships to disclose"
    return "; ".join(f"{r.relationship} from {r.company} ({r.mitigation})" for r in member.financial_relationships)


def _short_ref(key: str) -> str:
    ref = reference(key)
    return f"{ref.authors.split(',')[0]} {ref.year}"


def facts_lines() -> list:
    """(heading, [lines]) pairs: everything the card and the README say, as plain text."""
    facts, banks = credit_facts(), question_banks()
    commercial = "none" if facts.commercial_support == "none" else ", ".join(facts.commercial_support)
    return [
        ("Status", [facts.accreditation.statement]),
        (
            "Dates",
            [
                f"Released {_day(facts.release_date)}; to be reviewed by {_day(facts.review_by)}.",
                f"The evidence is current to {evidence_date()}.",
            ],
        ),
        (
            "Estimated time",
            [f"{banks[m.module].title}: about {_hours(m.minutes)}" for m in facts.modules]
            + [
                f"Whole course: about {_hours(facts.total_minutes)} (estimated {facts.hours:g} hours; no credit is designated). {facts.time_basis}"
            ],
        ),
        (
            "Post-test",
            [f"Each module's graded assignment, passed at {facts.pass_mark:g}% of its automatically graded points."],
        ),
        (
            "Course team and disclosures",
            [f"{m.role}: {m.contribution} Disclosure: {_disclosure(m)}." for m in facts.team]
            + [
                f"Disclosures cover the {facts.disclosure_period_months} months before release. "
                f"Commercial support: {commercial}."
            ],
        ),
        (
            "Off-label use",
            [
                f"{u.use} {u.status.capitalize()} in {', '.join(u.jurisdictions)}. {' '.join(u.note.split())} "
                f"(Sources: {'; '.join(_short_ref(k) for k in u.refs)}.)"
                for u in facts.off_label
            ],
        ),
        ("Education, not advice", [course_facts().disclaimer + " Check the current label and your local protocol."]),
    ]


def objectives_by_module() -> list:
    """(module title, [objective texts]) for every module, from the quiz banks."""
    banks = question_banks()
    return [(banks[m.module].title, [o.text for o in banks[m.module].objectives]) for m in credit_facts().modules]


def card_html() -> str:
    """The card shown on Start here."""
    sections = "".join(
        f"<p style='margin:6px 0 2px'><b>{html.escape(heading)}</b></p>"
        f"<ul style='margin:0'>{''.join(f'<li>{html.escape(line)}</li>' for line in lines)}</ul>"
        for heading, lines in facts_lines()
    )
    objectives = "".join(
        f"<p style='margin:4px 0 0'><i>{html.escape(title)}</i></p>"
        f"<ul style='margin:0'>{''.join(f'<li>{html.escape(t)}</li>' for t in texts)}</ul>"
        for title, texts in objectives_by_module()
    )
    body = sections + f"<details><summary><b>Learning objectives of every module</b></summary>{objectives}</details>"
    return theme.card_html(
        "kc-course-card", "About this course: credit, time, team and off-label use", body, label="About this course"
    )


def readme_markdown() -> str:
    """The README's section on credit, between its two markers."""
    lines = [README_START, "", "### Continuing-education facts", ""]
    for heading, entries in facts_lines():
        lines += [f"**{heading}.**", ""] + [f"- {entry}" for entry in entries] + [""]
    lines += ["**Learning objectives.** Each module's are listed at its start and on *Start here*.", "", README_END]
    return "\n".join(lines)
