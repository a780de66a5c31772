"""Every place that states the date the evidence is current to states the one date in references.yaml."""

import re

from ketamine_course.content.citations import evidence_date

from conftest import REPO

DATE_CLAIM = re.compile(r"(?:current to|evidence date)\W{0,3}(?:\*\*)?(\d{1,2} [A-Z][a-z]+ \d{4})")
PLACES = ["README.md", "course/*.ipynb", "solutions/*/*.ipynb", "assignments/*/*.ipynb", "docs/*.md"]


def test_every_stated_evidence_date_is_the_current_one():
    stated = {}
    for pattern in PLACES:
        for path in REPO.glob(pattern):
            for date in DATE_CLAIM.findall(path.read_text(encoding="utf-8")):
                stated.setdefault(date, []).append(str(path.relative_to(REPO)))
    assert stated, "no evidence date found"
    wrong = {date: places for date, places in stated.items() if date != evidence_date()}
    assert not wrong, f"evidence date should be {evidence_date()}: {wrong}"
