"""A clinician and a student in a real JupyterLab, in headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
import yaml

from ketamine_course import content

from conftest import ARTIFACTS, REPO, copy_course, nbgrader
from lab_browser import (
    NAME_RULES,
    SERIOUS,
    answer_by_keys,
    answer_item,
    axe_violations,
    open_notebook,
    question_box,
    run_all,
    wait_until_settled,
)
from lab_server import jupyter_lab

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]  # the JupyterLab modules; see conftest.py

FIXTURES = sorted((REPO / "tests" / "fixtures" / "assignments").glob("*.yaml"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = copy_course(tmp_path_factory.mktemp("browser") / "course_root")
    ARTIFACTS.mkdir(exist_ok=True)
    # The instructor releases every assignment (and so registers it), in one run of nbgrader.
    nbgrader(root, "generate_assignment", "*", "--force")
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
    assert page.locator(".jp-InputPrompt:visible, .jp-OutputPrompt:visible").count() == 0, "no [1]: prompts"
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
    page.screenshot(path=str(ARTIFACTS / f"{assignment}_answered.png"), full_page=False)
    score = submit_and_autograde(page, root, assignment, notebook, "browser_student", fixture["right"])
    assert score == pytest.approx(fixture["auto_points"])


def submit_and_autograde(page, root, assignment, notebook, student, answers: dict) -> float:
    """Once the answer store holds `answers` (item -> value), save (Ctrl+S), submit the student's folder
    (notebook and answer store) to submitted/ and autograde; the notebook's score."""
    wait_until_stored(root / "assignments" / assignment / "answers.json", answers)
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)
    submitted = root / "submitted" / student / assignment
    shutil.copytree(root / "assignments" / assignment, submitted, ignore=shutil.ignore_patterns(".*"))
    assert (submitted / "answers.json").exists(), "the answers were saved beside the notebook"
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:  # what `nbgrader db student add` does
        gb.update_or_create_student(student)
    nbgrader(root, "autograde", assignment, "--student", student, "--force")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return gb.find_submission_notebook(notebook, assignment, student).score


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


MODULES = sorted(str(p.relative_to(REPO)) for p in [*REPO.glob("course/*.ipynb"), *REPO.glob("assignments/*/*.ipynb")])


def code_lines(notebook_path) -> set:
    """The lines of the notebook's code cells long enough not to occur in prose by chance."""
    cells = json.loads(notebook_path.read_text(encoding="utf-8"))["cells"]
    return {
        line.strip()
        for cell in cells
        if cell["cell_type"] == "code"
        for line in "".join(cell["source"]).splitlines()
        if len(line.strip()) >= 8
    }


