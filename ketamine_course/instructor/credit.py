"""Credit for a cohort: signed certificates from the gradebook, the credit report and the evaluations.

    ketamine-course make-signing-key --out PATH          the course owner's Ed25519 key, kept outside the course
    ketamine-course issue-certificates [--key PATH]      a certificate for every learner who passed, and
                                                         reports/credit.csv for a credit-reporting system
    ketamine-course export-evaluations [FILE ...]        reports/evaluations.csv: the evaluations collected
                                                         with the last assignment, and any sent as files

Signing happens only here, where the course owner's key is: the key's path comes from --key or the
environment variable KETAMINE_COURSE_SIGNING_KEY, and a key inside the course folder is refused, so
it can never be committed. Without a key the certificates are issued unsigned and say so.
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ketamine_course.content import assessments, credit_facts
from ketamine_course.core import signing
from ketamine_course.core.errors import CourseError
from ketamine_course.core.spreadsheet import safe_row
from ketamine_course.instructor.cohort import REPORTS_FOLDER
from ketamine_course.instructor.gradebook import has_gradebook, open_gradebook, read_grades
from ketamine_course.runtime import console_progress, nbgrader
from ketamine_course.storage import evaluation_record
from ketamine_course.storage.json_files import write_atomically
from ketamine_course.storage.paths import assignment_names, course_root
from ketamine_course.widgets import certificate_page

KEY_VARIABLE = "KETAMINE_COURSE_SIGNING_KEY"
CREDIT_CSV = "credit.csv"
CREDIT_COLUMNS = [
    "name",
    "professional_id",
    "completion_date",
    "hours",
    "course",
    "certificate_id",
    "student_id",
    "signed",
]
EVALUATIONS_CSV = "evaluations.csv"
CERTIFICATES_FOLDER = "certificates"
ISSUER = "the course owner, from the course's gradebook"
UNSIGNED_ISSUER = "the course's gradebook (unsigned: no signing key was given)"


class CreditError(CourseError):
    """Certificates or credit cannot be issued; the message says what to do."""


def _outside_course(path: Path, root: Path) -> Path:
    path = Path(path).expanduser().resolve()
    if path == root or root in path.parents:
        raise CreditError(
            f"The signing key {path} is inside the course folder, where it could be committed or handed out. "
            "Keep it outside, e.g. in your home folder, readable only by you."
        )
    return path


def make_signing_key(out: Path, root: Path | None = None) -> str:
    """Write a new private key to `out` (readable by its owner only); return its public key's fingerprint."""
    out = _outside_course(out, Path(root or course_root()).resolve())
    if out.exists():
        raise CreditError(f"{out} exists already: a signing key is never overwritten.")
    pem = signing.new_private_key()
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(out, pem.decode("ascii"), mode=0o600)
    return signing.public_key_of(pem)


def read_signing_key(path, root: Path) -> bytes | None:
    """The course owner's private key from `path` or $KETAMINE_COURSE_SIGNING_KEY; None when neither is set."""
    path = path or os.environ.get(KEY_VARIABLE)
    if not path:
        return None
    path = _outside_course(path, root)
    try:
        pem = path.read_bytes()
    except OSError as error:
        raise CreditError(f"The signing key {path} could not be read ({error.strerror or error}).") from None
    signing.public_key_of(pem)  # a clear message now rather than after the first learner
    return pem


# --- evaluations -------------------------------------------------------------------------------


def submitted_evaluations(root: Path) -> dict:
    """student id -> their newest evaluation submitted with any assignment (submitted/<student>/<assignment>/)."""
    submitted = root / nbgrader.course_directory(root).submitted_directory
    found = {}
    for path in sorted(submitted.glob(f"*/*/{evaluation_record.FILE_NAME}")):
        evaluation = evaluation_record.read(path)
        student = path.parent.parent.name
        if evaluation.answers and evaluation.saved >= found.get(student, evaluation_record.Evaluation()).saved:
            found[student] = evaluation
    return found


