"""grade-cohort on a kernel pool: stock nbgrader's grades, a fresh kernel for every learner, and a resumed run.

One fixture cohort of the Start-here check (perfect, blank, partial, a corrupt answer store, a cell
that never finishes, a tampered grading cell, a deleted grading cell and a late submission) is graded
from the same submissions twice: by `nbgrader autograde` and `nbgrader generate_feedback`, and by
`ketamine-course grade-cohort --feedback --jobs 2`, at the same time. Every score, comment, flag, late
penalty, graded notebook and feedback page must agree.

One worker runs the module: its tests copy one scratch course released once (the Start-here check and a
state-check assignment in its gradebook), whose cells may run 6 s (the course allows 30: the cell that
never finishes is stopped sooner, by both graders alike). Only what must be a process of its own (the
graders compared, the grader that is killed, two graders at once) runs as one; the rest of grading
runs through the same functions in this process.
"""

from __future__ import annotations

import copy
import io
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nbformat
import psutil
import pytest
from nbconvert.preprocessors import CoalesceStreamsPreprocessor
from nbgrader.api import Gradebook
from nbgrader.preprocessors import Execute
from nbgrader.utils import parse_utc

from ketamine_course.instructor.cohort import grade_cohort
from ketamine_course.instructor.kernel_pool import KernelPool
from ketamine_course.instructor.pool_grader import RECORD_NAME, PoolExecute
from ketamine_course.runtime.nbgrader import api, in_course
from ketamine_course.runtime.ports import free_port

from conftest import (
    FIXTURES,
    copy_course,
    course_env,
    edge_case_submissions,
    nbgrader,
    recorded_answers,
    submit,
)

ASSIGNMENT = "ps0_start_here"
FIXTURE = FIXTURES[ASSIGNMENT]
NOTEBOOK = FIXTURE["notebook"]
DUE = "2026-12-01 17:00:00 UTC"
LATE = "2026-12-02 19:00:00.000000 UTC"  # 26 hours late: two started days, 10% of the points each
ON_TIME = "2026-12-01 09:00:00.000000 UTC"
COHORT = ["perfect", "blank", "partial", "junkstore", "tampered", "deletedcell", "runaway", "late"]
CELL_TIMEOUT = 6  # seconds a cell may run in the scratch course

pytestmark = [pytest.mark.nbgrader, pytest.mark.kernel, pytest.mark.xdist_group("pool_grader")]


def released(course, assignment=ASSIGNMENT):
    return nbformat.read(
        course / "assignments" / assignment / f"{FIXTURES[assignment]['notebook']}.ipynb", as_version=4
    )


def gradebook(course):
    warnings.simplefilter("ignore")
    return Gradebook(f"sqlite:///{course / 'gradebook.db'}")


def release(course, *assignments) -> None:
    """`nbgrader generate_assignment` of each assignment, through nbgrader's API in this process."""
    with in_course(course), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nbgrader_api = api(course)
        for assignment in assignments:
            result = nbgrader_api.generate_assignment(assignment, force=True)
            assert result["success"], result.get("log", "") + result.get("error", "")


@pytest.fixture(scope="module")
def released_course(tmp_path_factory):
    """A scratch course with the Start-here check (due DUE) and the state check released; tests copy it."""
    course = copy_course(tmp_path_factory.mktemp("pool-released") / "course", only=ASSIGNMENT)
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write(f"\nc.Execute.timeout = {CELL_TIMEOUT}\n")
    state_check_assignment(course)
    release(course, ASSIGNMENT, "state_check")
    with gradebook(course) as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate=parse_utc(DUE))
    return course


@pytest.fixture
def course(released_course, tmp_path):
    """A copy of the released scratch course, for one test."""
    return Path(shutil.copytree(released_course, tmp_path / "course", symlinks=True))


