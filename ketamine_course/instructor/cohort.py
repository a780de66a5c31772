"""The cohort's grades: autograde everyone who submitted, and export grades per learning objective.

    ketamine-course grade-cohort ASSIGNMENT [--feedback]   autograde every submission, with a progress
                                                           bar; a failing submission is listed, the
                                                           others are still graded
    ketamine-course export-grades [--out DIR]              nbgrader's grades.csv, and objectives.csv:
                                                           each learner's score per learning objective

Also the gradebook reader that the instructor's reports share: which grade cell holds which graded
item (cells are named after the item: item `ps1.v1.q2` is graded in cell `ps1_v1_q2_grade`, a written
reflection in `ps1_r1_task`), and every learner's points in every cell.
"""
from __future__ import annotations

import csv
import re
import traceback
import warnings
from contextlib import chdir
from dataclasses import dataclass, field
from pathlib import Path

from ketamine_course.core.errors import CourseError
from ketamine_course.runtime import console_progress
from ketamine_course.runtime import nbgrader
from ketamine_course.storage.paths import course_root
from ketamine_course.content import assessments

REPORTS_FOLDER = "reports"  # where the instructor's reports and exports go, in the course root
FAILURES_LISTED = 10  # the summary line names at most this many failed students; the log has them all
GRADES_CSV = "grades.csv"
OBJECTIVES_CSV = "objectives.csv"


class CohortError(CourseError):
    """Something that stops a cohort command, said in plain words."""


# --- nbgrader, as the `nbgrader` command would set it up ---------------------------------------


def has_gradebook(root: Path) -> bool:
    """False when the course's SQLite gradebook file does not exist yet (nbgrader makes it on first use)."""
    url = nbgrader.course_directory(root).db_url
    return not url.startswith("sqlite:///") or Path(url.removeprefix("sqlite:///")).exists()


def open_gradebook(root: Path):
    """The course's gradebook (close it with `with`): the database named in the configuration."""
    from nbgrader.api import Gradebook

    coursedir = nbgrader.course_directory(root)
    with warnings.catch_warnings(), nbgrader.bin_on_path():
        warnings.simplefilter("ignore")
        return Gradebook(coursedir.db_url, coursedir.course_id)


def grade_cell_items(assignment: str) -> dict:
    """Grade cell name -> graded item, for one assignment (empty for an assignment the course does not know)."""
    found = assessments().get(assignment)
    if found is None:
        return {}
    return {item.id.replace(".", "_") + ("_task" if item.type == "reflection" else "_grade"): item
            for item in found.items}


# --- reading the gradebook ---------------------------------------------------------------------


@dataclass(frozen=True)
class GradedCell:
    assignment: str
    notebook: str
    name: str
    max_score: float
    auto: bool  # True for a hidden-test cell scored by the autograder; False for one a person grades
    item: object = None  # the GradedItem this cell grades, or None when the name matches no item


@dataclass
class GradeTable:
    """What the gradebook holds: the graded cells, the learners, and every score recorded."""

    cells: list = field(default_factory=list)  # GradedCell, in assignment and notebook order
    students: list = field(default_factory=list)  # dicts: id, first_name, last_name, email
    submitted: set = field(default_factory=set)  # (assignment, student) pairs with a submission
    scores: dict = field(default_factory=dict)  # (assignment, student, cell name) -> points, or None if not scored
    ungraded: set = field(default_factory=set)  # (assignment, student, cell name) with no grade yet: a
    # written answer waiting for a person, or a submission that did not autograde


