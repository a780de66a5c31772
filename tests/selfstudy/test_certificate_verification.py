"""verify-certificate: offline, it accepts only an unchanged certificate signed by a trusted key."""

from datetime import date

import pytest

from ketamine_course import cli
from ketamine_course.content import credit_facts
from ketamine_course.core import signing
from ketamine_course.selfstudy import certificate
from ketamine_course.widgets import certificate_page

HOURS = credit_facts().hours
SCORES = [
    certificate_page.Score("ps0_start_here", "Start here: graded check", 7, 7, date(2026, 11, 30)),
    certificate_page.Score("ps1_mechanism", "Mechanism", 10.5, 12, date(2026, 12, 1)),
]


@pytest.fixture(scope="module")
def owner_key():
    return signing.new_private_key()


def issue(folder, key, **changes):
    """A certificate page for Dr Alex Morgan, signed with `key` (None: unsigned), showing `changes` to its record."""
    record = certificate_page.new_record("Dr Alex Morgan", SCORES, date(2026, 12, 1), "the course owner", "GMC 1234567")
    page = folder / "certificate.html"
    page.write_text(certificate_page.page_html({**record, **changes}, key and signing.sign(record, key)), "utf-8")
    return page, record


def fingerprint_of(key) -> str:
    return signing.fingerprint(signing.public_key_of(key))


def test_a_signed_certificate_verifies_when_its_key_is_trusted(tmp_path, owner_key, capsys):
    page, record = issue(tmp_path, owner_key)
    text = page.read_text()
    for shown in (
        "Dr Alex Morgan",
        f">{record['hours']:g}<",
        "1 December 2026",
        "10.5 / 12 (88%)",
        record["id"],
        "GMC 1234567",
    ):
        assert shown in text
    ok, lines = certificate.verify(page, [fingerprint_of(owner_key)])
    assert ok, lines
    assert cli.main(["verify-certificate", str(page), "--trust", fingerprint_of(owner_key)]) == 0
    assert "VALID" in capsys.readouterr().out


def test_a_key_the_course_has_not_published_is_not_accepted_unless_trusted(tmp_path, capsys):
    page, _ = issue(tmp_path, signing.new_private_key())  # e.g. a learner's own key
    assert cli.main(["verify-certificate", str(page)]) == 1
    out = capsys.readouterr().out
    assert "has not published" in out and "--trust" in out and "NOT VERIFIED" in out


@pytest.mark.parametrize(
    "field, old, new",
    [
        ("name", 'data-field="name">Dr Alex Morgan', 'data-field="name">Dr Alex Morgen'),
        ("score", "10.5 / 12 (88%)", "12 / 12 (100%)"),
        (
            "date",
            'the last of them graded on <span data-field="completed">1 December 2026',
            'the last of them graded on <span data-field="completed">1 November 2026',
        ),
        ("hours", f'<span data-field="hours">{HOURS:g}<', '<span data-field="hours">40<'),
    ],
)
def test_a_changed_name_score_date_or_hours_on_the_page_fails(tmp_path, owner_key, field, old, new):
    page, _ = issue(tmp_path, owner_key)
    text = page.read_text()
    assert old in text
    page.write_text(text.replace(old, new, 1), "utf-8")
    ok, lines = certificate.verify(page, [fingerprint_of(owner_key)])
    assert not ok and "does not show what its record says" in lines[-1], field


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "Dr Sam Lee"},
        {"hours": 40.0},
        {"completed": "2026-11-01"},
        {
            "scores": [
                dict(s, points=s["max_points"])
                for s in certificate_page.new_record("x", SCORES, date(2026, 12, 1), "")["scores"]
            ]
        },
    ],
)
def test_a_changed_record_fails_even_when_the_page_agrees_with_it(tmp_path, owner_key, changes):
    page, _ = issue(tmp_path, owner_key, **changes)  # the page is re-rendered from the changed record
    ok, lines = certificate.verify(page, [fingerprint_of(owner_key)])
    assert not ok and "changed after signing" in lines[-1]


def test_an_unsigned_certificate_says_so_and_does_not_verify(tmp_path):
    page, _ = issue(tmp_path, None)
    assert "Unsigned." in page.read_text()
    ok, lines = certificate.verify(page)
    assert not ok and "unsigned" in lines[-1]


@pytest.mark.parametrize("text", ["<html>no certificate</html>", '<script id="kc-certificate">{bad</script>'])
def test_a_page_that_is_no_certificate_gets_a_message(tmp_path, text):
    page = tmp_path / "page.html"
    page.write_text(text, "utf-8")
    ok, lines = certificate.verify(page)
    assert not ok and "is not a certificate of this course" in lines[0]
    assert not certificate.verify(tmp_path / "missing.html")[0]


def test_the_pass_mark_is_the_one_in_credit_yaml():
    assert certificate.pass_mark() == credit_facts().pass_mark == 80
