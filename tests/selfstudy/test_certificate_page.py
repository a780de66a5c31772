"""The certificate page, as a learner and whoever checks it read it: no serious accessibility problem."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from lab_browser import file_violations

from ketamine_course.selfstudy import certificate
from ketamine_course.selfstudy.grade_my_work import AssignmentGrade

pytestmark = pytest.mark.browser


def test_certificate_page_has_no_serious_accessibility_violations(browser, tmp_path):
    grade = AssignmentGrade("ps0_start_here", 8, 8, 2, datetime(2026, 11, 30, 10, 0))
    standing = certificate.Standing([("ps0_start_here", "Start here", grade, True)], certificate.pass_mark())
    page = tmp_path / "certificate.html"
    page.write_text(certificate.certificate_html("Dr Robin Okafor", standing, date(2026, 12, 1)), encoding="utf-8")
    found = file_violations(browser, page)
    assert not found, "\n".join(found)
