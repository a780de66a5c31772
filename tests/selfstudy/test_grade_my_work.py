"""Grade my work and the certificate, with real nbgrader runs in a scratch course."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from ketamine_course.selfstudy import certificate, grade_my_work
from ketamine_course.storage import answer_store

from conftest import BIN, REPO, copy_course, course_env

pytestmark = [
    pytest.mark.nbgrader,
    pytest.mark.xdist_group("self_grading"),
]  # one worker: the scratch course is made once

ASSIGNMENT = "ps0_start_here"
FIXTURE = yaml.safe_load((REPO / "tests" / "fixtures" / "assignments" / f"{ASSIGNMENT}.yaml").read_text())


@pytest.fixture(scope="module")
def solo_course(tmp_path_factory):
    """A course with one graded assignment, and a learner data folder of its own."""
    base = tmp_path_factory.mktemp("solo")
    root = copy_course(base / "course_root")
    for folder in ("solutions", "assignments"):
        for assignment in (root / folder).iterdir():
            if assignment.name != ASSIGNMENT:
                shutil.rmtree(assignment)
    return root, base / "learner-data"


@pytest.fixture
def learner(solo_course, monkeypatch):
    root, data = solo_course
    monkeypatch.setenv("KETAMINE_COURSE_DATA", str(data))
    return root, data


def answer(copy, answers):
    for item_id, value in answers.items():
        answer_store.save_answer(item_id, value, folder=copy)


def snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.kernel
def test_untouched_copy_grades_zero_with_feedback_and_no_certificate(learner):
    root, data = learner
    copy = root / "assignments" / ASSIGNMENT
    before = snapshot(copy)
    grade = grade_my_work.grade_my_work(ASSIGNMENT, root=root)
    assert (grade.auto_score, grade.auto_max, grade.manual_max) == (0, FIXTURE["auto_points"], FIXTURE["manual_points"])
    assert grade.feedback and "not answered" in grade.feedback[0].read_text().lower()
    assert snapshot(copy) == before, "the learner's copy is only read"
    with pytest.raises(certificate.NotEligible, match="scored 0%"):
        certificate.make_certificate("Dr Sam Lee", root=root)
    assert not (data / "certificates").exists()


@pytest.mark.kernel
def test_partial_then_full_marks_a_second_run_replaces_the_grade_and_earns_the_certificate(learner):
    root, data = learner
    copy = root / "assignments" / ASSIGNMENT
    answer(copy, FIXTURE["partial"]["answers"])
    first = grade_my_work.grade_my_work(ASSIGNMENT, root=root)
    assert first.auto_score == pytest.approx(FIXTURE["partial"]["score"])
    answer(copy, FIXTURE["right"])
    before = snapshot(copy)
    second = grade_my_work.grade_my_work(ASSIGNMENT, root=root)
    assert second.auto_score == FIXTURE["auto_points"] and second.percent == 100
    assert grade_my_work.recorded_grade(ASSIGNMENT).auto_score == FIXTURE["auto_points"], (
        "the new grade replaced the old"
    )
    assert snapshot(copy) == before, "answers are never overwritten"
    written = certificate.make_certificate("  Dr   Sam Lee ", root=root)
    page = written[0].read_text()
    assert "Dr Sam Lee" in page and "100%" in page and "1 December 2026" in page and "Certificate id" in page
    verified, found = certificate.verify(written[0])
    assert "Unsigned." in page and not verified and "unsigned" in found[-1]
    assert "Start here: graded check" in page
    if certificate.browser_for_pdf():
        assert written[-1].suffix == ".pdf" and written[-1].read_bytes().startswith(b"%PDF")


def test_the_pass_mark_is_credit_yamls(learner, monkeypatch):
    root, _ = learner
    stricter = certificate.credit_facts().model_copy(update={"pass_mark": 100.0})
    monkeypatch.setattr(certificate, "credit_facts", lambda: stricter)
    assert certificate.standing(root).eligible == (grade_my_work.recorded_grade(ASSIGNMENT).percent == 100)


def test_a_name_is_required(learner):
    root, _ = learner
    with pytest.raises(certificate.NotEligible, match="Type your name"):
        certificate.make_certificate("   ", root=root)


def test_clear_messages_for_an_unknown_assignment_or_a_missing_notebook(learner, tmp_path):
    root, _ = learner
    with pytest.raises(grade_my_work.SelfGradingError, match="There is no assignment called 'ps9'.*ps0_start_here"):
        grade_my_work.grade_my_work("ps9", root=root)
    with pytest.raises(grade_my_work.SelfGradingError, match="No notebook of ps0_start_here"):
        grade_my_work.grade_my_work(ASSIGNMENT, folder=tmp_path, root=root)


@pytest.mark.kernel
def test_the_one_command_grades_and_prints_the_feedback_page(learner):
    root, data = learner
    result = subprocess.run(
        [str(BIN / "ketamine-course"), "grade-my-work", ASSIGNMENT, "--no-browser"],
        cwd=root,
        env=course_env(KETAMINE_COURSE_DATA=str(data)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert f"{FIXTURE['auto_points']} of {FIXTURE['auto_points']} automatically graded points (100%)" in result.stdout
    assert "Feedback: " in result.stdout and ".html" in result.stdout
    refused = subprocess.run(
        [str(BIN / "ketamine-course"), "grade-my-work", "nonsense", "--no-browser"],
        cwd=root,
        env=course_env(KETAMINE_COURSE_DATA=str(data)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1 and "There is no assignment called 'nonsense'" in refused.stderr
    made = subprocess.run(
        [str(BIN / "ketamine-course"), "certificate", "--name", "Dr Sam Lee", "--no-pdf"],
        cwd=root,
        env=course_env(KETAMINE_COURSE_DATA=str(data)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0 and "Certificate: " in made.stdout and "passed" in made.stdout


# As on Windows, which has no fcntl: `import fcntl` raises ImportError in this process, before the course loads.
WITHOUT_FCNTL = """\
import json, sys
sys.modules["fcntl"] = None
from pathlib import Path
from ketamine_course.selfstudy import grade_my_work
from ketamine_course.storage import answer_store, progress_record
root, folder, right = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
for item_id, value in right.items():
    answer_store.save_answer(item_id, value, folder=folder)
progress_record.record("m0.q1", "b", 1.0)
grade = grade_my_work.grade_my_work(sys.argv[4], folder=folder, root=root)
print(json.dumps({
    "stored": answer_store.read_store(folder).answers == right,
    "progress": sorted(progress_record.read().answers),
    "score": grade.auto_score,
    "fcntl_loaded": sys.modules["fcntl"] is not None,
}))
"""


@pytest.mark.kernel
def test_answers_progress_and_grade_my_work_need_no_fcntl(solo_course, tmp_path):
    """The answer store, the progress record and grade my work (with its real nbgrader run) work where
    `fcntl` does not exist, as on Windows."""
    root, _ = solo_course
    folder = tmp_path / ASSIGNMENT
    shutil.copytree(root / "assignments" / ASSIGNMENT, folder, ignore=shutil.ignore_patterns("answers*.json", ".*"))
    result = subprocess.run(
        [str(BIN / "python"), "-c", WITHOUT_FCNTL, str(root), str(folder), json.dumps(FIXTURE["right"]), ASSIGNMENT],
        env=course_env(KETAMINE_COURSE_DATA=str(tmp_path / "data")),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"stored": True, "progress": ["m0.q1"], "score": FIXTURE["auto_points"], "fcntl_loaded": False}