@pytest.fixture(scope="module")
def two_gradings(released_course, tmp_path_factory):
    """The fixture cohort graded by stock nbgrader (first course) and by grade-cohort (its copy), at once."""
    scratch = tmp_path_factory.mktemp("pool-grader")
    stock = Path(shutil.copytree(released_course, scratch / "stock", symlinks=True))
    notebook = released(stock)
    solution = nbformat.read(stock / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    on_time = {"timestamp.txt": ON_TIME}
    submit(stock, "perfect", ASSIGNMENT, solution, recorded_answers(solution), files=on_time)
    submit(stock, "blank", ASSIGNMENT, notebook, files=on_time)
    submit(stock, "partial", ASSIGNMENT, notebook, FIXTURE["partial"]["answers"], files=on_time)
    for student, (edited, answers, raw_store) in edge_case_submissions(notebook, ASSIGNMENT).items():
        submit(stock, student, ASSIGNMENT, edited, answers, raw_store)
    submit(stock, "late", ASSIGNMENT, notebook, FIXTURE["right"], files={"timestamp.txt": LATE})
    pool = shutil.copytree(stock, scratch / "pool", symlinks=True)
    grader = grade_cohort_process(pool, ASSIGNMENT, "--feedback", "--jobs", "2")
    nbgrader(stock, "autograde", ASSIGNMENT, "--force")
    nbgrader(stock, "generate_feedback", ASSIGNMENT, "--force")
    stdout, stderr = grader.communicate(timeout=600)
    return stock, pool, subprocess.CompletedProcess(grader.args, grader.returncode, stdout, stderr)


def grade_cohort_process(course, *args, capture=True) -> subprocess.Popen:
    """`ketamine-course grade-cohort ARGS` started from the course root, as an instructor runs it."""
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "ketamine_course.cli", "grade-cohort", *args],
        cwd=course,
        env=course_env(KETAMINE_COURSE_ROOT=str(course)),
        text=True,
        stdout=output,
        stderr=output,
    )


def grade_here(course, assignment, **options):
    """grade_cohort in this process; (its run, what its progress bar showed)."""
    bar = io.StringIO()
    return grade_cohort(assignment, root=course, stream=bar, **options), bar.getvalue()


def grades_of(course, student) -> dict:
    """Everything the gradebook holds of one submission: every cell's grade and comment, flag, late penalty."""
    with gradebook(course) as gb:
        nb = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
        submission = gb.find_submission(ASSIGNMENT, student)
        return {
            "grades": {
                g.name: (g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade, g.max_score)
                for g in nb.grades
            },
            "comments": {c.name: (c.auto_comment, c.manual_comment) for c in nb.comments},
            "flagged": nb.flagged,
            "late_penalty": nb.late_submission_penalty,
            "score": nb.score,
            "timestamp": submission.timestamp,
        }


# Printed text reaches the notebook in pieces as the kernel flushes it, so one run may store a cell's
# text as two outputs where another stores one (two nbgrader runs differ in the same way); the
# comparisons join such pieces. Left out too: the random ids of cells the guard puts back, and the
# memory addresses in an object's plain-text form ('<SavedAnswer at 0x7f2b...>').
ADDRESS = re.compile(r" at 0x[0-9a-f]+>")
STDOUT_OPEN = '<div class="output_subarea output_stream output_stdout output_text">\n<pre>'
STDOUT_BREAK = re.compile(
    re.escape(STDOUT_OPEN) + r"((?:(?!</pre>).)*?)</pre>\n</div>\n</div>\n"
    r'<div class="output_area">\n<div class="prompt"></div>\n' + re.escape(STDOUT_OPEN),
    re.S,
)


