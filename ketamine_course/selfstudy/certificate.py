"""The certificate of completion: printable, and made only from real grades.

    ketamine-course certificate --name "Dr Alex Morgan"

A certificate is issued only when every graded assignment of the course has a grade, recorded by
nbgrader in the learner's private grading course (see grade_my_work.py), at or above the pass mark
of content/credit.yaml. It is an HTML page, and a PDF too when Chromium or Chrome is on the machine to
print it. It carries the hours, the dates, the scores and a unique id; made on the learner's own
computer, it is unsigned and says so (signed certificates come from the course owner:
`issue-certificates`). Anyone can check a certificate offline:

    ketamine-course verify-certificate FILE [--trust FINGERPRINT]
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ketamine_course.content import assessments, credit_facts
from ketamine_course.core import signing
from ketamine_course.core.errors import CourseError
from ketamine_course.selfstudy.grade_my_work import recorded_grade
from ketamine_course.storage import evaluation_record
from ketamine_course.storage.paths import assignment_names, data_dir
from ketamine_course.widgets import certificate_page

SELF_STUDY = "the learner's own computer (self-study)"


def pass_mark() -> float:
    """The pass mark in percent: the one in content/credit.yaml."""
    return credit_facts().pass_mark


@dataclass
class Standing:
    """Where the learner stands on every assignment, and what is still needed for a certificate."""

    rows: list  # (assignment, title, grade or None, passed)
    pass_mark: float

    @property
    def eligible(self) -> bool:
        return bool(self.rows) and all(passed for *_, passed in self.rows)

    def missing(self) -> list:
        """Plain-language reasons the certificate cannot be made yet."""
        reasons = []
        for name, title, grade, passed in self.rows:
            if grade is None:
                reasons.append(f"{title} ({name}) has not been graded yet: use Grade my work.")
            elif not passed:
                reasons.append(f"{title} ({name}) scored {grade.percent:.0f}%; the pass mark is {self.pass_mark:g}%.")
        return reasons


def standing(root=None) -> Standing:
    mark = pass_mark()
    titles = {name: a.title for name, a in assessments().items()}
    rows = []
    for name in assignment_names(root):
        grade = recorded_grade(name)
        passed = grade is not None and grade.auto_max > 0 and grade.percent + 1e-9 >= mark
        rows.append((name, titles.get(name, name), grade, passed))
    return Standing(rows, mark)


class NotEligible(CourseError):
    """The certificate cannot be made yet; the message says why."""


def certificate_record(name: str, current: Standing, professional_id: str = "") -> dict:
    """The record of a self-study certificate, from the recorded grades."""
    today = date.today()
    scores = [
        certificate_page.Score(n, title, g.auto_score, g.auto_max, g.graded_at.date() if g.graded_at else today)
        for n, title, g, _ in current.rows
    ]
    completed = max(s.graded for s in scores)
    return certificate_page.new_record(name, scores, completed, SELF_STUDY, professional_id)


def browser_for_pdf() -> str | None:
    """A Chromium or Chrome on this machine that can print a page to PDF, if any."""
    for candidate in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def print_pdf(page: Path, pdf: Path) -> bool:
    """Print the HTML page to PDF with a headless browser; False when none is available or it fails."""
    browser = browser_for_pdf()
    if browser is None:
        return False
    command = [
        browser,
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        page.resolve().as_uri(),
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--no-sandbox")
    try:
        subprocess.run(command, capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return pdf.exists() and pdf.stat().st_size > 0


def make_certificate(
    name: str, out_dir: Path | None = None, pdf: bool = True, root=None, professional_id: str | None = None
) -> list:
    """Write the unsigned certificate (HTML, and PDF where possible); refuse with reasons if not eligible."""
    name = " ".join(name.split())
    if not name:
        raise NotEligible("Type your name as it should appear on the certificate.")
    if overdue := credit_facts().overdue_review(date.today()):
        raise NotEligible(overdue)
    current = standing(root)
    if not current.eligible:
        raise NotEligible(
            "The certificate needs every assessment graded at or above the pass mark. Still to do:\n"
            + "\n".join(f"- {reason}" for reason in current.missing())
        )
    out_dir = Path(out_dir) if out_dir else data_dir() / "certificates"
    out_dir.mkdir(parents=True, exist_ok=True)
    issued = date.today()
    stem = "certificate-" + "".join(c if c.isalnum() else "-" for c in name).strip("-").lower() + f"-{issued}"
    page = out_dir / f"{stem}.html"
    if professional_id is None:
        professional_id = evaluation_record.read().answers.get("professional_id", "")
    record = certificate_record(name, current, " ".join(str(professional_id).split()))
    page.write_text(certificate_page.page_html(record, None), encoding="utf-8")
    written = [page]
    if pdf and print_pdf(page, out_dir / f"{stem}.pdf"):
        written.append(out_dir / f"{stem}.pdf")
    return written


# --- command line ------------------------------------------------------------------------------


def cmd_certificate(args) -> int:
    current = standing()
    for name, title, grade, passed in current.rows:
        result = (
            "not graded yet" if grade is None else f"{grade.percent:.0f}% ({'passed' if passed else 'not yet passed'})"
        )
        print(f"{title}: {result}")
    written = make_certificate(args.name or "", args.out, pdf=not args.no_pdf, professional_id=args.professional_id)
    for path in written:
        print(f"Certificate: {path}")
    if len(written) == 1 and not args.no_pdf:
        print("No PDF was made (no Chromium or Chrome here); open the HTML page and print it to PDF.")
    return 0


def verify(path: Path, trust=()) -> tuple:
    """(True when the certificate is intact, signed and trusted; what was found, in plain language)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        record, signature, shown = certificate_page.read_page(text)
    except (OSError, UnicodeDecodeError) as error:
        return False, [f"{path} could not be read ({error.__class__.__name__})."]
    except certificate_page.NotACertificate as problem:
        return False, [f"{path} is not a certificate of this course: {problem}."]
    found = [f"Certificate {record.get('id')} for {record.get('name')!r}, completed {record.get('completed')}."]
    differing = certificate_page.shown_as_recorded(record, shown)
    if differing:
        return False, found + [f"Its page does not show what its record says: {', '.join(differing)} differ."]
    if not signature:
        return False, found + ["It is unsigned: it was made on the learner's own computer and cannot be confirmed."]
    trusted = {k.fingerprint for k in credit_facts().signing_keys} | {t.strip().lower() for t in trust}
    verdict = signing.check(record, signature, trusted)
    lines = found + [verdict.reason]
    if verdict.intact and not verdict.trusted:
        lines.append("If the course owner gave you that fingerprint, check again with --trust FINGERPRINT.")
    return verdict.ok, lines


def cmd_verify_certificate(args) -> int:
    ok, lines = verify(Path(args.file), args.trust or ())
    print("\n".join(lines))
    print("VALID" if ok else "NOT VERIFIED")
    return 0 if ok else 1


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("certificate", help="make your certificate once every assessment is passed")
    parser.set_defaults(run=cmd_certificate)
    for option, meaning in (
        ("--name", "your name as it should appear on the certificate"),
        ("--out", "folder for the certificate (default: your course data folder)"),
    ):
        parser.add_argument(option, help=meaning)
    parser.add_argument("--professional-id", help="your professional registration number (optional)")
    parser.add_argument("--no-pdf", action="store_true", help="write the HTML page only")
    check = subparsers.add_parser("verify-certificate", help="check a certificate's signature and figures, offline")
    check.add_argument("file", help="the certificate's HTML page")
    check.add_argument(
        "--trust", action="append", metavar="FINGERPRINT", help="also accept this signing key (from the course owner)"
    )
    check.set_defaults(run=cmd_verify_certificate)