def export_evaluations(root: Path | None = None, files=(), out: Path | None = None) -> tuple:
    """reports/evaluations.csv from the submitted evaluations and any files learners sent; (path, rows, problems)."""
    root = Path(root or course_root()).resolve()
    questions = [q.id for q in credit_facts().evaluation]
    rows, problems = [], []
    for student, evaluation in sorted(submitted_evaluations(root).items()):
        rows.append(
            {
                "source": f"submitted by {student}",
                "student_id": student,
                "saved": evaluation.saved,
                **evaluation.answers,
            }
        )
    for file in files:
        evaluation = evaluation_record.read(Path(file))
        problems += evaluation.problems
        if evaluation.answers:
            rows.append({"source": Path(file).name, "student_id": "", "saved": evaluation.saved, **evaluation.answers})
        elif not evaluation.problems:
            problems.append(f"{file} holds no evaluation answers.")
    path = Path(out).resolve() if out else root / REPORTS_FOLDER / EVALUATIONS_CSV
    _write_csv(path, ["source", "student_id", "saved", *questions], rows)
    return path, len(rows), problems


def _write_csv(path: Path, header: list, rows: list) -> None:
    """A CSV a spreadsheet opens safely: no cell starts a formula."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(safe_row(row) for row in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text.getvalue(), mode=0o600)


# --- certificates ------------------------------------------------------------------------------


@dataclass
class Issued:
    certificates: list = field(default_factory=list)  # paths
    not_yet: list = field(default_factory=list)  # (student, reason)
    signed: bool = False
    credit_csv: Path | None = None

    def summary(self) -> str:
        kind = "signed" if self.signed else "UNSIGNED (no signing key given)"
        line = f"Issued {len(self.certificates)} {kind} certificate(s)"
        if self.credit_csv:
            line += f"; credit report: {self.credit_csv}"
        if self.not_yet:
            line += f"; {len(self.not_yet)} learner(s) not yet eligible (listed above)"
        return line + "."


def _scores(table, student: str, submissions: dict, root: Path) -> tuple:
    """(Score per assignment, reasons the learner is not eligible yet)."""
    mark, titles = credit_facts().pass_mark, {n: a.title for n, a in assessments().items()}
    scores, reasons = [], []
    for name in assignment_names(root):
        cells = [c for c in table.cells if c.assignment == name and c.auto]
        points = [table.scores.get((name, student, c.name)) for c in cells]
        if (name, student) not in table.submitted or not cells or all(p is None for p in points):
            reasons.append(f"{name} is not graded")
            continue
        score = certificate_page.Score(
            name,
            titles.get(name, name),
            sum(p or 0 for p in points),
            sum(c.max_score for c in cells),
            submissions.get((name, student)) or date.today(),
        )
        if score.percent + 1e-9 < mark:
            reasons.append(f"{name} scored {score.percent:.0f}% (pass mark {mark:g}%)")
        scores.append(score)
    return scores, reasons


def certificate_id(facts, student: str, name: str, completed: date) -> str:
    """One id per learner and completion of this release, so issuing again replaces, never duplicates."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ketamine-course/{facts.release_date}/{student}/{name}/{completed}"))


