"""Grade my work: a learner studying alone grades their own copy of an assignment with nbgrader.

    ketamine-course grade-my-work ps1_mechanism [--folder DIR] [--no-browser]

The learner's copy (by default assignments/<assignment>/ in the course folder) is only read: it is
copied into a private nbgrader course in the learner's data folder (`self-grading/`), where
nbgrader's own autograde and generate_feedback run on it exactly as an instructor's would. The
feedback page is then opened. A second run replaces the previous grade. The learner's notebook
and answers are never written to.
"""

from __future__ import annotations

import shutil
import webbrowser
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ketamine_course.core.errors import CourseError
from ketamine_course.runtime import course_copy, nbgrader
from ketamine_course.storage.paths import assignment_names, course_root, data_dir

LEARNER_ID = "learner"  # the one student of the private course


class SelfGradingError(CourseError):
    """Something that stops grading, said in plain words."""


@dataclass
class ItemGrade:
    name: str
    score: float | None  # None: waits for a person (a written reflection)
    max_score: float


@dataclass
class AssignmentGrade:
    """The real grade nbgrader gave one assignment in the learner's private course."""

    assignment: str
    auto_score: float  # points from automatically graded items
    auto_max: float
    manual_max: float  # points of written reflections, which only a person can grade
    graded_at: datetime | None
    feedback: list = field(default_factory=list)  # feedback HTML files
    items: list = field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * self.auto_score / self.auto_max if self.auto_max else 0.0


def grading_course() -> Path:
    """The learner's private nbgrader course, in their data folder."""
    return data_dir() / "self-grading"


def learner_copy(assignment: str, root: Path | None = None) -> Path:
    """Where a learner studying alone answers an assignment: assignments/<assignment>/ in the course."""
    return (root or course_root()) / "assignments" / assignment


def _prepare(assignment: str, folder: Path, root: Path) -> Path:
    """Copy the instructor's version and the learner's copy into the private course."""
    source = root / "solutions" / assignment
    if not source.is_dir():
        known = ", ".join(assignment_names(root))
        raise SelfGradingError(f"There is no assignment called {assignment!r}. The assignments are: {known}.")
    if not folder.is_dir() or not any(folder.glob("*.ipynb")):
        raise SelfGradingError(
            f"No notebook of {assignment} was found in {folder}. Open the assignment, "
            "answer the questions, then grade it."
        )
    if (folder / "answers.json").is_symlink():
        raise SelfGradingError(
            f"answers.json in {folder} is a link to another file, not your saved answers, so "
            "it cannot be graded. Delete it and answer the questions again."
        )
    course = grading_course()
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / "nbgrader_config.py", course / "nbgrader_config.py")
    for target, origin in (
        (course / "solutions" / assignment, source),
        (course / "submitted" / LEARNER_ID / assignment, folder),
    ):
        if target.exists():
            shutil.rmtree(target)
        course_copy.copy_work(origin, target)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    (course / "submitted" / LEARNER_ID / assignment / "timestamp.txt").write_text(stamp)
    return course


def grade_my_work(assignment: str, folder: Path | None = None, root: Path | None = None) -> AssignmentGrade:
    """Autograde the learner's copy and write its feedback; the learner's files are only read."""
    root = root or course_root()
    folder = Path(folder) if folder else learner_copy(assignment, root)
    course = _prepare(assignment, folder.resolve(), root)
    nbgrader.run(course, "generate_assignment", assignment, "--force")
    nbgrader.run(course, "autograde", assignment, "--student", LEARNER_ID, "--force")
    nbgrader.run(course, "generate_feedback", assignment, "--student", LEARNER_ID, "--force")
    grade = recorded_grade(assignment)
    if grade is None:  # pragma: no cover - nbgrader finished but wrote no grade
        raise SelfGradingError(f"nbgrader finished but recorded no grade for {assignment}.")
    return grade


def recorded_grade(assignment: str) -> AssignmentGrade | None:
    """The grade nbgrader recorded for an assignment in the private course; None if never graded."""
    database = grading_course() / "gradebook.db"
    if not database.exists():
        return None
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{database}") as gradebook:
        try:
            submission = gradebook.find_submission(assignment, LEARNER_ID)
        except MissingEntry:
            return None
        items = [
            ItemGrade(g.name, g.auto_score if g.cell_type == "code" else g.manual_score, g.max_score)
            for notebook in submission.notebooks
            for g in notebook.grades
        ]
        auto = [g for notebook in submission.notebooks for g in notebook.grades if g.cell_type == "code"]
        grade = AssignmentGrade(
            assignment=assignment,
            auto_score=sum(g.score for g in auto),
            auto_max=sum(g.max_score for g in auto),
            manual_max=sum(g.max_score for n in submission.notebooks for g in n.grades if g.cell_type != "code"),
            graded_at=submission.timestamp,
            items=items,
        )
    feedback_folder = grading_course() / "feedback" / LEARNER_ID / assignment
    grade.feedback = sorted(feedback_folder.glob("*.html"))
    return grade


def summary_line(grade: AssignmentGrade) -> str:
    reflection = (
        f" Written answers ({grade.manual_max:g} points) are not scored automatically: compare yours "
        "with the guidance in the feedback."
        if grade.manual_max
        else ""
    )
    return (
        f"{grade.assignment}: {grade.auto_score:g} of {grade.auto_max:g} automatically graded points "
        f"({grade.percent:.0f}%).{reflection}"
    )


# --- command line ------------------------------------------------------------------------------


def cmd_grade_my_work(args) -> int:
    print(f"Grading your copy of {args.assignment} with nbgrader (about half a minute)...", flush=True)
    grade = grade_my_work(args.assignment, Path(args.folder) if args.folder else None)
    print(summary_line(grade))
    for page in grade.feedback:
        print(f"Feedback: {page}")
        if not args.no_browser:
            webbrowser.open(page.resolve().as_uri())
    return 0


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("grade-my-work", help="grade your own copy of an assignment and open its feedback")
    parser.add_argument("assignment", help="e.g. ps1_mechanism")
    parser.add_argument("--folder", help="your copy of the assignment, if it is not in assignments/<assignment>/")
    parser.add_argument("--no-browser", action="store_true", help="print where the feedback is instead of opening it")
    parser.set_defaults(run=cmd_grade_my_work)
