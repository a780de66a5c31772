"""The certificate page, as a learner and whoever checks it read it: no serious accessibility problem,
unsigned (self-study) or signed by the course owner's key."""

from __future__ import annotations

from datetime import datetime

import pytest
from lab_browser import file_violations

from ketamine_course.core import signing
from ketamine_course.selfstudy import certificate
from ketamine_course.selfstudy.grade_my_work import AssignmentGrade
from ketamine_course.widgets import certificate_page

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_certificate_page_has_no_serious_accessibility_violations(browser, tmp_path, signed):
    grade = AssignmentGrade("ps0_start_here", 8, 8, 2, datetime(2026, 11, 30, 10, 0))
    standing = certificate.Standing([("ps0_start_here", "Start here", grade, True)], certificate.pass_mark())
    record = certificate.certificate_record("Dr Robin Okafor", standing, "GMC 7654321")
    signature = signing.sign(record, signing.new_private_key()) if signed else None
    page = tmp_path / "certificate.html"
    page.write_text(certificate_page.page_html(record, signature), encoding="utf-8")
    found = file_violations(browser, page)
    assert not found, "\n".join(found)