def read_grades(gradebook, assignments=None) -> GradeTable:
    """Every graded cell and score in the gradebook (optionally only some assignments), in one query."""
    from nbgrader.api import Assignment, BaseCell, Grade, GradeCell, SubmittedAssignment, SubmittedNotebook

    table = GradeTable()
    wanted = None if assignments is None else set(assignments)
    for assignment in gradebook.assignments:
        if wanted is not None and assignment.name not in wanted:
            continue
        items = grade_cell_items(assignment.name)
        for notebook in sorted(assignment.notebooks, key=lambda n: n.name):
            for cell in notebook.grade_cells + notebook.task_cells:
                auto = isinstance(cell, GradeCell) and cell.cell_type == "code"
                table.cells.append(GradedCell(assignment.name, notebook.name, cell.name, float(cell.max_score),
                                              auto, items.get(cell.name)))
    table.cells.sort(key=lambda c: (c.assignment, c.notebook, _item_position(c)))
    table.students = [{"id": s.id, "first_name": s.first_name or "", "last_name": s.last_name or "",
                       "email": s.email or ""} for s in sorted(gradebook.students, key=lambda s: s.id)]
    query = (gradebook.db.query(Assignment.name, SubmittedAssignment.student_id, BaseCell.name, Grade.auto_score,
                                Grade.manual_score, Grade.score, Grade.needs_manual_grade)
             .select_from(Grade)
             .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
             .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
             .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
             .join(BaseCell, Grade.cell_id == BaseCell.id))
    for assignment, student, cell, auto_score, manual_score, score, needs_person in query:
        if wanted is not None and assignment not in wanted:
            continue
        scored = auto_score is not None or manual_score is not None
        table.scores[(assignment, student, cell)] = float(score) if scored else None
        if not scored or (needs_person and manual_score is None):
            table.ungraded.add((assignment, student, cell))
    for assignment, student in gradebook.db.query(Assignment.name, SubmittedAssignment.student_id).join(
            SubmittedAssignment, SubmittedAssignment.assignment_id == Assignment.id):
        if wanted is None or assignment in wanted:
            table.submitted.add((assignment, student))
    return table


def _item_position(cell: GradedCell) -> tuple:
    """Cells in the order of the assessment file (the order learners meet them); unknown cells last, by name."""
    if cell.item is None:
        return (1, 0, cell.name)
    return (0, [i.id for i in assessments()[cell.assignment].items].index(cell.item.id), cell.name)


# --- grade-cohort ------------------------------------------------------------------------------


@dataclass
class CohortRun:
    assignment: str
    students: list
    failures: dict = field(default_factory=dict)  # student -> short reason
    seconds: float = 0.0
    feedback: bool = False
    log: Path = None
    changes: dict = field(default_factory=dict)  # student -> changes the grader undid (autograde_guard)
    already_graded: list = field(default_factory=list)  # students graded before, unchanged, not graded again

    def summary(self) -> str:
        graded = len(self.students) - len(self.failures)
        line = (f"Autograded {graded} of {len(self.students)} students of {self.assignment}"
                f"{' (with feedback)' if self.feedback else ''} in {console_progress.duration(self.seconds)}")
        if self.already_graded:
            line += (f" ({len(self.already_graded)} of them already graded before and unchanged, not graded again; "
                     "--force grades everyone again)")
        if self.changes:
            listed = _first_few({s: f"{len(found)} change(s)" for s, found in self.changes.items()})
            line += (f"; the grader undid changes to the notebook or its files for {len(self.changes)} student(s), "
                     f"graded on their saved answers only: {listed}")
        if not self.failures:
            return line + "." + (f" Details: {self.log}" if self.changes else "")
        return line + f"; {len(self.failures)} failed: {_first_few(self.failures)}. Details: {self.log}"


def _first_few(by_student: dict) -> str:
    """'ana (why); ben (why); and 3 more': the first FAILURES_LISTED students with what is said of each."""
    pairs = list(by_student.items())
    listed = "; ".join(f"{student} ({what})" for student, what in pairs[:FAILURES_LISTED])
    more = f"; and {len(pairs) - FAILURES_LISTED} more" if len(pairs) > FAILURES_LISTED else ""
    return listed + more


