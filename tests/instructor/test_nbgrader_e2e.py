"""nbgrader end to end in a scratch course: generate, autograde fixture students, feedback, export.

Each fixture student is a submission a real cohort produces: the solution itself, an untouched
notebook, partly right answers, a corrupt answer file, a tampered grading cell, a deleted grading
cell and a cell that never finishes.
"""

from __future__ import annotations

import csv
import shutil

import nbformat
import pytest
from nbgrader.api import Gradebook

from ketamine_course.storage import evaluation_record

from conftest import FIXTURES, REPO, edge_case_submissions, nbgrader, recorded_answers, submit

# One worker: the scratch course is made once. Making it (every assignment generated, autograded and
# exported for eight students) may take longer than one test's limit on a busy two-core machine.
pytestmark = [
    pytest.mark.nbgrader,
    pytest.mark.xdist_group("nbgrader_e2e"),
    pytest.mark.timeout(1200),
]

# The edge cases are played on the platform's own assignment.
ASSIGNMENT = "ps0_start_here"
NOTEBOOK = FIXTURES[ASSIGNMENT]["notebook"]
AUTO_POINTS = float(FIXTURES[ASSIGNMENT]["auto_points"])
PARTIAL_SCORE = FIXTURES[ASSIGNMENT]["partial"]["score"]


STUDENTS = ("perfect", "student", "blank", "partial", "junkstore", "tampered", "deletedcell", "runaway")


