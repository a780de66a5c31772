"""Submissions collected under release 0.1 still grade after the package moved into floors.

An instructor who generated ps4 with release 0.1 has a gradebook whose cells import
`ketamine_course.monitoring_sim`. Autograde puts those cells back as released and runs them, so the
old module path must still import (ketamine_course.MOVED). This test rebuilds that course: the
solution notebook with its 0.1 cells, generated and autograded by nbgrader with today's package.
"""

from __future__ import annotations

import nbformat
import pytest
import yaml
from nbgrader.api import Gradebook

from ketamine_course.storage import answer_store

from conftest import REPO, copy_course, nbgrader

pytestmark = [pytest.mark.nbgrader, pytest.mark.kernel]

ASSIGNMENT = "ps4_risks"
FIXTURE = yaml.safe_load((REPO / "tests" / "fixtures" / "assignments" / f"{ASSIGNMENT}.yaml").read_text())
NOTEBOOK = FIXTURE["notebook"]

# How release 0.1 wrote the cells that release 0.2 writes through ui (the only ones ps4 changed).
AS_IN_RELEASE_0_1 = {
    "from ketamine_course import grading, ui": "from ketamine_course import grading, monitoring_sim, ui",
    "ui.simulator_step(": "monitoring_sim.step_card(",
}


def as_in_release_0_1(notebook):
    changed = 0
    for cell in notebook.cells:
        for new, old in AS_IN_RELEASE_0_1.items():
            if new in cell.source:
                cell.source = cell.source.replace(new, old)
                changed += 1
    assert changed >= 2, "the ps4 solution no longer has the cells this test rewrites"
    return notebook


def test_a_ps4_submission_generated_under_release_0_1_grades_in_full(tmp_path):
    course = copy_course(tmp_path / "course_root", only=ASSIGNMENT)
    source = course / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    old_solution = as_in_release_0_1(nbformat.read(source, as_version=4))
    nbformat.write(old_solution, source)
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")

    released = nbformat.read(course / "assignments" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    assert "monitoring_sim" in nbformat.writes(released)
    folder = course / "submitted" / "early" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(released, folder / f"{NOTEBOOK}.ipynb")
    for item_id, value in FIXTURE["right"].items():
        answer_store.save_answer(item_id, value, folder)

    nbgrader(course, "db", "student", "add", "early")
    nbgrader(course, "autograde", ASSIGNMENT, "--force")
    graded = nbformat.read(course / "autograded" / "early" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    errors = [
        o for c in graded.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"
    ]
    assert not errors, errors[0]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "early")
        assert submission.score == pytest.approx(FIXTURE["auto_points"])
