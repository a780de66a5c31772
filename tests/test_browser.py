"""A clinician and a student in a real JupyterLab, in headless Chromium (Debian's), driven by Playwright."""
from __future__ import annotations

import shutil

import pytest
import yaml

from ketamine_course import content

from conftest import ARTIFACTS, REPO, copy_course, nbgrader
from lab_server import jupyter_lab

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
FIXTURES = sorted((REPO / "tests" / "fixtures" / "assignments").glob("*.yaml"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = copy_course(tmp_path_factory.mktemp("browser") / "course_root")
    ARTIFACTS.mkdir(exist_ok=True)
    for fixture_path in FIXTURES:  # the instructor releases each assignment (and so registers it)
        nbgrader(root, "generate_assignment", fixture_path.stem, "--force")
    with jupyter_lab(root, ARTIFACTS / "jupyterlab.log") as (base, token):
        yield root, base, token


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def open_notebook(page, base, token, path, workspace):
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{path}?reset&token={token}")
    page.locator(".jp-NotebookPanel").first.wait_for()
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=120_000)


def run_all(page, expected_widgets: int, css: str):
    """Run All from the menu; wait until the widgets have rendered and the kernel has finished every cell.

    Run All is chosen once the status bar shows the kernel Idle, and chosen again if no output has
    appeared after 30 s: on a busy machine a freshly opened notebook can miss the first choice.
    Only the notebook in front counts (several may be open in one JupyterLab).
    """
    current = ".jp-NotebookPanel:not(.lm-mod-hidden)"
    page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for(timeout=120_000)
    for attempt in range(3):
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.locator("#jp-mainmenu-run").get_by_text("Run All Cells", exact=True).click()
        try:
            page.locator(f"{current} .jp-OutputArea-output").first.wait_for(timeout=30_000)
            break
        except Exception:
            if attempt == 2:
                page.screenshot(path=str(ARTIFACTS / "run_all_timeout.png"))
                raise
    try:
        page.wait_for_function(f"() => document.querySelectorAll('{current} {css}').length >= {expected_widgets}",
                               timeout=180_000)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "run_all_timeout.png"))
        raise
    page.locator(f"{current} .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=180_000)
    errors = page.locator(f'{current} [data-mime-type="application/vnd.jupyter.stderr"]')
    assert errors.count() == 0, errors.first.inner_text()


def question_box(page, item_id):
    return page.locator(".kc-question", has=page.locator(".kc-stem", has_text=f"[{item_id}]"))


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


def answer_item(page, item, value):
    """Answer one graded item the way a learner does: clicking, choosing and typing."""
    box = question_box(page, item.id)
    box.scroll_into_view_if_needed()
    status = box.locator(".kc-status")
    if item.type == "single":
        text = next(o.text for o in item.options if o.id == value)
        box.get_by_role("radio", name=text, exact=True).check()  # found by its accessible name
    elif item.type == "multiple":
        for option in item.options:
            if option.id in value:
                box.get_by_role("checkbox", name=option.text, exact=True).check()
    elif item.type == "numeric":
        box.locator(".widget-dropdown select").select_option(label=value["unit"])
        field = box.locator(".widget-text input")
        field.fill(str(value["value"]))
        field.press("Enter")
    elif item.type == "ordering":
        steps = {s.id: s.text for s in item.steps}
        for position, step_id in zip(box.locator(".widget-dropdown select").all(), value):
            position.select_option(label=steps[step_id])
    else:
        field = box.locator(".widget-textarea textarea")
        field.fill(value)
        field.press("Tab")
    status.get_by_text("Saved").wait_for()


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
