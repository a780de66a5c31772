"""The certificate of completion: printable, and made only from real grades.

    ketamine-course certificate --name "Dr Alex Morgan"

A certificate is issued only when every graded assignment of the course has a grade, recorded by
nbgrader in the learner's private grading course (see grade_my_work.py), at or above the pass mark
(80% of the automatically graded points unless the course sets KETAMINE_COURSE_PASS_MARK). It is
an HTML page, and a PDF too when Chromium or Chrome is on the machine to print it.
"""

from __future__ import annotations

import hashlib
import html
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ketamine_course.content import assessments, course_facts
from ketamine_course.content.citations import evidence_date
from ketamine_course.core.errors import CourseError
from ketamine_course.selfstudy.grade_my_work import recorded_grade
from ketamine_course.storage.paths import assignment_names, data_dir
from ketamine_course.widgets.theme import LINE, PALETTE

DEFAULT_PASS_MARK = 80.0


def pass_mark() -> float:
    """The pass mark in percent: KETAMINE_COURSE_PASS_MARK if the course sets it, else 80."""
    configured = os.environ.get("KETAMINE_COURSE_PASS_MARK", "").strip()
    try:
        value = float(configured) if configured else DEFAULT_PASS_MARK
    except ValueError:
        value = DEFAULT_PASS_MARK
    return min(max(value, 0.0), 100.0)


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


def certificate_html(name: str, current: Standing, issued: date) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(title)}</td><td>{grade.auto_score:g} / {grade.auto_max:g}</td>"
        f"<td>{grade.percent:.0f}%</td><td>{grade.graded_at:%d %B %Y}</td></tr>"
        for _, title, grade, _ in current.rows
    )
    record = ";".join(
        f"{n}={g.auto_score:g}/{g.auto_max:g}@{g.graded_at:%Y-%m-%dT%H:%M:%S}" for n, _, g, _ in current.rows
    )
    code = hashlib.sha256(f"{name}|{issued.isoformat()}|{record}".encode()).hexdigest()[:12].upper()
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Certificate of completion: {html.escape(name)}</title>
<style>
 @page {{ size: A4 landscape; margin: 12mm; }}
 body {{ font-family: Georgia, 'Times New Roman', serif; color: #1b1b1b; margin: 0; }}
 .frame {{ border: 6px double {PALETTE["blue"]}; padding: 28px 40px; margin: 12px; }}
 h1 {{ text-align: center; font-size: 30pt; margin: 0 0 4px; letter-spacing: 1px; }}
 .course {{ text-align: center; font-size: 16pt; margin: 0 0 18px; color: {PALETTE["blue"]}; }}
 .name {{ text-align: center; font-size: 26pt; font-style: italic; margin: 12px 0; }}
 p {{ text-align: center; font-size: 12pt; }}
 table {{ margin: 14px auto; border-collapse: collapse; font-family: Arial, sans-serif; font-size: 10.5pt; }}
 th, td {{ border-bottom: 1px solid {LINE}; padding: 4px 14px; text-align: left; }}
 .small {{ font-size: 9pt; color: #444; font-family: Arial, sans-serif; }}
</style></head>
<body><div class="frame">
<h1>Certificate of completion</h1>
<div class="course">{course_facts().title}</div>
<p>This certifies that</p>
<div class="name" id="learner-name">{html.escape(name)}</div>
<p>completed every module of the course and passed each graded assessment
(pass mark {current.pass_mark:g}% of the automatically graded points).</p>
<table><thead><tr><th>Module assessment</th><th>Points</th><th>Score</th><th>Graded</th></tr></thead>
<tbody>{rows}</tbody></table>
<p>Issued {issued:%d %B %Y}. Course evidence current to {evidence_date()}.</p>
<p class="small">Grades were given by nbgrader on the learner's own submissions. Written reflections are not
included in the scores. This certificate records completion of an educational course; it is not a
licence, credential or accreditation to prescribe or administer ketamine or esketamine.
Record code {code}.</p>
</div></body></html>
"""


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


def make_certificate(name: str, out_dir: Path | None = None, pdf: bool = True, root=None) -> list:
    """Write the certificate (HTML, and PDF where possible); refuse with reasons if not eligible."""
    name = " ".join(name.split())
    if not name:
        raise NotEligible("Type your name as it should appear on the certificate.")
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
    page.write_text(certificate_html(name, current, issued), encoding="utf-8")
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
    written = make_certificate(args.name or "", args.out, pdf=not args.no_pdf)
    for path in written:
        print(f"Certificate: {path}")
    if len(written) == 1 and not args.no_pdf:
        print("No PDF was made (no Chromium or Chrome here); open the HTML page and print it to PDF.")
    return 0


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("certificate", help="make your certificate once every assessment is passed")
    parser.set_defaults(run=cmd_certificate)
    for option, meaning in (
        ("--name", "your name as it should appear on the certificate"),
        ("--out", "folder for the certificate (default: your course data folder)"),
    ):
        parser.add_argument(option, help=meaning)
    parser.add_argument("--no-pdf", action="store_true", help="write the HTML page only")