def issue_certificates(root: Path | None = None, key: str | None = None, out: Path | None = None) -> Issued:
    """A certificate for every learner in the gradebook who passed every assignment, and credit.csv."""
    root = Path(root or course_root()).resolve()
    facts = credit_facts()
    if overdue := facts.overdue_review(date.today()):
        raise CreditError(overdue)
    pem = read_signing_key(key, root)
    if not has_gradebook(root):
        raise CreditError("The course has no gradebook yet: autograde the learners' submissions first.")
    out = Path(out).resolve() if out else root / REPORTS_FOLDER
    evaluations = submitted_evaluations(root)
    with nbgrader.in_course(root), open_gradebook(root) as gradebook:
        table = read_grades(gradebook)
        submissions = {
            (a.name, s.student.id): s.timestamp.date() if s.timestamp else None
            for a in gradebook.assignments
            for s in a.submissions
        }
    issued, credit_rows = Issued(signed=pem is not None), []
    for student in table.students:
        scores, reasons = _scores(table, student["id"], submissions, root)
        answers = evaluations.get(student["id"], evaluation_record.Evaluation()).answers
        name = " ".join(f"{student['first_name']} {student['last_name']}".split()) or answers.get("certificate_name")
        if not name:
            reasons.append("no name: add it with `nbgrader db student add ID --first-name=... --last-name=...`")
        if reasons:
            issued.not_yet.append((student["id"], "; ".join(reasons)))
            continue
        completed = max(s.graded for s in scores)
        record = certificate_page.new_record(
            name,
            scores,
            completed,
            ISSUER if pem else UNSIGNED_ISSUER,
            answers.get("professional_id", ""),
            certificate_id(facts, student["id"], name, completed),
        )
        signature = signing.sign(record, pem) if pem else None
        page = out / CERTIFICATES_FOLDER / f"{student['id']}-{record['id'][:8]}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(page, certificate_page.page_html(record, signature), mode=0o644)
        issued.certificates.append(page)
        credit_rows.append(
            {
                "name": name,
                "professional_id": record["professional_id"],
                "completion_date": record["completed"],
                "hours": record["hours"],
                "course": record["course"],
                "certificate_id": record["id"],
                "student_id": student["id"],
                "signed": "yes" if signature else "no",
            }
        )
    issued.credit_csv = out / CREDIT_CSV
    _write_csv(issued.credit_csv, CREDIT_COLUMNS, credit_rows)
    return issued


# --- command line ------------------------------------------------------------------------------


def cmd_make_signing_key(args) -> int:
    public = make_signing_key(Path(args.out))
    print(
        f"Private key written to {Path(args.out).expanduser().resolve()} (keep it secret and backed up; never "
        "commit it).\nPublish the public key in ketamine_course/content/credit.yaml so that certificates verify:\n\n"
        f"signing_keys:\n  - owner: {args.owner}\n    public_key: {public}\n"
        f"    fingerprint: {signing.fingerprint(public)}"
    )
    return 0


def cmd_issue_certificates(args) -> int:
    issued = issue_certificates(key=args.key, out=Path(args.out) if args.out else None)
    for student, reason in issued.not_yet:
        print(f"{student}: not yet ({reason})")
    console_progress.summary(issued.summary())
    return 0


def cmd_export_evaluations(args) -> int:
    path, count, problems = export_evaluations(files=args.files, out=Path(args.out) if args.out else None)
    for problem in problems:
        print(problem)
    console_progress.summary(f"Exported {count} evaluation(s) to {path}.")
    return 0


def add_commands(subparsers) -> None:
    key = subparsers.add_parser("make-signing-key", help="make the course owner's key for signing certificates")
    key.add_argument("--out", required=True, help="where to keep the private key (outside the course folder)")
    key.add_argument("--owner", default="Course owner", help="who holds the key, as credit.yaml will name them")
    key.set_defaults(run=cmd_make_signing_key)
    issue = subparsers.add_parser("issue-certificates", help="certificates and credit.csv from the gradebook")
    issue.add_argument("--key", help=f"the course owner's private key (default: ${KEY_VARIABLE})")
    issue.add_argument("--out", help=f"folder for certificates/ and {CREDIT_CSV} (default: {REPORTS_FOLDER}/)")
    issue.set_defaults(run=cmd_issue_certificates)
    evaluations = subparsers.add_parser("export-evaluations", help="the learners' evaluations as one CSV")
    evaluations.add_argument("files", nargs="*", help="evaluation files learners studying alone sent you")
    evaluations.add_argument("--out", help=f"the CSV to write (default: {REPORTS_FOLDER}/{EVALUATIONS_CSV})")
    evaluations.set_defaults(run=cmd_export_evaluations)
