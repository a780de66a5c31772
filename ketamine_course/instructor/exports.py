"""The cohort's grades as spreadsheets.

    ketamine-course export-grades [--out DIR]              grades.csv (nbgrader's columns), and objectives.csv:
                                                           each learner's score per learning objective

Both files say in a column `grading_changes` in which submissions autograde undid changes.
"""

from __future__ import annotations

import csv
import warnings
from dataclasses import dataclass
from pathlib import Path

from ketamine_course.content import assessments
from ketamine_course.core.spreadsheet import safe_row
from ketamine_course.instructor.cohort import REPORTS_FOLDER, CohortError, grading_changes
from ketamine_course.instructor.gradebook import (
    GradeTable,
    after_late_penalty,
    has_gradebook,
    open_gradebook,
    read_grades,
)
from ketamine_course.runtime import console_progress, nbgrader
from ketamine_course.storage.paths import course_root

GRADES_CSV = "grades.csv"
OBJECTIVES_CSV = "objectives.csv"


@dataclass
class Export:
    grades_csv: Path
    objectives_csv: Path
    students: int
    objectives: int
    unmapped: list  # grade cells that match no item of the course's assessments
    ungraded: int  # grades not given yet (count 0 until they are)
    changed: int = 0  # submissions in which autograde undid changes (column grading_changes)

    def summary(self) -> str:
        line = (
            f"Exported {self.students} students: {self.grades_csv} (per assignment) and "
            f"{self.objectives_csv} ({self.objectives} learning objectives)"
        )
        if self.ungraded:
            line += (
                f"; {self.ungraded} grade(s) not given yet (written answers to read, or submissions that "
                "did not autograde) count 0 until they are"
            )
        if self.changed:
            line += (
                f"; {self.changed} submission(s) had changes undone before grading "
                "(column grading_changes, details in reports/grade_cohort_*.log)"
            )
        if self.unmapped:
            line += f"; left out of objectives.csv (no learning objective): {', '.join(self.unmapped)}"
        return line + "."


def changes_by_student(root: Path, table) -> dict:
    """(assignment, student) -> number of changes autograde undid, for every submission that had any."""
    found = {}
    coursedir = nbgrader.course_directory(root)
    for assignment, student in sorted(table.submitted):
        count = len(grading_changes(root, assignment, student, coursedir))
        if count:
            found[(assignment, student)] = count
    return found


def objective_rows(table: GradeTable, changes: dict = None) -> tuple:
    """(objective ids in course order, one row per student: id, names, e-mail, score/max/% per objective)."""
    graded = {cell.item.objective for cell in table.cells if cell.item is not None}
    in_course_order = [o.id for a in assessments().values() for o in a.objectives]
    objectives = [o for o in in_course_order if o in graded]
    rows = []
    for student in table.students:
        earned = {o: 0.0 for o in objectives}
        possible = {o: 0.0 for o in objectives}
        ungraded = 0
        for cell in table.cells:
            if cell.item is None:
                continue
            key = (cell.assignment, student["id"], cell.name)
            possible[cell.item.objective] += cell.max_score
            earned[cell.item.objective] += table.scores.get(key) or 0.0
            ungraded += key in table.ungraded
        row = {
            "student_id": student["id"],
            "last_name": student["last_name"],
            "first_name": student["first_name"],
            "email": student["email"],
        }
        for o in objectives:
            row[f"{o} score"] = f"{earned[o]:g}"
            row[f"{o} max"] = f"{possible[o]:g}"
            row[f"{o} %"] = f"{100 * earned[o] / possible[o]:.1f}" if possible[o] else ""
        row["items_not_graded_yet"] = ungraded
        row["grading_changes"] = "; ".join(
            f"{a}: {n}" for (a, s), n in sorted((changes or {}).items()) if s == student["id"]
        )
        rows.append(row)
    return objectives, rows


GRADE_COLUMNS = [  # those of nbgrader's CSV export, in its order
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
]


def grade_rows(gradebook) -> list:
    """One row per assignment and student, with the values nbgrader's CSV export gives.

    nbgrader's export joins the values with commas unquoted, so a comma in a name or an e-mail
    address moves the columns after it; these rows are written with the csv module instead."""
    from nbgrader.api import MissingEntry

    rows = []
    for assignment in gradebook.assignments:
        for student in gradebook.students:
            row = {
                "assignment": assignment.name,
                "duedate": assignment.duedate,
                "student_id": student.id,
                "last_name": student.last_name,
                "first_name": student.first_name,
                "email": student.email,
                "max_score": assignment.max_score,
            }
            try:
                submission = gradebook.find_submission(assignment.name, student.id)
            except MissingEntry:  # nothing submitted: 0
                row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
            else:
                penalty = submission.late_submission_penalty
                row.update(
                    timestamp=submission.timestamp,
                    raw_score=submission.score,
                    late_submission_penalty=penalty,
                    score=after_late_penalty(submission.score, penalty),
                )
            rows.append({key: "" if value is None else str(value) for key, value in row.items()})
    return rows


def export_grades(root: Path = None, out: Path = None) -> Export:
    """grades.csv and objectives.csv, both in `out` (default: reports/)."""
    root = Path(root or course_root()).resolve()
    out = Path(out).resolve() if out else root / REPORTS_FOLDER
    grades_csv, objectives_csv = out / GRADES_CSV, out / OBJECTIVES_CSV
    empty = CohortError("The gradebook holds no assignment yet: generate and autograde an assignment first.")
    if not has_gradebook(root):
        raise empty
    with nbgrader.in_course(root), open_gradebook(root) as gradebook:
        if not gradebook.assignments:
            raise empty
        out.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            grades = grade_rows(gradebook)
        table = read_grades(gradebook)
    changes = changes_by_student(root, table)
    for row in grades:
        row["grading_changes"] = changes.get((row["assignment"], row["student_id"]), 0)
    with open(grades_csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*GRADE_COLUMNS, "grading_changes"])
        writer.writeheader()
        writer.writerows(safe_row(row) for row in grades)
    objectives, rows = objective_rows(table, changes)
    header = ["student_id", "last_name", "first_name", "email"]
    header += [f"{o} {part}" for o in objectives for part in ("score", "max", "%")]
    header += ["items_not_graded_yet", "grading_changes"]
    with open(objectives_csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(safe_row(row) for row in rows)
    unmapped = sorted(f"{c.assignment}/{c.name}" for c in table.cells if c.item is None)
    return Export(
        grades_csv, objectives_csv, len(table.students), len(objectives), unmapped, len(table.ungraded), len(changes)
    )


# --- command line ------------------------------------------------------------------------------


def cmd_export_grades(args) -> int:
    export = export_grades(out=Path(args.out) if args.out else None)
    console_progress.summary(export.summary())
    return 0


def add_commands(subparsers) -> None:
    export = subparsers.add_parser("export-grades", help="grades.csv and objectives.csv (score per learning objective)")
    export.add_argument("--out", help=f"folder for the two files (default: {REPORTS_FOLDER}/ in the course folder)")
    export.set_defaults(run=cmd_export_grades)
