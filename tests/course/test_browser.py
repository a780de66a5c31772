"""A clinician and a student in a real JupyterLab, in headless Chromium (Debian's), driven by Playwright."""
from __future__ import annotations

import shutil

import pytest
import yaml

from ketamine_course import content

from conftest import ARTIFACTS, REPO, copy_course, nbgrader
from lab_browser import answer_item, open_notebook, question_box, run_all
from lab_server import jupyter_lab

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]  # one worker runs the browser modules

FIXTURES = sorted((REPO / "tests" / "fixtures" / "assignments").glob("*.yaml"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = copy_course(tmp_path_factory.mktemp("browser") / "course_root")
    ARTIFACTS.mkdir(exist_ok=True)
    for fixture_path in FIXTURES:  # the instructor releases each assignment (and so registers it)
        nbgrader(root, "generate_assignment", fixture_path.stem, "--force")
    with jupyter_lab(root, ARTIFACTS / "jupyterlab.log") as (base, token):
        yield root, base, token


@pytest.mark.kernel
def test_clinician_runs_start_here_and_gets_instant_feedback(lab, page):
    root, base, token = lab
    open_notebook(page, base, token, "course/00_start_here.ipynb", "clinician")
    questions = len(content.question_banks()["m0"].questions)
    run_all(page, questions, ".kc-formative")
    box = question_box(page, "m0.q1")
    box.scroll_into_view_if_needed()
    box.get_by_text("Racemic ketamine by intravenous infusion").click()
    feedback = box.locator(".kc-feedback")
    feedback.get_by_text("Not the best answer").wait_for()
    assert "off-label" in feedback.inner_text()
    assert "Sanacora" in feedback.inner_text(), "the rationale comes with its reference"
    box.get_by_text("Esketamine nasal spray, given in a certified healthcare setting").click()
    feedback.get_by_text("Correct.").wait_for()
    page.screenshot(path=str(ARTIFACTS / "start_here_feedback.png"), full_page=False)
    assert page.get_by_role("menuitem", name="Nbgrader").is_visible(), "nbgrader's JupyterLab menu is there"


@pytest.mark.kernel
@pytest.mark.parametrize("fixture_path", FIXTURES, ids=lambda p: p.stem)
def test_student_answers_by_clicking_submits_and_gets_full_marks(lab, page, fixture_path):
    root, base, token = lab
    fixture = yaml.safe_load(fixture_path.read_text())
    assignment, notebook = fixture["assignment"], fixture["notebook"]
    items = content.assessments()[assignment].items
    open_notebook(page, base, token, f"assignments/{assignment}/{notebook}.ipynb", f"student-{assignment}")
    run_all(page, len(items), ".kc-graded")
    for item in items:
        answer_item(page, item, fixture["right"][item.id])
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / f"{assignment}_answered.png"), full_page=False)

    # Submit: the student's folder (notebook and answer store) goes to submitted/, then autograde.
    submitted = root / "submitted" / "browser_student" / assignment
    shutil.copytree(root / "assignments" / assignment, submitted, ignore=shutil.ignore_patterns(".*"))
    assert (submitted / "answers.json").exists(), "the clicks were saved beside the notebook"
    nbgrader(root, "db", "student", "add", "browser_student")
    nbgrader(root, "autograde", assignment, "--student", "browser_student", "--force")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        graded = gb.find_submission_notebook(notebook, assignment, "browser_student")
        assert graded.score == pytest.approx(fixture["auto_points"])


def test_server_refuses_requests_without_the_token(lab):
    import urllib.error
    import urllib.request

    root, base, token = lab
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}/api/contents/course", timeout=10)
    assert refused.value.code == 403
    with urllib.request.urlopen(f"{base}/api/contents/course?token={token}", timeout=10) as reply:
        assert reply.status == 200
    assert base.startswith("http://127.0.0.1:")