def graded_notebook(course, student) -> list:
    """The autograded notebook's cells: type, source, grading settings and outputs (printed text joined)."""
    nb = nbformat.read(course / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    cells = [(c.cell_type, c.source, c.metadata.get("nbgrader"), c.get("outputs")) for c in nb.cells]
    return json.loads(ADDRESS.sub(" at 0x>", json.dumps(cells)))


def feedback_page(course, student) -> str:
    page = (course / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").read_text(encoding="utf-8")
    while STDOUT_BREAK.search(page):
        page = STDOUT_BREAK.sub(lambda m: STDOUT_OPEN + m.group(1), page)
    return ADDRESS.sub(" at 0x>", re.sub(r'id="cell-id=[^"]*"', "", page))


def guard_changes(course, student) -> list:
    path = course / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.grading_changes.json"
    return json.loads(path.read_text())["changes"]


def test_grade_cohort_grades_everyone_in_one_run(two_gradings):
    _, pool, grading = two_gradings
    assert grading.returncode == 0, grading.stdout + grading.stderr
    assert grading.stdout.startswith(
        f"Autograded {len(COHORT)} of {len(COHORT)} students of {ASSIGNMENT} (with feedback) in "
    )
    assert f"Autograding {ASSIGNMENT}: {len(COHORT)}/{len(COHORT)}" in grading.stderr
    assert "IPKernelApp" not in grading.stderr, "kernel chatter goes to the log, not over the bar"
    assert "undid changes" in grading.stdout and "tampered" in grading.stdout


@pytest.mark.parametrize("student", COHORT)
def test_stock_nbgrader_and_grade_cohort_agree(two_gradings, student):
    stock, pool, _ = two_gradings
    assert grades_of(pool, student) == grades_of(stock, student)
    assert graded_notebook(pool, student) == graded_notebook(stock, student)
    assert guard_changes(pool, student) == guard_changes(stock, student)
    assert feedback_page(pool, student) == feedback_page(stock, student)


def test_the_cohort_scores_what_the_fixtures_say(two_gradings):
    _, pool, _ = two_gradings
    right = FIXTURE["auto_points"]
    expected = {
        "perfect": right,
        "blank": 0,
        "partial": FIXTURE["partial"]["score"],
        "junkstore": 0,
        "tampered": FIXTURE["partial"]["score"],
        "deletedcell": right,
        "runaway": right,
        "late": right,
    }
    assert {s: grades_of(pool, s)["score"] for s in COHORT} == pytest.approx(expected)
    two_days_late = 2 * 0.10 * (FIXTURE["auto_points"] + FIXTURE["manual_points"])
    assert {s: grades_of(pool, s)["late_penalty"] or 0 for s in COHORT} == pytest.approx(
        {s: two_days_late if s == "late" else 0 for s in COHORT}
    )


# --- nothing survives from one learner's kernel to the next ------------------------------------------

LEAK_AND_CHECK = """\
import builtins, os, pathlib, sys
found = [what for what, there in [
    ("a global", "LEAKED" in globals()), ("a builtin", hasattr(builtins, "leaked")),
    ("an environment variable", "KC_LEAKED" in os.environ), ("a module", "kc_leaked" in sys.modules),
    ("a file", pathlib.Path("kc_leaked.txt").exists())] if there]
LEAKED = True
builtins.leaked = True
os.environ["KC_LEAKED"] = "1"
sys.modules["kc_leaked"] = sys
pathlib.Path("kc_leaked.txt").write_text("left by the previous learner")
with open("../../kernels.txt", "a") as kernels:
    kernels.write(f"{os.getpid()}\\n")
assert not found, found
assert pathlib.Path.cwd().name == "state_check" and pathlib.Path("state_check.ipynb").is_file()
assert _dh == [pathlib.Path.cwd()], _dh
"""


def state_check_assignment(course) -> None:
    """An assignment whose one grading cell leaves state behind in every way, after checking there is none."""
    cell = nbformat.v4.new_code_cell(LEAK_AND_CHECK)
    cell.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "locked": True,
        "points": 1,
        "grade_id": "state_check",
        "schema_version": 3,
    }
    nb = nbformat.v4.new_notebook(
        cells=[cell], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    (course / "solutions" / "state_check").mkdir(parents=True)
    nbformat.write(nb, course / "solutions" / "state_check" / "state_check.ipynb")


def submit_state_check(course, students) -> None:
    for student in students:
        folder = course / "submitted" / student / "state_check"
        folder.mkdir(parents=True)
        shutil.copy(course / "assignments" / "state_check" / "state_check.ipynb", folder)


def test_no_state_survives_from_one_learners_kernel_to_the_next(course):
    students = ["s1", "s2", "s3"]
    submit_state_check(course, students)
    run, _ = grade_here(course, "state_check", jobs=1)
    assert not run.failures, run.summary()
    with gradebook(course) as gb:
        scores = {s: gb.find_submission_notebook("state_check", "state_check", s).score for s in students}
    assert scores == {s: 1 for s in students}, (course / "reports" / "grade_cohort_state_check.log").read_text()
    kernels = (course / "autograded" / "kernels.txt").read_text().split()
    assert len(kernels) == len(set(kernels)) == len(students), "one kernel for each notebook"


def test_a_runaway_cell_is_stopped_on_a_pool_kernel_as_on_nbgraders_own(tmp_path):
    """Same timeout, same interruption, same error in the notebook; the next cell still runs."""
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("while True:\n    pass"),
            nbformat.v4.new_code_cell("print('the next cell ran')"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    resources = {"metadata": {"path": str(tmp_path)}}
    stock, _ = Execute(timeout=2).preprocess(copy.deepcopy(nb), resources)
    with KernelPool(size=1) as pool:
        pooled, _ = PoolExecute(timeout=2, pool=pool).preprocess(nb, resources)
    assert pooled.cells[0].outputs[-1]["ename"] == "CellTimeoutError"
    assert [c.outputs for c in pooled.cells] == [c.outputs for c in stock.cells]
    assert pooled.cells[1].outputs[0]["text"] == "the next cell ran\n"


# --- stopped halfway and resumed ---------------------------------------------------------------------


def records(course, students) -> dict:
    """student -> modification time of their completion record, for those that have one."""
    found = {}
    for student in students:
        path = course / "autograded" / student / RECORD_NAME.format(assignment=ASSIGNMENT)
        if path.exists():
            found[student] = path.stat().st_mtime_ns
    return found


def test_a_killed_grader_resumes_without_grading_anyone_twice_or_losing_anyone(course):
    students = [f"s{n}" for n in range(5)]
    for n, student in enumerate(students):
        submit(
            course, student, ASSIGNMENT, released(course), FIXTURE["right"] if n % 2 else FIXTURE["partial"]["answers"]
        )
    grader = grade_cohort_process(course, ASSIGNMENT, "--jobs", "1", capture=False)
    deadline = time.monotonic() + 300
    while len(records(course, students)) < 2 and grader.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    kernels = psutil.Process(grader.pid).children(recursive=True)
    grader.send_signal(signal.SIGKILL)
    assert grader.wait(timeout=30) == -signal.SIGKILL
    _, alive = psutil.wait_procs(kernels, timeout=30)
    assert not alive, "the grader's kernels stop when it is killed"
    done = records(course, students)
    assert 2 <= len(done) < len(students), "killed halfway"

    resumed, bar = grade_here(course, ASSIGNMENT, jobs=2)  # the second run, through grade-cohort's own function
    assert not resumed.failures, resumed.summary()
    assert (
        f"Autograding {ASSIGNMENT} ({len(done)} of {len(students)} already graded): "
        f"{len(students) - len(done)}/{len(students) - len(done)}" in bar
    )
    assert resumed.summary().startswith(
        f"Autograded {len(students)} of {len(students)} students of {ASSIGNMENT} in "
    ) and resumed.summary().endswith(
        f"({len(done)} of them already graded before and unchanged, not graded again; --force grades everyone again)."
    )
    after = records(course, students)
    assert set(after) == set(students), "nobody is lost"
    assert {s: after[s] for s in done} == done, "nobody graded before is graded again"
    log = (course / "reports" / f"grade_cohort_{ASSIGNMENT}.log").read_text()
    for student in students:
        assert (f"--- {student}\ngraded before and unchanged since: not graded again" in log) == (student in done)
    with gradebook(course) as gb:
        scores = {s: gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, s).score for s in students}
    assert scores == pytest.approx(
        {s: FIXTURE["auto_points"] if n % 2 else FIXTURE["partial"]["score"] for n, s in enumerate(students)}
    )

    forced, bar = grade_here(course, ASSIGNMENT, force=True)
    assert not forced.failures and "already graded" not in forced.summary() + bar
    assert all(records(course, students)[s] > after[s] for s in students)


# --- several graders at once on a PostgreSQL gradebook ------------------------------------------------

POSTGRES_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))), None)


