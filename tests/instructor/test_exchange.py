"""nbgrader's exchange, the whole cycle, with real Unix accounts; and the course's late-submission rule.

The instructor (root) releases Start here through a scratch exchange. Three student accounts list,
fetch, answer (the answer store writes answers.json as the student, as the widgets do) and submit;
one submits again after the due date has passed. The instructor collects, autogrades, grades the
reflections by hand, generates and releases feedback, and each student fetches their own.

The accounts are created for the test (name prefix `kcstu` and a random part, homes in a scratch
folder) and removed at the end, also when a test fails. Needs root and `useradd`; skipped otherwise.
"""

from __future__ import annotations

import csv
import json
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest
import yaml
from nbgrader.api import Gradebook
from shared_course import shared_course
from traitlets import TraitError

from ketamine_course.core import late_penalty
from ketamine_course.instructor import late_policy

from conftest import REPO, TRY_TO_READ, copy_course, nbgrader

# One worker: the accounts, the exchange and the whole cycle are made once.
pytestmark = pytest.mark.xdist_group("exchange")

ASSIGNMENT = "ps0_start_here"
FIXTURE = yaml.safe_load((REPO / "tests" / "fixtures" / "assignments" / f"{ASSIGNMENT}.yaml").read_text())
NOTEBOOK = FIXTURE["notebook"]
AUTO_POINTS = float(FIXTURE["auto_points"])
MANUAL_POINTS = float(FIXTURE["manual_points"])
TOTAL_POINTS = AUTO_POINTS + MANUAL_POINTS
COURSE_ID = "ketamine-therapy"  # nbgrader_config.py
REFLECTION_TASK = "ps0_r1_task"

# Each role: the answers the student gives, and the reflection score the grader enters.
ROLES = {
    "right": {"answers": FIXTURE["right"], "manual": 2.0},
    "partial": {"answers": FIXTURE["partial"]["answers"], "manual": 1.0},
    "late": {"answers": FIXTURE["right"], "manual": 2.0},  # first submits partial answers on time
}
AUTO_SCORES = {"right": AUTO_POINTS, "partial": FIXTURE["partial"]["score"], "late": AUTO_POINTS}
LATE_PENALTY = 1.0  # submitted seconds after the due date: one started day, 10% of the 10 points

SAVE_ANSWERS = """\
import json, sys
from ketamine_course.storage import answer_store
folder, answers = sys.argv[1], json.loads(sys.argv[2])
for item_id, value in answers.items():
    answer_store.save_answer(item_id, value, folder)
"""


# ---------------------------------------------------------------- the late rule on its own


@pytest.mark.parametrize(
    "seconds, days",
    [
        (0, 0),
        (-5, 0),
        (1, 1),
        (86_400, 1),
        (86_401, 2),
        (2.5 * 86_400, 3),
    ],
)
def test_a_started_day_counts_as_a_whole_day(seconds, days):
    assert late_penalty.started_days_late(seconds) == days


@pytest.mark.parametrize(
    "points, score, seconds, share, penalty",
    [
        (10, 8, 0, 0.10, 0.0),  # on time: nothing off
        (10, 8, 60, 0.10, 1.0),  # a minute late: one day, 10% of the 10 points
        (10, 8, 2.5 * 86_400, 0.10, 3.0),  # two and a half days: three days
        (10, 2, 5 * 86_400, 0.10, 2.0),  # the penalty stops at the score: never below zero
        (10, 0, 86_400, 0.10, 0.0),
        (17, 17, 86_400, 0.25, 4.25),  # the share is a setting
    ],
)
def test_late_penalty(points, score, seconds, share, penalty):
    assert late_penalty.points_off(points, score, seconds, share) == pytest.approx(penalty)


def test_share_per_day_is_a_checked_setting():
    assert late_policy.PerDayLatePenalty().share_per_day == pytest.approx(0.10)
    with pytest.raises(TraitError):
        late_policy.PerDayLatePenalty(share_per_day=1.5)