def wait_until_stored(store: Path, answers: dict, seconds: float = 60) -> None:
    """Wait until the answer store holds every answer given. An item shows "Saved" after its first
    save, so a choice made with several key presses (Space, then arrows) may still be on its way."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            held = {k: v["value"] for k, v in json.loads(store.read_text(encoding="utf-8"))["answers"].items()}
        except (OSError, ValueError, KeyError):
            held = {}
        missing = {k: v for k, v in answers.items() if held.get(k) != v}
        if not missing:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the answer store does not hold {missing} (it holds {held})")
        time.sleep(0.2)


def api(base, token, path, method="GET", attempts=5):
    """One call of the Jupyter server's REST API, as JSON.

    A 500 is asked again after a moment: jupyter_server lists a kernel that is still starting before
    it has given it `last_activity`, and answers a listing made at that instant with a 500."""
    request = urllib.request.Request(f"{base}{path}?token={token}", method=method)
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as error:
            if error.code != 500 or attempt == attempts:
                raise
            time.sleep(0.5)


@pytest.mark.kernel  # JupyterLab starts each notebook's kernel when it opens it
def test_no_code_is_shown_or_read_out_in_any_module_and_no_news_prompt(lab, page):
    """Every module and released assignment as JupyterLab opened by the course shows it: no line of any code
    cell's source in the visible text or in the accessibility tree, no prompt numbers, and no question
    about Jupyter news."""
    root, base, token = lab
    fetch_news = api(base, token, "/lab/api/settings/@jupyterlab/apputils-extension:notification")
    assert fetch_news["schema"]["properties"]["fetchNews"]["default"] == "false"
    for path in MODULES:
        cells = len(json.loads((REPO / path).read_text(encoding="utf-8"))["cells"])
        page.goto(f"{base}/lab/workspaces/no-code/tree/{path}?reset&token={token}")
        panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        page.wait_for_function(
            "n => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').length >= n", arg=cells
        )
        shown, read_out = panel.inner_text(), panel.aria_snapshot()
        for line in code_lines(REPO / path):
            assert line not in shown, f"{path} shows code: {line!r}"
            assert line not in read_out, f"{path} exposes code to assistive technology: {line!r}"
        assert panel.locator(".jp-InputPlaceholder:visible, .jp-InputPrompt:visible").count() == 0, path
        for kernel in api(base, token, "/api/kernels"):  # one kernel at a time on the server
            api(base, token, f"/api/kernels/{kernel['id']}", method="DELETE")
    page.screenshot(path=str(ARTIFACTS / "no_code_last_module.png"), full_page=False)
    assert page.get_by_text("official Jupyter news").count() == 0, "JupyterLab asks about news"


# --- accessibility -------------------------------------------------------------------------------

COURSE_NOTEBOOKS = sorted(p.name for p in (REPO / "course").glob("*.ipynb"))
OUTPUTS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea"  # what the course renders in the notebook


def course_calls(notebook_path) -> int:
    """How many cells of a notebook show something: every code cell but the first, which imports."""
    return sum(c.cell_type == "code" for c in nbformat.read(notebook_path, as_version=4).cells) - 1


@pytest.mark.kernel
@pytest.mark.parametrize("notebook", COURSE_NOTEBOOKS)
def test_what_every_module_renders_in_jupyterlab_has_no_serious_accessibility_violations(lab, page, notebook):
    root, base, token = lab
    open_notebook(page, base, token, f"course/{notebook}", f"a11y-{Path(notebook).stem}")
    run_all(page, course_calls(root / "course" / notebook), ".jp-OutputArea-output")
    wait_until_settled(page)
    found = axe_violations(page, OUTPUTS)
    assert not found, "\n".join(found)


def right_answer(question):
    """A quick check's right answer, from its question bank (a reflection: some words)."""
    if question.type == "single":
        return next(o.id for o in question.options if o.correct)
    if question.type == "multiple":
        return [o.id for o in question.options if o.correct]
    if question.type == "numeric":
        return {"value": question.answer.value, "unit": question.answer.unit}
    if question.type == "ordering":
        return list(question.order)
    return "Blood pressure rises for a while, so it is checked, and someone else drives home."


@pytest.mark.kernel
def test_keyboard_only_quick_checks_and_assignment_reach_full_marks_every_control_named(lab, page):
    """Start here's quick checks and its assignment, with Tab, Shift+Tab, Space, Enter, arrows and typing."""
    root, base, token = lab
    open_notebook(page, base, token, "course/00_start_here.ipynb", "keys-start")
    questions = content.question_banks()["m0"].questions
    run_all(page, len(questions), ".kc-formative", keyboard=True)
    wait_until_settled(page)
    assert axe_violations(page, OUTPUTS, rules=NAME_RULES, impacts=("minor", "moderate", *SERIOUS)) == []
    for question in questions:
        box = question_box(page, question.id)
        answer_by_keys(page, box, question, right_answer(question))
        verdict = r"^ℹ Compare your answer" if question.type == "reflection" else r"^✔ Correct"  # a full mark
        box.locator(".kc-feedback [role=status]").filter(has_text=re.compile(verdict)).wait_for()

    fixture = yaml.safe_load((REPO / "tests" / "fixtures" / "assignments" / "ps0_start_here.yaml").read_text())
    assignment, notebook = fixture["assignment"], fixture["notebook"]
    items = content.assessments()[assignment].items
    (root / "assignments" / assignment / "answers.json").unlink(missing_ok=True)  # unanswered, as released
    open_notebook(page, base, token, f"assignments/{assignment}/{notebook}.ipynb", "keys-assignment")
    run_all(page, len(items), ".kc-graded", keyboard=True)
    wait_until_settled(page)
    assert axe_violations(page, OUTPUTS, rules=NAME_RULES, impacts=("minor", "moderate", *SERIOUS)) == []
    figures = page.locator(f"{OUTPUTS} img")
    assert all(alt.strip() for alt in figures.evaluate_all("imgs => imgs.map(i => i.alt)")), "every figure has alt text"
    for item in items:
        box = question_box(page, item.id)
        answer_by_keys(page, box, item, fixture["right"][item.id])
        box.locator(".kc-status").get_by_text("Saved").wait_for()
    page.screenshot(path=str(ARTIFACTS / "keyboard_assignment_answered.png"), full_page=False)
    score = submit_and_autograde(page, root, assignment, notebook, "keyboard_student", fixture["right"])
    assert score == fixture["auto_points"]