def autograde_student(api, assignment: str, student: str, feedback: bool = False):
    """Autograde one submission (and make its feedback); returns None, or (short reason, nbgrader's log)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbgrader's own database warnings, not the learner's business
            result = api.autograde(assignment, student, force=True, create=True)
            if result["success"] and feedback:
                result = api.generate_feedback(assignment, student, force=True)
    except Exception as exc:  # whatever happens to one submission, the others are still graded
        return f"{type(exc).__name__}: {exc}"[:100], traceback.format_exc()
    return failure_of(result)


def failure_of(result: dict):
    """None for a submission nbgrader graded; else (short reason, nbgrader's log and traceback)."""
    if result["success"]:
        return None
    details = (result.get("log") or "") + "\n" + (result.get("error") or "")
    return short_reason(details), details


def short_reason(details: str) -> str:
    """The last specific error in nbgrader's log, without module paths: 'NotJSONError: ...'."""
    reasons = []
    for line in details.splitlines():
        match = re.match(r"\s*(?:[\w.]+\.)?(\w*(?:Error|Exception|Timeout)\w*): (.+)", line)
        if match and "above traceback" not in line:
            reasons.append(f"{match.group(1)}: {match.group(2).strip()}")
    if not reasons:
        return "nbgrader could not grade this submission"
    return reasons[-1] if len(reasons[-1]) <= 100 else reasons[-1][:97] + "..."


def check_assignment(root: Path, assignment: str) -> list:
    """The students who submitted `assignment`; CohortError with what to do when grading cannot start."""
    known = sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir()) if (root / "solutions").is_dir() else []
    if assignment not in known:
        raise CohortError(f"There is no assignment {assignment!r} in solutions/. Assignments: {', '.join(known) or 'none'}.")
    in_gradebook = set()
    if has_gradebook(root):
        with open_gradebook(root) as gradebook:
            in_gradebook = {a.name for a in gradebook.assignments}
    if assignment not in in_gradebook:
        raise CohortError(f"{assignment} is not in the gradebook yet. Run "
                          f"`./course.sh nbgrader generate_assignment {assignment} --force` once, then grade again.")
    submitted = root / "submitted"
    students = sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir()) if submitted.is_dir() else []
    if not students:
        raise CohortError(f"Nobody has submitted {assignment} yet (nothing in submitted/<student>/{assignment}/).")
    return students


def grade_cohort(assignment: str, root: Path = None, feedback: bool = False, stream=None, jobs: int = None,
                 force: bool = False) -> CohortRun:
    """Autograde every submitted student of `assignment`, `jobs` at a time on a kernel pool, with a progress bar.

    Submissions graded before and unchanged since are not graded again, unless `force`."""
    from ketamine_course.instructor.pool_grader import PoolGrader

    root = Path(root or course_root()).resolve()
    students = check_assignment(root, assignment)
    run = CohortRun(assignment, students, feedback=feedback)
    run.log = root / REPORTS_FOLDER / f"grade_cohort_{assignment}.log"
    run.log.parent.mkdir(parents=True, exist_ok=True)
    timer = console_progress.Timer()
    coursedir = nbgrader.course_directory(root)
    with nbgrader.in_course(root), open(run.log, "w", encoding="utf-8") as log, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbgrader's own database warnings, not the learner's business
        grader = PoolGrader(root, assignment, feedback=feedback, jobs=jobs, output=log)
        run.already_graded = [] if force else grader.graded_before(students)
        left = [s for s in students if s not in run.already_graded]
        log.writelines(f"--- {s}\ngraded before and unchanged since: not graded again\n" for s in run.already_graded)
        already = f" ({len(run.already_graded)} of {len(students)} already graded)" if run.already_graded else ""
        with console_progress.bar(total=len(left), unit="student", desc=f"Autograding {assignment}{already}",
                                  stream=stream) as bar:
            for student, result in grader.grade(left):
                log.write(f"--- {student}\n{result['log']}")
                failure = failure_of(result)
                if failure:
                    run.failures[student], details = failure
                    log.write(details + "\n")
                bar.update(1)
                log.flush()
        for student in students:
            undone = [] if student in run.failures else grading_changes(root, assignment, student, coursedir)
            if undone:
                run.changes[student] = undone
                log.write(f"--- {student}\n" + "".join(f"grading changes: {c.get('instructor', '')}\n" for c in undone))
    run.seconds = timer.elapsed
    return run


def grading_changes(root: Path, assignment: str, student: str, coursedir=None) -> list:
    """What autograde undid in a student's submission (cells restored or removed, files not used)."""
    from ketamine_course.instructor.autograde_guard import read_changes

    coursedir = coursedir or nbgrader.course_directory(root)
    with chdir(root):
        folder = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment)).resolve()
    return read_changes(folder)