def test_the_course_configures_the_late_rule():
    config = (REPO / "nbgrader_config.py").read_text()
    assert 'c.AssignLatePenalties.plugin_class = "ketamine_course.instructor.late_policy.PerDayLatePenalty"' in config
    assert "c.PerDayLatePenalty.share_per_day = 0.10" in config


# ---------------------------------------------------------------- accounts and a scratch exchange


@dataclass
class Student:
    role: str
    name: str
    uid: int
    gid: int
    home: Path


@pytest.fixture(scope="module")
def scratch_root():
    """A folder for the exchange and the students' homes: others may pass through it, not list it."""
    if sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("the exchange cycle creates Unix accounts: it needs Linux, root and useradd")
    root = Path(tempfile.mkdtemp(prefix="kc-exchange-"))
    try:
        root.chmod(0o711)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def students(scratch_root):
    """Three student accounts with private homes; removed afterwards (userdel -r), whatever happens."""
    homes = scratch_root / "home"
    homes.mkdir(mode=0o711)
    homes.chmod(0o711)
    prefix = f"kcstu{secrets.token_hex(3)}"
    created, accounts = [], {}
    try:
        for role in ROLES:
            name = f"{prefix}{role}"
            try:
                pwd.getpwnam(name)
                pytest.fail(f"account {name} already exists; refusing to touch it")
            except KeyError:
                pass
            subprocess.run(
                [
                    "useradd",
                    "--create-home",
                    "--home-dir",
                    str(homes / name),
                    "--user-group",
                    "--shell",
                    "/usr/sbin/nologin",
                    "--comment",
                    "exchange test student",
                    name,
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            created.append(name)
            entry = pwd.getpwnam(name)
            home = Path(entry.pw_dir)
            home.chmod(0o700)  # docs/exchange.md: a student's home is private
            accounts[role] = Student(role, name, entry.pw_uid, entry.pw_gid, home)
            write_student_config(accounts[role], scratch_root / "exchange")
        yield accounts
    finally:
        for name in created:
            subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)
        left = [name for name in created if _account_exists(name)]
        assert not left, f"accounts not removed: {left}"


def _account_exists(name) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def write_student_config(student: Student, exchange: Path) -> None:
    """What docs/exchange.md puts in /etc/jupyter/nbgrader_config.py, here in the student's ~/.jupyter."""
    folder = student.home / ".jupyter"
    folder.mkdir(mode=0o700)
    config = folder / "nbgrader_config.py"
    config.write_text(
        f'c = get_config()\nc.CourseDirectory.course_id = "{COURSE_ID}"\nc.Exchange.root = "{exchange}"\n',
        encoding="utf-8",
    )
    for path in (folder, config):
        os.chown(path, student.uid, student.gid)


@dataclass
class StudentPython:
    executable: Path
    course_python_reachable: bool
    note: str


@pytest.fixture(scope="module")
def student_python(scratch_root) -> StudentPython:
    """The Python students run nbgrader and the answer store with.

    The course's environment, when every account can reach it and the course. Otherwise (a checkout in a
    private folder, or a Python installed under /root, say) a copy of the course and of its environment
    in the scratch folder (tests/shared_course.py): the same interpreter, nbgrader and course package,
    run with the students' own rights.
    """
    shared = shared_course(scratch_root / "shared")
    note = ""
    if shared.copied:
        note = (
            f"students could not use the course's environment ({shared.note}; see docs/exchange.md); "
            f"the cycle ran with a copy of it that every account can reach, {shared.python}"
        )
    return StudentPython(shared.python, not shared.copied, note)


def as_student(student: Student, python: StudentPython, *args, check=True) -> subprocess.CompletedProcess:
    """Run a command as the student: their account, home folder, environment and rights."""
    env = {
        "HOME": str(student.home),
        "USER": student.name,
        "LOGNAME": student.name,
        "LANG": "C.UTF-8",
        "PATH": f"{python.executable.parent}{os.pathsep}/usr/bin:/bin",
    }
    result = subprocess.run(
        [str(python.executable), *args],
        cwd=student.home,
        env=env,
        user=student.uid,
        group=student.gid,
        extra_groups=[],
        umask=0o022,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{student.name}: {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def student_nbgrader(student, python, *args) -> str:
    result = as_student(student, python, "-m", "nbgrader", *args)
    return result.stdout + result.stderr


def save_answers(student, python, answers) -> None:
    as_student(student, python, "-c", SAVE_ANSWERS, str(student.home / ASSIGNMENT), json.dumps(answers))


def nbgrader_time(moment: datetime) -> str:
    """A moment in the form nbgrader writes submission time stamps (and parses due dates)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def enter_hand_grade(grade, score: float) -> None:
    """Record a grader's score as the formgrader's save button does (its grade API handler)."""
    grade.manual_score = score
    grade.needs_manual_grade = False


# ---------------------------------------------------------------- the cycle


@dataclass
class Cycle:
    course: Path
    exchange: Path
    students: dict
    python: StudentPython
    duedate: str
    logs: dict


@pytest.fixture(scope="module")
def cycle(scratch_root, students, student_python, tmp_path_factory) -> Cycle:
    course = copy_course(tmp_path_factory.mktemp("exchange") / "course_root")
    exchange = scratch_root / "exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)  # like /usr/local/share/nbgrader/exchange: everyone writes, the sticky bit protects
    on_exchange = f"--Exchange.root={exchange}"
    logs = {}

    # Instructor: students, the assignment with a due date a week away, release.
    roster = course.parent / "students.csv"  # one `db student import` instead of an `add` per student
    roster.write_text(
        "id,last_name,first_name\n" + "".join(f"{s.name},{s.role.title()},Test\n" for s in students.values()),
        encoding="utf-8",
    )
    nbgrader(course, "db", "student", "import", str(roster))
    nbgrader(
        course,
        "db",
        "assignment",
        "add",
        ASSIGNMENT,
        f"--duedate={nbgrader_time(datetime.now(timezone.utc) + timedelta(days=7))}",
    )
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    nbgrader(course, "release_assignment", ASSIGNMENT, on_exchange)

    # Students: list, fetch, answer (as the widgets save), submit. The late student first hands in
    # part of the work on time.
    for role, student in students.items():
        logs[f"list {role}"] = student_nbgrader(student, student_python, "list")
        student_nbgrader(student, student_python, "fetch_assignment", ASSIGNMENT)
        first_answers = FIXTURE["partial"]["answers"] if role == "late" else ROLES[role]["answers"]
        save_answers(student, student_python, first_answers)
        student_nbgrader(student, student_python, "submit", ASSIGNMENT)

    # The due date passes; the late student finishes the work and submits again.
    duedate = nbgrader_time(datetime.now(timezone.utc))
    nbgrader(course, "db", "assignment", "add", ASSIGNMENT, f"--duedate={duedate}")
    late = students["late"]
    save_answers(late, student_python, ROLES["late"]["answers"])
    student_nbgrader(late, student_python, "submit", ASSIGNMENT)

    # Instructor: collect, autograde, grade the reflections by hand, feedback.
    logs["collect"] = nbgrader(course, "collect", ASSIGNMENT, on_exchange).stderr
    logs["autograde"] = nbgrader(course, "autograde", ASSIGNMENT, "--force").stderr
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for role, student in students.items():
            logs[f"needs manual grade {role}"] = gb.find_submission_notebook(
                NOTEBOOK, ASSIGNMENT, student.name
            ).needs_manual_grade
            enter_hand_grade(gb.find_grade(REFLECTION_TASK, NOTEBOOK, ASSIGNMENT, student.name), ROLES[role]["manual"])
        gb.db.commit()
    nbgrader(course, "generate_feedback", ASSIGNMENT, "--force")
    nbgrader(course, "release_feedback", ASSIGNMENT, on_exchange)
    nbgrader(course, "export", "--to", str(course / "grades.csv"))

    for role, student in students.items():
        logs[f"fetch_feedback {role}"] = student_nbgrader(student, student_python, "fetch_feedback", ASSIGNMENT)
    return Cycle(course, exchange, students, student_python, duedate, logs)


def final_score(role) -> float:
    penalty = LATE_PENALTY if role == "late" else 0.0
    return AUTO_SCORES[role] + ROLES[role]["manual"] - penalty


def fetched_feedback(student) -> list:
    return sorted((student.home / ASSIGNMENT / "feedback").glob(f"*/{NOTEBOOK}.html"))


def submissions_in_exchange(cycle, student) -> list:
    return sorted(
        p
        for p in (cycle.exchange / COURSE_ID / "inbound").iterdir()
        if p.name.startswith(f"{student.name}+{ASSIGNMENT}+")
    )


def test_students_can_run_the_course_python(student_python):
    """Every account must be able to run the course's Python for nbgrader's student commands."""
    if not student_python.course_python_reachable:
        pytest.skip(student_python.note)


@pytest.mark.kernel
def test_each_student_sees_the_released_assignment(cycle):
    for role in ROLES:
        assert f"{COURSE_ID} {ASSIGNMENT}" in cycle.logs[f"list {role}"], cycle.logs[f"list {role}"]


@pytest.mark.kernel
def test_answer_files_are_written_by_their_student(cycle):
    for student in cycle.students.values():
        answers = student.home / ASSIGNMENT / "answers.json"
        info = answers.stat()
        assert (info.st_uid, info.st_gid) == (student.uid, student.gid)
        assert stat.S_IMODE(info.st_mode) == 0o600, "only the student may read their saved answers"


@pytest.mark.kernel
def test_submissions_carry_the_answers_and_the_collector_sees_no_impostor(cycle):
    for student in cycle.students.values():
        for submission in submissions_in_exchange(cycle, student):
            assert submission.stat().st_uid == student.uid
            assert (submission / "answers.json").exists() and (submission / f"{NOTEBOOK}.ipynb").exists()
    assert "cheating attempt" not in cycle.logs["collect"]
    assert len(submissions_in_exchange(cycle, cycle.students["late"])) == 2


@pytest.mark.kernel
def test_the_latest_submission_is_collected_and_it_is_late(cycle):
    with Gradebook(f"sqlite:///{cycle.course / 'gradebook.db'}") as gb:
        for role, student in cycle.students.items():
            submission = gb.find_submission(ASSIGNMENT, student.name)
            if role == "late":
                assert submission.total_seconds_late > 0
            else:
                assert submission.total_seconds_late == 0
    late = cycle.students["late"]
    collected = (cycle.course / "submitted" / late.name / ASSIGNMENT / "timestamp.txt").read_text()
    assert collected > cycle.duedate


@pytest.mark.kernel
def test_reflections_wait_for_a_grader(cycle):
    for role in ROLES:
        assert cycle.logs[f"needs manual grade {role}"] is True, role


@pytest.mark.kernel
def test_the_grader_sees_the_rubric_and_the_written_answer_in_the_formgrader(cycle):
    """The formgrader renders the autograded notebook with its `formgrade` template: render it the same way."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    exporter = HTMLExporter(config=config)
    for role, student in cycle.students.items():
        autograded = cycle.course / "autograded" / student.name / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        task = next(
            c
            for c in nbformat.read(autograded, as_version=4).cells
            if c.metadata.get("nbgrader", {}).get("grade_id") == REFLECTION_TASK
        )
        assert "### BEGIN MARK SCHEME" in task.source
        page, _ = exporter.from_filename(
            str(autograded),
            resources={
                "assignment_id": ASSIGNMENT,
                "notebook_id": NOTEBOOK,
                "submission_id": "x",
                "index": 0,
                "total": 3,
                "base_url": "",
                "student": student.name,
                "last_name": role,
                "first_name": "Test",
                "notebook_path": str(autograded),
            },
        )
        assert "Rubric for graders" in page, f"{role}: the formgrader shows the rubric"
        if "ps0.r1" in ROLES[role]["answers"]:
            assert "someone else drives you home" in page, f"{role}: the formgrader shows the written answer"


@pytest.mark.kernel
@pytest.mark.parametrize("role", list(ROLES))
def test_scores_with_the_hand_grade_and_the_late_penalty(cycle, role):
    student = cycle.students[role]
    with Gradebook(f"sqlite:///{cycle.course / 'gradebook.db'}") as gb:
        notebook = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student.name)
        submission = gb.find_submission(ASSIGNMENT, student.name)
        assert notebook.max_score == pytest.approx(TOTAL_POINTS)
        assert notebook.score == pytest.approx(AUTO_SCORES[role] + ROLES[role]["manual"])
        expected_penalty = LATE_PENALTY if role == "late" else 0.0
        assert (submission.late_submission_penalty or 0.0) == pytest.approx(expected_penalty)
        assert not submission.needs_manual_grade
    rows = {r["student_id"]: r for r in csv.DictReader(open(cycle.course / "grades.csv"))}
    assert float(rows[student.name]["score"]) == pytest.approx(final_score(role))
    assert float(rows[student.name]["late_submission_penalty"]) == pytest.approx(expected_penalty)


@pytest.mark.kernel
@pytest.mark.parametrize("role", list(ROLES))
def test_each_student_fetches_only_their_own_feedback(cycle, role):
    student = cycle.students[role]
    pages = fetched_feedback(student)
    assert len(pages) == 1, f"{role}: one feedback page (the collected submission's): {pages}"
    page = pages[0].read_text(encoding="utf-8")
    assert f"(Score: {round(final_score(role), 2)} / {round(TOTAL_POINTS, 2)})" in page
    if role == "late":
        assert f"Late submission penalty (Score: -{round(LATE_PENALTY, 2)})" in page
    else:
        assert "Late submission penalty" not in page
    partly_right = "3 of 5 right options chosen" in page
    assert partly_right == (role == "partial"), f"{role}: the feedback is on their own answers"
    for secret in ("BEGIN HIDDEN TESTS", "BEGIN MARK SCHEME", "Rubric for graders", "grading.grade("):
        assert secret not in page
    assert pages[0].stat().st_uid == student.uid


@pytest.mark.kernel
def test_a_student_cannot_find_or_read_another_students_work(cycle):
    """Performed as the partial student, against the right student's work."""
    reader, owner = cycle.students["partial"], cycle.students["right"]
    course_exchange = cycle.exchange / COURSE_ID
    receipt = next((owner.home / ".local/share/jupyter/nbgrader_cache" / COURSE_ID).glob(f"{owner.name}+*"))
    attempts = [
        ("list the submissions in the exchange", "list", course_exchange / "inbound"),
        ("list the released feedback", "list", course_exchange / "feedback"),
        ("list the other student's home", "list", owner.home),
        ("open the other student's saved answers", "open", owner.home / ASSIGNMENT / "answers.json"),
        ("open the other student's submission secret", "open", receipt / "submission_secret.txt"),
        ("open the other student's feedback", "open", fetched_feedback(owner)[0]),
    ]
    result = as_student(
        reader, cycle.python, "-c", TRY_TO_READ, json.dumps([(label, a, str(p)) for label, a, p in attempts])
    )
    outcome = json.loads(result.stdout)
    assert outcome == {label: "PermissionError" for label, _, _ in attempts}


@pytest.mark.kernel
def test_a_submission_is_hidden_by_an_unguessable_name_not_by_its_file_modes(cycle):
    """nbgrader's own rule, which docs/exchange.md states: submitted files are world-readable (0644)
    inside folders named `<student>+<assignment>+<time>+<12 random characters>`; students cannot list
    the inbound folder, so they cannot learn another student's folder name."""
    reader, owner = cycle.students["partial"], cycle.students["right"]
    submission = submissions_in_exchange(cycle, owner)[0]
    assert len(submission.name.rsplit("+", 1)[1]) >= 12
    assert stat.S_IMODE((submission / "answers.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((cycle.exchange / COURSE_ID / "inbound").stat().st_mode) & 0o777 == 0o733
    known_name = [("open a submission whose name is known", "open", str(submission / "answers.json"))]
    result = as_student(reader, cycle.python, "-c", TRY_TO_READ, json.dumps(known_name))
    assert json.loads(result.stdout) == {known_name[0][0]: "allowed"}, "if this changes, update docs/exchange.md"
