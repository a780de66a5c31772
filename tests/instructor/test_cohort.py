"""grade-cohort and export-grades in a scratch course, run as an instructor runs them, with real nbgrader.

Four learners submit the Start-here check: all right, partly right, an untouched notebook, and a
notebook file that is not JSON (nbgrader cannot grade it: it must be listed, the others still graded).
A fifth learner is enrolled but never submits.
"""

from __future__ import annotations

import csv
import shutil
import warnings

import pytest
import yaml
from nbgrader.api import Gradebook

from ketamine_course import cli
from ketamine_course.content import assessments
from ketamine_course.instructor import cohort, exports, gradebook
from ketamine_course.storage import answer_store

from conftest import REPO, copy_course, course_command, nbgrader

pytestmark = [pytest.mark.nbgrader, pytest.mark.xdist_group("cohort")]  # one worker: the scratch course is made once

ASSIGNMENT = "ps0_start_here"
FIXTURE = yaml.safe_load((REPO / "tests" / "fixtures" / "assignments" / f"{ASSIGNMENT}.yaml").read_text())
NOTEBOOK = FIXTURE["notebook"]
# Points per item for the partly right learner, as the fixture file works them out (total 4.4).
PARTIAL_POINTS = {"ps0.q1": 1, "ps0.q2": 1.2, "ps0.q3": 0, "ps0.q4": 1.2, "ps0.v1.q1": 1, "ps0.v1.q2": 0, "ps0.r1": 0}
SUBMITTED = ["amara", "ben", "chloe", "dev"]
ENROLLED_ONLY = "erin"
FORMULA_NAME = '=HYPERLINK("http://example.org")'


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("cohort") / "course_root")
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    released = course / "assignments" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    answers = {"amara": FIXTURE["right"], "ben": FIXTURE["partial"]["answers"], "chloe": FIXTURE["right"], "dev": {}}
    for student in SUBMITTED:
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        shutil.copy(released, folder)
        for item_id, value in answers[student].items():
            answer_store.save_answer(item_id, value, folder)
    (course / "submitted" / "chloe" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").write_text("{not a notebook", encoding="utf-8")
    grading = course_command(course, "grade-cohort", ASSIGNMENT, "--feedback")
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")
        # a first name a spreadsheet would run as a formula: the exports must write it as text
        gb.add_student(ENROLLED_ONLY, first_name=FORMULA_NAME, last_name="Okafor, Jr.", email="erin@example.org")
    exporting = course_command(course, "export-grades", "--out", str(course / "exports"))
    return course, grading, exporting


@pytest.mark.kernel
def test_grade_cohort_shows_progress_and_ends_with_one_line(graded):
    _, grading, _ = graded
    for n in range(1, len(SUBMITTED) + 1):
        assert f"Autograding {ASSIGNMENT}: {n}/{len(SUBMITTED)}" in grading.stderr
    assert "elapsed" in grading.stderr and "left" in grading.stderr
    assert "IPKernelApp" not in grading.stderr, "kernel chatter goes to the log, not over the bar"
    lines = grading.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Autograded 3 of 4 students of {ASSIGNMENT} (with feedback) in ")
    assert "1 failed: chloe (NotJSONError" in lines[0]
    assert grading.returncode == 1, "a failure is reported in the exit status too"


@pytest.mark.kernel
def test_every_other_student_was_graded_with_feedback(graded):
    course, _, _ = graded
    expected = {"amara": FIXTURE["auto_points"], "ben": FIXTURE["partial"]["score"], "dev": 0}
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")
        for student, score in expected.items():
            assert gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student).score == pytest.approx(score)
    for student in expected:
        assert (course / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").exists()
    assert not (course / "feedback" / "chloe").exists()


@pytest.mark.kernel
def test_the_failure_is_explained_in_the_log(graded):
    course, grading, _ = graded
    log = course / cohort.REPORTS_FOLDER / f"grade_cohort_{ASSIGNMENT}.log"
    assert str(log) in grading.stdout
    text = log.read_text(encoding="utf-8")
    assert "--- chloe" in text and "NotJSONError" in text


@pytest.mark.kernel
def test_export_writes_nbgraders_grades_csv(graded):
    course, _, exporting = graded
    assert exporting.returncode == 0, exporting.stderr
    rows = {r["student_id"]: r for r in csv.DictReader(open(course / "exports" / "grades.csv", encoding="utf-8"))}
    assert set(rows) == {*SUBMITTED, ENROLLED_ONLY}
    assert float(rows["ben"]["raw_score"]) == pytest.approx(FIXTURE["partial"]["score"])
    assert float(rows[ENROLLED_ONLY]["raw_score"]) == 0
    assert rows[ENROLLED_ONLY]["first_name"] == "'" + FORMULA_NAME  # text, not a formula
    assert rows[ENROLLED_ONLY]["last_name"] == "Okafor, Jr."  # a comma stays in its column
    assert rows[ENROLLED_ONLY]["email"] == "erin@example.org"
    assert rows["ben"]["raw_score"][0].isdigit()  # numbers stay numbers


def expected_by_objective(points_per_item: dict, max_per_item: dict) -> dict:
    """objective -> (score, max), summed from the assessment file's item -> objective mapping."""
    totals = {}
    for item in assessments()[ASSIGNMENT].items:
        score, maximum = totals.get(item.objective, (0.0, 0.0))
        totals[item.objective] = (score + points_per_item.get(item.id, 0.0), maximum + max_per_item[item.id])
    return totals


@pytest.mark.kernel
def test_objectives_csv_has_each_learners_score_per_objective(graded):
    course, _, exporting = graded
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")
        cells = gb.find_notebook(NOTEBOOK, ASSIGNMENT)
        max_per_item = {
            c.name.removesuffix("_grade").removesuffix("_task").replace("_", "."): c.max_score
            for c in cells.grade_cells + cells.task_cells
        }
    assert sum(PARTIAL_POINTS.values()) == pytest.approx(FIXTURE["partial"]["score"])
    right = {i: p for i, p in max_per_item.items() if not i.startswith("ps0.r")}  # reflections wait for a person
    expected = {"amara": right, "ben": PARTIAL_POINTS, "chloe": {}, "dev": {}, ENROLLED_ONLY: {}}
    rows = {r["student_id"]: r for r in csv.DictReader(open(course / "exports" / "objectives.csv", encoding="utf-8"))}
    assert set(rows) == set(expected)
    objectives = [o.id for o in assessments()[ASSIGNMENT].objectives]
    for student, points in expected.items():
        for objective, (score, maximum) in expected_by_objective(points, max_per_item).items():
            row = rows[student]
            assert float(row[f"{objective} score"]) == pytest.approx(score), (student, objective)
            assert float(row[f"{objective} max"]) == pytest.approx(maximum)
            assert float(row[f"{objective} %"]) == pytest.approx(round(100 * score / maximum, 1))
    header = list(rows["amara"])
    assert [h.removesuffix(" score") for h in header if h.endswith(" score")] == objectives
    assert rows[ENROLLED_ONLY]["email"] == "erin@example.org" and rows[ENROLLED_ONLY]["last_name"] == "Okafor, Jr."
    assert all(not str(value).startswith("=") for value in rows[ENROLLED_ONLY].values())
    assert rows["amara"]["items_not_graded_yet"] == "1"  # the reflection
    assert rows["chloe"]["items_not_graded_yet"] == "7"  # nothing of hers could be autograded
    assert rows[ENROLLED_ONLY]["items_not_graded_yet"] == "0"  # no submission: nothing to grade
    assert "Exported 5 students" in exporting.stdout and "not given yet" in exporting.stdout


# --- bad input: a clear message, nothing graded ------------------------------------------------------


@pytest.fixture
def bare_course(tmp_path):
    return copy_course(tmp_path / "course_root")


def test_unknown_assignment_is_named(bare_course):
    with pytest.raises(cohort.CohortError, match="no assignment 'ps9_none'.*ps0_start_here"):
        cohort.grade_cohort("ps9_none", root=bare_course)


def test_assignment_not_yet_generated_says_what_to_run(bare_course):
    with pytest.raises(cohort.CohortError, match="generate_assignment ps1_mechanism"):
        cohort.grade_cohort("ps1_mechanism", root=bare_course)


def test_assignment_nobody_submitted_is_explained(bare_course, capsys, monkeypatch):
    nbgrader(bare_course, "db", "assignment", "add", "ps2_candidacy")
    monkeypatch.setenv("KETAMINE_COURSE_ROOT", str(bare_course))
    assert cli.main(["grade-cohort", "ps2_candidacy"]) == 1
    assert "Nobody has submitted ps2_candidacy yet" in capsys.readouterr().err


def test_export_from_an_empty_gradebook_is_explained(bare_course, capsys, monkeypatch):
    monkeypatch.setenv("KETAMINE_COURSE_ROOT", str(bare_course))
    assert cli.main(["export-grades"]) == 1
    assert "holds no assignment yet" in capsys.readouterr().err
    assert not (bare_course / "gradebook.db").exists(), "a command that cannot run leaves nothing behind"
    assert not (bare_course / cohort.REPORTS_FOLDER / exports.OBJECTIVES_CSV).exists()


def test_short_reason_names_the_specific_error():
    log = (
        "[ERROR] Traceback (most recent call last):\n    nbformat.reader.NotJSONError: Notebook does not appear to "
        "be JSON: '{x'\n    nbgrader.converters.base.NbGraderException: Please see the above traceback for details"
    )
    assert cohort.short_reason(log) == "NotJSONError: Notebook does not appear to be JSON: '{x'"
    assert cohort.short_reason("nothing useful") == "nbgrader could not grade this submission"


def test_grade_cells_map_to_items_by_name():
    cells = gradebook.grade_cell_items("ps1_mechanism")
    assert cells["ps1_v1_q2_grade"].id == "ps1.v1.q2" and cells["ps1_r1_task"].id == "ps1.r1"
    assert gradebook.grade_cell_items("baseline") == {}


def test_summary_names_at_most_ten_failures_and_points_to_the_log(tmp_path):
    run = cohort.CohortRun(
        "ps1_mechanism",
        [f"s{n:02d}" for n in range(30)],
        seconds=75,
        log=tmp_path / "x.log",
        failures={f"s{n:02d}": "NotJSONError: broken" for n in range(12)},
    )
    line = run.summary()
    assert line.startswith("Autograded 18 of 30 students of ps1_mechanism in 1 min 15 s; 12 failed: s00 (NotJSONError")
    assert "s09 (" in line and "s10 (" not in line and "and 2 more" in line and str(tmp_path / "x.log") in line
