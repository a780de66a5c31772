"""A clinician studying alone, in a real JupyterLab in headless Chromium: quick checks, the dashboard,
Grade my work and the certificate (refused before passing, made after, unsigned), and the evaluation."""

from __future__ import annotations

import json

import pytest
import yaml
from lab_browser import open_notebook, question_box, run_all

from ketamine_course import content
from ketamine_course.selfstudy.certificate import verify as verify_certificate
from ketamine_course.storage import answer_store

from conftest import ARTIFACTS, REPO, copy_course
from lab_server import jupyter_lab

pytestmark = [pytest.mark.browser, pytest.mark.kernel, pytest.mark.xdist_group("browser")]

ASSIGNMENT = "ps0_start_here"


@pytest.fixture(scope="module")
def solo_lab(tmp_path_factory):
    """A course whose only graded assignment is Start here's, so that passing it earns the certificate."""
    base_dir = tmp_path_factory.mktemp("self-study")
    root = copy_course(base_dir / "course_root", only=ASSIGNMENT)
    data = base_dir / "learner-data"
    ARTIFACTS.mkdir(exist_ok=True)
    with jupyter_lab(root, ARTIFACTS / "jupyterlab-self-study.log", KETAMINE_COURSE_DATA=str(data)) as (url, token):
        yield root, url, token, data


def objective_status(page, objective_id):
    return page.locator(f".kc-progress-table tr[data-objective='{objective_id}'] td").nth(3).inner_text()


def test_self_study_journey_from_quick_checks_to_certificate(solo_lab, page):
    root, url, token, data = solo_lab

    # 1. Quick checks in Start here are recorded in the learner's own data folder.
    open_notebook(page, url, token, "course/00_start_here.ipynb", "solo-start")
    run_all(page, 7, ".kc-formative")
    overview = page.locator(".kc-progress").first
    assert "You have answered 0 of" in overview.inner_text()
    box = question_box(page, "m0.q1")
    box.scroll_into_view_if_needed()
    box.get_by_text("Racemic ketamine by intravenous infusion").click()  # a wrong answer
    box.locator(".kc-feedback").get_by_text("Not the best answer").wait_for()
    box = question_box(page, "m0.q6")
    box.scroll_into_view_if_needed()
    right = next(o.text for o in content.question("m0.q6").options if o.correct)
    box.get_by_role("radio", name=right, exact=True).check()
    box.locator(".kc-feedback").get_by_text("Correct.").wait_for()
    assert (data / "progress.json").exists(), "answers go to the learner's data folder"
    assert not list(root.rglob("progress.json")), "nothing is written into the course folder"
    overview.scroll_into_view_if_needed()
    overview.get_by_role("button", name="Refresh my progress").click()
    page.wait_for_function("() => document.querySelector('.kc-progress').innerText.includes('You have answered 2 of')")

    # 2. The dashboard shows the change, by module and by objective, with a review link.
    open_notebook(page, url, token, "course/my_progress.ipynb", "solo-dashboard")
    run_all(page, 4, ".kc-progress, .kc-grade-my-work, .kc-certificate-panel, .kc-evaluation")
    dashboard = page.locator(".kc-progress")
    assert "You have answered 2 of" in dashboard.inner_text()
    assert dashboard.locator("img[alt^='Bar chart']").count() == 2, "the matplotlib charts are shown"
    assert objective_status(page, "m0.o1") == "Review"
    review = page.locator(".kc-progress-table tr[data-objective='m0.o1'] a")
    href = review.first.get_attribute("href")  # JupyterLab resolves it to the notebook, at the section's heading
    assert "/course/00_start_here.ipynb" in href and href.endswith("#Try-it:-your-first-quick-check")
    page.screenshot(path=str(ARTIFACTS / "dashboard_progress.png"), full_page=False)

    # Reset asks first; cancelling keeps everything.
    dashboard.get_by_role("button", name="Reset my progress…").click()
    page.locator(".kc-reset-confirm").get_by_text("Clear 2 recorded answer(s)").wait_for()
    page.locator(".kc-reset-confirm").get_by_role("button", name="Cancel").click()
    assert (data / "progress.json").exists()

    # 3. The certificate is refused before the assessment is passed.
    panel = page.locator(".kc-certificate-panel")
    panel.scroll_into_view_if_needed()
    panel.get_by_placeholder("Your name as it should appear").fill("Dr Robin Okafor")
    panel.get_by_role("button", name="Make my certificate").click()
    panel.locator(".kc-certificate-status").get_by_text("Not yet.").wait_for()
    assert "has not been graded yet" in panel.locator(".kc-certificate-status").inner_text()
    assert not (data / "certificates").exists()

    # 4. The learner's answers to the assignment (saved as the widgets save them), then Grade my work.
    fixture = yaml.safe_load((REPO / "tests" / "fixtures" / "assignments" / f"{ASSIGNMENT}.yaml").read_text())
    copy = root / "assignments" / ASSIGNMENT
    for item_id, value in fixture["right"].items():
        answer_store.save_answer(item_id, value, folder=copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()}
    grader = page.locator(".kc-grade-my-work")
    grader.scroll_into_view_if_needed()
    grader.get_by_role("button", name="Grade my work").click()
    grader.locator(".kc-grade-status").get_by_text(
        f"{fixture['auto_points']} of {fixture['auto_points']} automatically", exact=False
    ).wait_for(timeout=180_000)
    feedback = grader.frame_locator("iframe[title='Feedback']")
    feedback.get_by_text("Your answer", exact=False).first.wait_for()
    assert "BEGIN MARK SCHEME" not in grader.inner_html()
    page.screenshot(path=str(ARTIFACTS / "dashboard_graded.png"), full_page=False)
    assert {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()} == before, "answers are never touched"

    # 5. Now the certificate is made, from the recorded grade.
    panel.get_by_role("button", name="Make my certificate").click()
    panel.locator(".kc-certificate-status").get_by_text("Your certificate is ready").wait_for(timeout=120_000)
    certificate = panel.frame_locator("iframe[title='Certificate']")
    certificate.get_by_text("Dr Robin Okafor").wait_for()
    assert "100%" in certificate.locator("body").inner_text()
    pages = list((data / "certificates").glob("*.html"))
    assert len(pages) == 1 and "Dr Robin Okafor" in pages[0].read_text()
    page.screenshot(path=str(ARTIFACTS / "dashboard_certificate.png"), full_page=False)

    # 6. Made on the learner's own computer, it says it is unsigned, and verification says so too.
    assert "Unsigned." in certificate.locator("body").inner_text()
    assert "unsigned" in verify_certificate(pages[0])[1][-1]

    # 7. The evaluation at the end is saved in the learner's data folder, to be sent with the certificate.
    form = page.locator(".kc-evaluation")
    form.scroll_into_view_if_needed()
    form.locator(".kc-evaluation-objectives_met").get_by_role("radio", name="4 · agree").check()
    form.locator(".kc-evaluation-professional_id input").fill("GMC 7654321")
    form.get_by_role("button", name="Save my evaluation").click()
    form.get_by_text("your evaluation is saved").wait_for()
    saved = json.loads((data / "evaluation.json").read_text())["answers"]
    assert saved == {"objectives_met": 4, "professional_id": "GMC 7654321"}