def changes_by_student(root: Path, table) -> dict:
    """(assignment, student) -> number of changes autograde undid, for every submission that had any."""
    found = {}
    coursedir = nbgrader.course_directory(root)
    for assignment, student in sorted(table.submitted):
        count = len(grading_changes(root, assignment, student, coursedir))
        if count:
            found[(assignment, student)] = count
    return found


# --- export-grades -----------------------------------------------------------------------------


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
        line = (f"Exported {self.students} students: {self.grades_csv} (per assignment) and "
                f"{self.objectives_csv} ({self.objectives} learning objectives)")
        if self.ungraded:
            line += (f"; {self.ungraded} grade(s) not given yet (written answers to read, or submissions that "
                     "did not autograde) count 0 until they are")
        if self.changed:
            line += (f"; {self.changed} submission(s) had changes undone before grading "
                     "(column grading_changes, details in reports/grade_cohort_*.log)")
        if self.unmapped:
            line += f"; left out of objectives.csv (no learning objective): {', '.join(self.unmapped)}"
        return line + "."


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
        row = {"student_id": student["id"], "last_name": student["last_name"],
               "first_name": student["first_name"], "email": student["email"]}
        for o in objectives:
            row[f"{o} score"] = f"{earned[o]:g}"
            row[f"{o} max"] = f"{possible[o]:g}"
            row[f"{o} %"] = f"{100 * earned[o] / possible[o]:.1f}" if possible[o] else ""
        row["items_not_graded_yet"] = ungraded
        row["grading_changes"] = "; ".join(f"{a}: {n}" for (a, s), n in sorted((changes or {}).items())
                                           if s == student["id"])
        rows.append(row)
    return objectives, rows


def export_grades(root: Path = None, out: Path = None) -> Export:
    """nbgrader's CSV export (grades.csv) and objectives.csv, both in `out` (default: reports/)."""
    from nbgrader.plugins import CsvExportPlugin

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
            CsvExportPlugin(to=str(grades_csv)).export(gradebook)
        table = read_grades(gradebook)
    changes = changes_by_student(root, table)
    _add_changes_column(grades_csv, changes)
    objectives, rows = objective_rows(table, changes)
    header = ["student_id", "last_name", "first_name", "email"]
    header += [f"{o} {part}" for o in objectives for part in ("score", "max", "%")]
    header += ["items_not_graded_yet", "grading_changes"]
    with open(objectives_csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    unmapped = sorted(f"{c.assignment}/{c.name}" for c in table.cells if c.item is None)
    return Export(grades_csv, objectives_csv, len(table.students), len(objectives), unmapped, len(table.ungraded),
                  len(changes))


def _add_changes_column(grades_csv: Path, changes: dict) -> None:
    """nbgrader's grades.csv, plus how many changes autograde undid in each submission (0 if none)."""
    with open(grades_csv, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, rows = list(reader.fieldnames or []), list(reader)
    for row in rows:
        row["grading_changes"] = changes.get((row.get("assignment"), row.get("student_id")), 0)
    with open(grades_csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields + ["grading_changes"])
        writer.writeheader()
        writer.writerows(rows)


# --- command line ------------------------------------------------------------------------------


def cmd_grade_cohort(args) -> int:
    run = grade_cohort(args.assignment, feedback=args.feedback, jobs=args.jobs, force=args.force)
    console_progress.summary(run.summary())
    return 1 if run.failures else 0


def cmd_export_grades(args) -> int:
    export = export_grades(out=Path(args.out) if args.out else None)
    console_progress.summary(export.summary())
    return 0


def add_commands(subparsers) -> None:
    grade = subparsers.add_parser("grade-cohort", help="autograde every submitted student of an assignment")
    grade.add_argument("assignment", help="e.g. ps1_mechanism")
    grade.add_argument("--feedback", action="store_true", help="also make each student's feedback page")
    grade.add_argument("--jobs", type=int, help="submissions graded at once (default: the number of cores)")
    grade.add_argument("--force", action="store_true",
                       help="grade every submission again, also those graded before and unchanged since")
    grade.set_defaults(run=cmd_grade_cohort)
    export = subparsers.add_parser("export-grades", help="grades.csv and objectives.csv (score per learning objective)")
    export.add_argument("--out", help=f"folder for the two files (default: {REPORTS_FOLDER}/ in the course folder)")
    export.set_defaults(run=cmd_export_grades)
