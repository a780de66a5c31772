"""Autograde everyone who submitted an assignment, several at once on a kernel pool, with a progress bar.

    ketamine-course grade-cohort ASSIGNMENT [--feedback] [--jobs N] [--force] [--send-grades]
                                         autograde every submission; a failing submission is listed,
                                         the others are still graded; submissions graded before and
                                         unchanged since are not graded again unless --force;
                                         --send-grades then runs send-grades (instructor/grade_passback.py)

The summary and the log (reports/grade_cohort_<assignment>.log) also name the submissions in which
autograde undid changes to the notebook or its files (autograde_guard).
"""

from __future__ import annotations

import re
import traceback
import warnings
from contextlib import chdir
from dataclasses import dataclass, field
from pathlib import Path

from ketamine_course.core.errors import CourseError
from ketamine_course.instructor.gradebook import has_gradebook, open_gradebook
from ketamine_course.runtime import console_progress, nbgrader
from ketamine_course.storage.paths import course_root

REPORTS_FOLDER = "reports"  # where the instructor's reports and exports go, in the course root
FAILURES_LISTED = 10  # the summary line names at most this many failed students; the log has them all


class CohortError(CourseError):
    """Something that stops a cohort command, said in plain words."""


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
        line = (
            f"Autograded {graded} of {len(self.students)} students of {self.assignment}"
            f"{' (with feedback)' if self.feedback else ''} in {console_progress.duration(self.seconds)}"
        )
        if self.already_graded:
            line += (
                f" ({len(self.already_graded)} of them already graded before and unchanged, not graded again; "
                "--force grades everyone again)"
            )
        if self.changes:
            listed = _first_few({s: f"{len(found)} change(s)" for s, found in self.changes.items()})
            line += (
                f"; the grader undid changes to the notebook or its files for {len(self.changes)} student(s), "
                f"graded on their saved answers only: {listed}"
            )
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
    known = (
        sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir()) if (root / "solutions").is_dir() else []
    )
    if assignment not in known:
        raise CohortError(
            f"There is no assignment {assignment!r} in solutions/. Assignments: {', '.join(known) or 'none'}."
        )
    in_gradebook = set()
    if has_gradebook(root):
        with open_gradebook(root) as gradebook:
            in_gradebook = {a.name for a in gradebook.assignments}
    if assignment not in in_gradebook:
        raise CohortError(
            f"{assignment} is not in the gradebook yet. Run "
            f"`./course.sh nbgrader generate_assignment {assignment} --force` once, then grade again."
        )
    submitted = root / "submitted"
    students = (
        sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir()) if submitted.is_dir() else []
    )
    if not students:
        raise CohortError(f"Nobody has submitted {assignment} yet (nothing in submitted/<student>/{assignment}/).")
    return students


def grade_cohort(
    assignment: str, root: Path = None, feedback: bool = False, stream=None, jobs: int = None, force: bool = False
) -> CohortRun:
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
        with console_progress.bar(
            total=len(left), unit="student", desc=f"Autograding {assignment}{already}", stream=stream
        ) as bar:
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


# --- command line ------------------------------------------------------------------------------


def cmd_grade_cohort(args) -> int:
    run = grade_cohort(args.assignment, feedback=args.feedback, jobs=args.jobs, force=args.force)
    console_progress.summary(run.summary())
    status = 1 if run.failures else 0
    if args.send_grades:  # then to the learning platform (instructor/grade_passback.py)
        from ketamine_course.instructor.grade_passback import cmd_send_grades

        status = max(status, cmd_send_grades(args))
    return status


def add_commands(subparsers) -> None:
    grade = subparsers.add_parser("grade-cohort", help="autograde every submitted student of an assignment")
    grade.add_argument("assignment", help="e.g. ps1_mechanism")
    grade.add_argument("--feedback", action="store_true", help="also make each student's feedback page")
    grade.add_argument("--jobs", type=int, help="submissions graded at once (default: the number of cores)")
    grade.add_argument(
        "--force",
        action="store_true",
        help="grade every submission again, also those graded before and unchanged since",
    )
    grade.add_argument("--send-grades", action="store_true", help="then send the scores to the learning platform")
    grade.set_defaults(run=cmd_grade_cohort)
