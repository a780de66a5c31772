"""The gradebook, read for the instructor's reports: which grade cell holds which graded item, and
every learner's points in every cell.

Cells are named after the item: item `ps1.v1.q2` is graded in cell `ps1_v1_q2_grade`, a written
reflection in `ps1_r1_task`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ketamine_course.content import assessments
from ketamine_course.runtime import nbgrader


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
    return {
        item.id.replace(".", "_") + ("_task" if item.type == "reflection" else "_grade"): item for item in found.items
    }


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
                table.cells.append(
                    GradedCell(
                        assignment.name, notebook.name, cell.name, float(cell.max_score), auto, items.get(cell.name)
                    )
                )
    table.cells.sort(key=lambda c: (c.assignment, c.notebook, _item_position(c)))
    table.students = [
        {"id": s.id, "first_name": s.first_name or "", "last_name": s.last_name or "", "email": s.email or ""}
        for s in sorted(gradebook.students, key=lambda s: s.id)
    ]
    query = (
        gradebook.db.query(
            Assignment.name,
            SubmittedAssignment.student_id,
            BaseCell.name,
            Grade.auto_score,
            Grade.manual_score,
            Grade.score,
            Grade.needs_manual_grade,
        )
        .select_from(Grade)
        .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
        .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
        .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
        .join(BaseCell, Grade.cell_id == BaseCell.id)
    )
    for assignment, student, cell, auto_score, manual_score, score, needs_person in query:
        if wanted is not None and assignment not in wanted:
            continue
        scored = auto_score is not None or manual_score is not None
        table.scores[(assignment, student, cell)] = float(score) if scored else None
        if not scored or (needs_person and manual_score is None):
            table.ungraded.add((assignment, student, cell))
    for assignment, student in gradebook.db.query(Assignment.name, SubmittedAssignment.student_id).join(
        SubmittedAssignment, SubmittedAssignment.assignment_id == Assignment.id
    ):
        if wanted is None or assignment in wanted:
            table.submitted.add((assignment, student))
    return table


def _item_position(cell: GradedCell) -> tuple:
    """Cells in the order of the assessment file (the order learners meet them); unknown cells last, by name."""
    if cell.item is None:
        return (1, 0, cell.name)
    return (0, [i.id for i in assessments()[cell.assignment].items].index(cell.item.id), cell.name)


@dataclass(frozen=True)
class FinalScore:
    score: float  # after the late penalty, never below zero
    max_score: float
    graded: bool  # False while a grade waits for a person, or a cell was not scored


def after_late_penalty(score, penalty) -> float:
    """A submission's final score: its score less the late penalty, never below 0 (as nbgrader exports it)."""
    return max(0.0, float(score or 0) - float(penalty or 0))


def final_scores(gradebook, assignment: str) -> dict:
    """student -> FinalScore, for every submission of `assignment` in the gradebook."""
    from nbgrader.api import MissingEntry

    table = read_grades(gradebook, [assignment])
    waiting = {student for _, student, _ in table.ungraded}
    try:
        submissions = gradebook.find_assignment(assignment).submissions
    except MissingEntry:
        return {}
    return {
        s.student_id: FinalScore(
            after_late_penalty(s.score, s.late_submission_penalty),
            float(s.max_score or 0),
            s.student_id not in waiting,
        )
        for s in submissions
    }