def grade_cell_ids(nb):
    return [
        c.metadata.nbgrader["grade_id"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
    ]


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    from conftest import copy_course

    course = copy_course(tmp_path_factory.mktemp("nbgrader") / "course_root")
    shutil.rmtree(course / "assignments")
    # Each command below takes nbgrader's assignment glob "*": one run for every assignment, as an
    # instructor may type it, instead of one per assignment (each start of nbgrader costs seconds).
    nbgrader(course, "generate_assignment", "*", "--force")
    for name, fixture in FIXTURES.items():
        released = nbformat.read(course / "assignments" / name / f"{fixture['notebook']}.ipynb", as_version=4)
        solution = nbformat.read(course / "solutions" / name / f"{fixture['notebook']}.ipynb", as_version=4)
        submit(course, "perfect", name, solution, recorded_answers(solution))
        submit(course, "blank", name, released)
        submit(course, "partial", name, released, fixture["partial"]["answers"])
        submit(course, "student", name, released, fixture["right"])
        if name == "ps5_capstone":  # the course evaluation, submitted with the last assignment
            evaluation_record.save(
                {"certificate_name": "Dr Alex Morgan", "professional_id": "=GMC 1234567", "relevance": 5},
                course / "submitted" / "student" / name,
            )

    released = nbformat.read(course / "assignments" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    for student, (notebook, answers, raw_store) in edge_case_submissions(released, ASSIGNMENT).items():
        submit(course, student, ASSIGNMENT, notebook, answers, raw_store)

    roster = course.parent / "students.csv"
    roster.write_text("id\n" + "".join(f"{student}\n" for student in STUDENTS), encoding="utf-8")
    nbgrader(course, "db", "student", "import", str(roster))
    result = nbgrader(course, "autograde", "*", "--force")
    nbgrader(course, "generate_feedback", "*", "--force")
    nbgrader(course, "export", "--to", str(course / "grades.csv"))
    return course, result


def auto_score(course, student, assignment=ASSIGNMENT, notebook=NOTEBOOK):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(notebook, assignment, student)
        return nb.score, nb.max_score


@pytest.mark.kernel
@pytest.mark.parametrize("assignment", sorted(FIXTURES))
@pytest.mark.parametrize("student", ["perfect", "student", "blank", "partial"])
def test_every_assignment_grades_its_fixture_students(graded_course, assignment, student):
    """Perfect (the solution notebook with its answers saved), a student who answers everything right through the store,
    an untouched notebook, and a partly right one, for every assignment of the course."""
    course, _ = graded_course
    fixture = FIXTURES[assignment]
    expected = {
        "perfect": fixture["auto_points"],
        "student": fixture["auto_points"],
        "blank": 0,
        "partial": fixture["partial"]["score"],
    }[student]
    score, max_score = auto_score(course, student, assignment, fixture["notebook"])
    assert score == pytest.approx(expected)
    assert max_score == pytest.approx(fixture["auto_points"] + fixture["manual_points"])


@pytest.mark.kernel
@pytest.mark.parametrize(
    "student, expected",
    [
        ("junkstore", 0.0),
        ("tampered", PARTIAL_SCORE),
        ("deletedcell", AUTO_POINTS),
        ("runaway", AUTO_POINTS),
    ],
)
def test_edge_case_submissions(graded_course, student, expected):
    course, _ = graded_course
    score, _ = auto_score(course, student)
    assert score == pytest.approx(expected)


@pytest.mark.kernel
def test_runaway_cell_was_removed_before_it_could_run(graded_course):
    """A learner's added cell never runs (autograde runs only the course's code); a course cell that ran
    away would still be stopped by the per-cell timeout."""
    course, _ = graded_course
    nb = nbformat.read(course / "autograded" / "runaway" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    assert not [c for c in nb.cells if c.cell_type == "code" and "while True" in c.source]
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert "A code cell you added was removed" in nbformat.writes(nb)
    assert "c.Execute.timeout = 30" in (REPO / "nbgrader_config.py").read_text()


@pytest.mark.kernel
def test_tampered_and_deleted_cells_were_restored(graded_course):
    course, result = graded_course
    nb = nbformat.read(course / "autograded" / "tampered" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    assert "I give myself full marks" not in nbformat.writes(nb)
    restored = nbformat.read(course / "autograded" / "deletedcell" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    assert "ps0_q1_grade" in grade_cell_ids(restored)


@pytest.mark.kernel
def test_corrupt_store_is_explained_not_crashed(graded_course):
    course, _ = graded_course
    nb = nbformat.read(course / "autograded" / "junkstore" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    text = nbformat.writes(nb)
    assert "could not be read" in text
    assert (course / "autograded" / "junkstore" / ASSIGNMENT / "answers.json").read_text() == "{this is not json"


@pytest.mark.kernel
def test_reflection_waits_for_a_grader_with_the_rubric_visible(graded_course):
    course, _ = graded_course
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        grade = gb.find_grade("ps0_r1_task", NOTEBOOK, ASSIGNMENT, "perfect")
        assert grade.needs_manual_grade and grade.auto_score is None
        grade.manual_score = 2
        gb.db.commit()
        assert gb.find_submission(ASSIGNMENT, "perfect").score == pytest.approx(AUTO_POINTS + 2)
    autograded = nbformat.read(course / "autograded" / "perfect" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    text = nbformat.writes(autograded)
    assert "Rubric for graders" in text, "the grader sees the rubric in the formgrader"
    assert "monitor you for at least two hours" in text, "the grader sees the written answer"


def feedback_html(course, student):
    return (course / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").read_text(encoding="utf-8")


@pytest.mark.kernel
@pytest.mark.parametrize("student", ["perfect", "partial", "blank"])
def test_feedback_shows_results_and_reasons_but_no_hidden_tests_or_rubric(graded_course, student):
    course, _ = graded_course
    page = feedback_html(course, student)
    assert "Why: Racemic ketamine is licensed as an anaesthetic" in page
    for secret in (
        "BEGIN HIDDEN TESTS",
        "grading.grade(",
        "key=",
        "BEGIN MARK SCHEME",
        "Rubric for graders",
        "ui.record(",
    ):
        assert secret not in page, f"{student}'s feedback shows {secret!r}"


@pytest.mark.kernel
def test_partial_feedback_explains_part_credit(graded_course):
    course, _ = graded_course
    page = feedback_html(course, "partial")
    assert "3 of 5 right options chosen" in page
    assert "3 of 5 steps in the right place" in page


@pytest.mark.kernel
def test_export_lists_every_student(graded_course):
    course, _ = graded_course
    rows = list(csv.DictReader(open(course / "grades.csv")))
    scores = {r["student_id"]: float(r["raw_score"]) for r in rows if r["assignment"] == ASSIGNMENT}
    assert {r["assignment"] for r in rows} == set(FIXTURES)
    assert scores["partial"] == pytest.approx(PARTIAL_SCORE) and scores["blank"] == 0


@pytest.mark.kernel
def test_released_notebook_carries_no_key(graded_course):
    course, _ = graded_course
    released = (course / "assignments" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text()
    for secret in ("ui.record(", "grading.grade(", "HIDDEN TESTS", "MARK SCHEME", "BEGIN SOLUTION"):
        assert secret not in released
    assert "NotImplementedError" not in released


def test_every_assignment_has_fixture_students():
    assert sorted(FIXTURES) == sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir())


@pytest.mark.kernel
def test_committed_assignments_equal_a_fresh_generation(graded_course):
    course, _ = graded_course
    for solution in (REPO / "solutions").glob("*/*.ipynb"):
        fresh = nbformat.read(course / "assignments" / solution.parent.name / solution.name, as_version=4)
        committed = nbformat.read(REPO / "assignments" / solution.parent.name / solution.name, as_version=4)
        assert [c.source for c in committed.cells] == [c.source for c in fresh.cells]
        assert [c.metadata.get("nbgrader") for c in committed.cells] == [
            c.metadata.get("nbgrader") for c in fresh.cells
        ]


@pytest.mark.kernel
def test_validate_passes_the_solution(graded_course):
    """`nbgrader validate` on the instructor's notebook passes. (`--invert` does not apply here: an
    unanswered item scores 0 as a result, not as an error, because a traceback would show the key
    in the learner's feedback; the blank student above proves the release scores zero.)"""
    course, _ = graded_course
    solution = course / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    assert "Success" in nbgrader(course, "validate", str(solution)).stdout
    assert not (course / "solutions" / ASSIGNMENT / "answers.json").exists()


@pytest.mark.kernel
def test_certificates_issued_from_the_gradebook_are_signed_and_verify(graded_course, tmp_path):
    """The course owner issues certificates from the autograded cohort: only passing learners with a name get
    one, signed with a key kept outside the course; credit.csv lists them; verify-certificate checks them."""
    import subprocess
    import sys

    from conftest import course_env

    course, _ = graded_course
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submitted = gb.find_submission_notebook(FIXTURES["ps5_capstone"]["notebook"], "ps5_capstone", "student")
        assert not submitted.flagged, "an evaluation handed in with the assignment is not a change to grading"

    def command(*args):
        return subprocess.run(
            [sys.executable, "-m", "ketamine_course.cli", *args],
            cwd=course,
            env=course_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )

    key = tmp_path / "owner.pem"
    made = command("make-signing-key", "--out", str(key))
    fingerprint = made.stdout.split("fingerprint: ")[1].split()[0]
    issued = command("issue-certificates", "--key", str(key))
    assert issued.returncode == 0, issued.stderr
    assert "Issued 1 signed certificate(s)" in issued.stdout
    assert "perfect: not yet (no name" in issued.stdout and "blank: not yet (ps0_start_here scored 0%" in issued.stdout
    rows = list(csv.DictReader(open(course / "reports" / "credit.csv", encoding="utf-8")))
    assert [(r["name"], r["professional_id"], r["student_id"], r["signed"]) for r in rows] == [
        ("Dr Alex Morgan", "'=GMC 1234567", "student", "yes")
    ]
    assert float(rows[0]["hours"]) > 0 and rows[0]["completion_date"]
    again = command("issue-certificates", "--key", str(key))
    assert again.returncode == 0 and list(csv.DictReader(open(course / "reports" / "credit.csv"))) == rows
    [page] = (course / "reports" / "certificates").glob("student-*.html")  # issued again: replaced, not duplicated
    assert command("verify-certificate", str(page)).returncode == 1, "the course has published no key yet"
    checked = command("verify-certificate", str(page), "--trust", fingerprint)
    assert checked.returncode == 0 and "VALID" in checked.stdout
    page.write_text(page.read_text().replace(">Dr Alex Morgan<", ">Dr Alexa Morgan<"), encoding="utf-8")
    assert command("verify-certificate", str(page), "--trust", fingerprint).returncode == 1
    exported = command("export-evaluations")
    assert exported.returncode == 0 and "Exported 1 evaluation(s)" in exported.stdout
