"""A grader in nbgrader's formgrader, in headless Chromium: the written reflection is listed as needing
manual grading, the rubric is on screen beside the answer, and a score typed there reaches the gradebook."""

from __future__ import annotations

import shutil
import time

import pytest
import yaml
from nbgrader.api import Gradebook

from ketamine_course.storage import answer_store

from conftest import ARTIFACTS, REPO, copy_course, nbgrader
from lab_server import jupyter_lab

pytestmark = [pytest.mark.browser, pytest.mark.kernel, pytest.mark.xdist_group("browser")]

ASSIGNMENT, NOTEBOOK, STUDENT = "ps0_start_here", "start_here_check", "ann"
FIXTURE = yaml.safe_load((REPO / "tests" / "fixtures" / "assignments" / f"{ASSIGNMENT}.yaml").read_text())


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    root = copy_course(tmp_path_factory.mktemp("formgrader") / "course_root")
    nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    with gradebook(root) as gb:  # as `nbgrader db student add`, without starting nbgrader for it
        gb.update_or_create_student(STUDENT, first_name="Ann", last_name="Okoro")
    submission = root / "submitted" / STUDENT / ASSIGNMENT
    shutil.copytree(root / "assignments" / ASSIGNMENT, submission, ignore=shutil.ignore_patterns(".*", "answers*"))
    for item_id, value in FIXTURE["right"].items():
        answer_store.save_answer(item_id, value, folder=submission)
    (submission / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    nbgrader(root, "autograde", ASSIGNMENT, "--force")
    ARTIFACTS.mkdir(exist_ok=True)
    with jupyter_lab(root, ARTIFACTS / "jupyterlab-formgrader.log") as (url, token):
        yield root, url, token


def gradebook(root):
    return Gradebook(f"sqlite:///{root / 'gradebook.db'}")


def test_reflection_is_graded_by_hand_in_the_formgrader_with_the_rubric_in_view(graded_course, page):
    root, url, token = graded_course
    with gradebook(root) as gb:
        submitted = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, STUDENT)
        submission_id = submitted.id
        assert submitted.needs_manual_grade and submitted.score == FIXTURE["auto_points"]

    page.context.set_extra_http_headers({"Authorization": f"token {token}"})  # for the formgrader's own requests
    page.goto(f"{url}/formgrader/gradebook/{ASSIGNMENT}/{NOTEBOOK}")
    row = page.locator("tr", has_text="Okoro")
    row.wait_for()
    assert "needs manual grade" in row.inner_html()

    page.goto(f"{url}/formgrader/submissions/{submission_id}/")
    page.get_by_text("Rubric for graders", exact=False).first.wait_for()
    body = page.locator("body").inner_text()
    assert "names the short-term effects that need watching" in body, "graders see the rubric"
    assert FIXTURE["right"]["ps0.r1"][:40] in body, "beside the learner's written answer"
    score = page.locator("input.score#ps0_r1_task")
    score.fill("1.5")
    score.press("Tab")
    deadline = time.monotonic() + 30
    while True:
        with gradebook(root) as gb:
            submitted = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, STUDENT)
            total, waiting = submitted.score, submitted.needs_manual_grade
        if total == FIXTURE["auto_points"] + 1.5 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    page.screenshot(path=str(ARTIFACTS / "formgrader_manual_grading.png"), full_page=False)
    assert total == FIXTURE["auto_points"] + 1.5
    assert not waiting