def as_postgres_account(command: list) -> list:
    """PostgreSQL refuses to run as root: as root, run its programs as Debian's `postgres` account."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres_url():
    """A throwaway PostgreSQL cluster on loopback, in a temporary folder; its gradebook database's address."""
    missing = "PostgreSQL is not installed" if POSTGRES_BIN is None else ""
    try:
        import psycopg2  # noqa: F401  (SQLAlchemy's PostgreSQL driver)
    except ImportError:
        missing = missing or "psycopg2 is not installed"
    if missing:  # ./course.sh test installs both (Debian's postgresql, and psycopg2-binary from requirements-dev.txt)
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"{missing}; ./course.sh test installs it")
    bin_dir = POSTGRES_BIN.parent
    folder = Path(tempfile.mkdtemp(prefix="kc-postgres-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
    port = free_port()
    data = folder / "data"
    subprocess.run(
        as_postgres_account([str(bin_dir / "initdb"), "-D", str(data), "-U", "grader", "-A", "trust", "--no-sync"]),
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
    subprocess.run(
        as_postgres_account(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "server.log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "grader", "gradebook"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg2://grader@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(
            as_postgres_account([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def test_two_graders_at_once_share_a_postgresql_gradebook(course, postgres_url):
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write(f"\nc.CourseDirectory.db_url = {postgres_url!r}\n")
    students = ["ana", "ben", "cai"]
    release(course, ASSIGNMENT, "state_check")  # into the PostgreSQL gradebook
    for n, student in enumerate(students):
        submit(
            course,
            student,
            ASSIGNMENT,
            released(course),
            FIXTURE["right"] if n % 2 == 0 else FIXTURE["partial"]["answers"],
        )
    submit_state_check(course, students)
    graders = [grade_cohort_process(course, assignment, "--jobs", "2") for assignment in (ASSIGNMENT, "state_check")]
    outcomes = [grader.communicate(timeout=600) for grader in graders]
    assert [grader.returncode for grader in graders] == [0, 0], outcomes
    warnings.simplefilter("ignore")
    with Gradebook(postgres_url) as gb:
        scores = {(a, s): gb.find_submission(a, s).score for a in (ASSIGNMENT, "state_check") for s in students}
        assert sorted(s.id for s in gb.students) == students
    assert scores == pytest.approx(
        {
            (a, s): (1 if a == "state_check" else FIXTURE["auto_points"] if n % 2 == 0 else FIXTURE["partial"]["score"])
            for a in (ASSIGNMENT, "state_check")
            for n, s in enumerate(students)
        }
    )
