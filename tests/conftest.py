"""Shared fixtures: the repository, a scratch copy of the course, nbgrader run as an instructor would, Chromium.

Running in parallel (`./course.sh test -n 2`, as CI does, with `--dist loadgroup` from pyproject.toml):
a module whose tests share an expensive module-scoped fixture (a course graded by nbgrader, a JupyterLab,
a hub) carries `pytest.mark.xdist_group(...)`, so one worker builds that fixture once and runs all of its
tests, in order. The browser modules are in three groups, by the server they drive: "browser" (JupyterLab),
"reader" (Voila) and "hub" (JupyterHub); so at most two Chromiums and two servers run at once, one per
worker. The longest groups are handed out first (`GROUP_SECONDS`), the single tests last, so both workers
finish together. Each test otherwise works in its own scratch folders, free ports and random account
names. (The groups reach xdist's scheduler through `GroupsFromMarks` below.)

Every test that starts a Jupyter kernel, in this process or in a command it runs, is marked `kernel`;
`pytest_runtest_setup` below fails one that is not (see `kernel_started`).
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ASSIGNMENTS = sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir())
ARTIFACTS = REPO / "test-artifacts"
# Fixture students of every assignment: the right answers, partly right ones and what they score.
FIXTURES = {
    f["assignment"]: f
    for f in (
        yaml.safe_load(p.read_text()) for p in sorted((REPO / "tests" / "fixtures" / "assignments").glob("*.yaml"))
    )
}


@pytest.fixture(autouse=True, scope="session")
def learner_data_folder(tmp_path_factory) -> Path:
    """Learner data (progress, self-grading, certificates) goes to a scratch folder, never the real one.

    Set in os.environ, so kernels, JupyterLab and commands started by tests inherit it.
    """
    folder = tmp_path_factory.mktemp("learner-data")
    os.environ["KETAMINE_COURSE_DATA"] = str(folder)
    return folder


@pytest.fixture
def credit_yaml(tmp_path, monkeypatch):
    """Replace content/credit.yaml for one test: call with its text, or None for a missing file."""
    from ketamine_course import content

    for loader in (content.course_facts, content.question_banks, content.assessments, content.reference_library):
        loader()  # the other content files are read (and cached) from the real folder first

    def use(text):
        folder = tmp_path / "content-with-other-credit-facts"
        folder.mkdir(exist_ok=True)
        if text is not None:
            (folder / "credit.yaml").write_text(text, encoding="utf-8")
        monkeypatch.setattr(content, "CONTENT_DIR", folder)
        content.credit_facts.cache_clear()

    yield use
    content.credit_facts.cache_clear()


def all_notebooks() -> list:
    """Every committed notebook: the teaching modules, the solutions and the released assignments."""
    return sorted(
        p
        for folder in ("course", "solutions", "assignments")
        for p in (REPO / folder).rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    )


def course_env(**extra) -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("NBGRADER_EXECUTION", None)
    env.update(extra)
    return env


def copy_course(target: Path, only: str | None = None) -> Path:
    """A scratch course: what a fresh clone holds, without runtime folders (with `only`, one assignment)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "nbgrader_config.py", target)
    for folder in ("course", "solutions", "assignments"):
        shutil.copytree(
            REPO / folder,
            target / folder,
            ignore=shutil.ignore_patterns("answers*.json", ".answers*", ".ipynb_checkpoints"),
        )
    if only is not None:
        for folder in ("solutions", "assignments"):
            for assignment in (target / folder).iterdir():
                if assignment.name != only:
                    shutil.rmtree(assignment)
    return target


def nbgrader(course: Path, *args, check=True, timeout=600) -> subprocess.CompletedProcess:
    """Run an nbgrader command from the course root, as the README tells instructors to."""
    result = subprocess.run(
        [str(BIN / "nbgrader"), *args], cwd=course, env=course_env(), capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def course_command(course: Path, *args, timeout=600) -> subprocess.CompletedProcess:
    """Run `ketamine-course ARGS` from the course root, as an instructor does."""
    return subprocess.run(
        [sys.executable, "-m", "ketamine_course.cli", *args],
        cwd=course,
        env=course_env(KETAMINE_COURSE_ROOT=str(course)),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def scratch_course(tmp_path) -> Path:
    return copy_course(tmp_path / "course_root")


def run_handouts(root: Path, data_dir: Path, *args) -> subprocess.CompletedProcess:
    """`ketamine-course handouts ARGS` in the course `root`, with `data_dir` as the learner's data folder."""
    return subprocess.run(
        [sys.executable, "-m", "ketamine_course.cli", "handouts", *args],
        cwd=root,
        env=course_env(KETAMINE_COURSE_ROOT=str(root), KETAMINE_COURSE_DATA=str(data_dir)),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def exported_handouts(tmp_path_factory):
    """Every module's handout, exported once by the real command in a scratch course: (course root, scratch
    folder with pages/ and learner-data/, what course/ held before, the command's result).

    Only read by the tests of test_handouts.py and test_key_secrecy.py, which share the xdist group
    "handouts", so one worker exports them for both."""
    scratch = tmp_path_factory.mktemp("handouts")
    root = copy_course(scratch / "course_root")
    before = sorted(p.name for p in (root / "course").iterdir())
    result = run_handouts(root, scratch / "learner-data", "--out", str(scratch / "pages"))
    return root, scratch, before, result


# Run as another account: which of the given paths that account may list or open (JSON in, JSON out).
TRY_TO_READ = """\
import json, os, sys
outcome = {}
for label, action, path in json.loads(sys.argv[1]):
    try:
        os.listdir(path) if action == "list" else open(path, "rb").close()
        outcome[label] = "allowed"
    except OSError as exc:
        outcome[label] = type(exc).__name__
print(json.dumps(outcome))
"""


def recorded_answers(solution) -> dict:
    """The answers the solution notebook records with `ui.record(...)`, as its widgets would save them.

    Autograde runs only the course's code (autograde_guard), so a submitted solution notebook is graded
    on its saved answers like any other, not on the code in its answer cells."""
    answers = {}
    for cell in solution.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "ui.record":
                answers[ast.literal_eval(node.args[0])] = ast.literal_eval(node.args[1])
    return answers


def submit(course: Path, student: str, assignment: str, notebook, answers=None, raw_store=None, files=None) -> None:
    """A submission in submitted/<student>/<assignment>/: the notebook, the answers saved as the widgets save
    them (or `raw_store` as answers.json), and other files (name -> text, e.g. nbgrader's timestamp.txt)."""
    from ketamine_course.storage import answer_store

    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / f"{FIXTURES[assignment]['notebook']}.ipynb")
    for item_id, value in (answers or {}).items():
        answer_store.save_answer(item_id, value, folder)
    if raw_store is not None:
        (folder / "answers.json").write_text(raw_store, encoding="utf-8")
    for name, text in (files or {}).items():
        (folder / name).write_text(text, encoding="utf-8")


def edge_case_submissions(released, assignment: str) -> dict:
    """student -> (notebook, answers, raw answer store): what a cohort hands in besides honest work.

    A corrupt answer file, a tampered grading cell (partly right answers), a deleted first grading
    cell and a cell that never finishes (both with the right answers)."""
    fixture = FIXTURES[assignment]

    def grade_cell(cell):
        return cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code"

    def copy():
        return nbformat.from_dict(json.loads(nbformat.writes(released)))

    tampered = copy()
    for cell in tampered.cells:
        if grade_cell(cell):
            cell.source = "2  # I give myself full marks"
    deleted = copy()
    first = next(c for c in deleted.cells if grade_cell(c))
    deleted.cells = [c for c in deleted.cells if c is not first]
    runaway = copy()
    runaway.cells.insert(2, nbformat.v4.new_code_cell("while True:\n    pass"))
    return {
        "junkstore": (released, None, "{this is not json"),
        "tampered": (tampered, fixture["partial"]["answers"], None),
        "deletedcell": (deleted, fixture["right"], None),
        "runaway": (runaway, fixture["right"], None),
    }


# ---------------------------------------------------------------- Chromium for the browser tests


@pytest.fixture(scope="module")
def browser():
    from lab_browser import CHROMIUM, CHROMIUM_ARGS
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


# ---------------------------------------------------------------- tests that start a kernel are marked

# An IPython kernel makes its IPython folder ($IPYTHONDIR) when it starts, and nothing else the tests
# run does. Each test gets a folder of its own that does not exist yet, set before its fixtures are set
# up, so commands and servers it starts inherit it; if the folder appears, a kernel started.
# (A server started by a module's fixture keeps the folder of the test that started it: the kernels it
# starts for later tests are not seen. Such modules mark the tests that use the server.)
_IPYTHON_FOLDERS = pytest.StashKey[Path]()  # on the config: where this test run's folders go
_IPYTHON_FOLDER = pytest.StashKey[Path]()  # on a test: its own
_KERNEL_REPORTED = pytest.StashKey[bool]()
_test_numbers = itertools.count()


def pytest_configure(config):
    config.stash[_IPYTHON_FOLDERS] = Path(tempfile.mkdtemp(prefix="kc-ipython-"))


def pytest_unconfigure(config):
    folders = config.stash.get(_IPYTHON_FOLDERS, None)
    if folders is not None:
        shutil.rmtree(folders, ignore_errors=True)


def kernel_started(item) -> bool:
    return item.stash[_IPYTHON_FOLDER].exists()


def _check_kernel_marker(item) -> None:
    if item.stash.get(_KERNEL_REPORTED, False) or not kernel_started(item):
        return
    item.stash[_KERNEL_REPORTED] = True
    if item.get_closest_marker("kernel") is None:
        pytest.fail(
            f"{item.nodeid} started a Jupyter kernel but is not marked `kernel`: add "
            "@pytest.mark.kernel (or `kernel` to the module's pytestmark if every test of it does)",
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_IPYTHON_FOLDER] = item.config.stash[_IPYTHON_FOLDERS] / str(next(_test_numbers))
    os.environ["IPYTHONDIR"] = str(item.stash[_IPYTHON_FOLDER])
    result = yield
    _check_kernel_marker(item)
    return result


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item):
    result = yield
    _check_kernel_marker(item)
    return result


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    _check_kernel_marker(item)
    return result


# ---------------------------------------------------------------- xdist groups reach the scheduler

# pytest-xdist 3.8.0 passes a test's xdist_group to its scheduler by appending "@group" to the test's
# node id, which pytest 9.2 no longer lets it change: the groups are silently ignored
# (pytest-dev/pytest-xdist#1386). Until a release fixes that, each worker writes the groups it collected
# to a file, and the scheduler below (xdist's own loadgroup scheduler) reads them from there.
_GROUP_FILES = pytest.StashKey[Path]()


def _group_of(item) -> str | None:
    names = {
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    }
    return "_".join(sorted(names)) or None


def pytest_sessionstart(session):
    config = session.config
    if not hasattr(config, "workerinput") and config.pluginmanager.hasplugin("dsession"):
        config.stash[_GROUP_FILES] = Path(tempfile.mkdtemp(prefix="kc-xdist-groups-"))


def pytest_sessionfinish(session):
    folder = session.config.stash.get(_GROUP_FILES, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    folder = node.config.stash.get(_GROUP_FILES, None)
    if folder is not None:
        node.workerinput["kc_group_files"] = str(folder)


@pytest.hookimpl(tryfirst=True)  # before the worker reports its collection to the scheduler
def pytest_collection_finish(session):
    folder = getattr(session.config, "workerinput", {}).get("kc_group_files")
    if folder:
        groups = {item.nodeid: group for item in session.items if (group := _group_of(item))}
        worker = Path(folder) / f"{session.config.workerinput['workerid']}.json"
        worker.with_suffix(".tmp").write_text(json.dumps(groups), encoding="utf-8")
        worker.with_suffix(".tmp").rename(worker)


# About how long each group takes with -n 2 on a two-core machine (seconds, from the timings of a whole
# run, both workers busy). Only their order matters: xdist hands out the longest first, so that no long
# group starts when the other worker is nearly done. A group not listed comes after these (ordered by its
# number of tests), single tests last. Worth measuring again when a group grows or shrinks a lot.
GROUP_SECONDS = {
    "browser": 350,
    "hub": 280,
    "reader": 115,
    "exchange": 115,
    "nbgrader_e2e": 100,
    "self_grading": 80,
    "red_team": 60,
    "pool_grader": 45,
    "item_analysis": 35,
    "handouts": 35,
    "cohort": 16,
    "passback": 15,
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    folder = config.stash.get(_GROUP_FILES, None)
    if folder is None or config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class GroupsFromMarks(LoadGroupScheduling):
        """xdist's loadgroup scheduling, with each test's group read from what the workers collected
        (every worker collects the same tests: xdist checks)."""

        groups = None
        ordered = False

        def _split_scope(self, nodeid):
            if self.groups is None:
                self.groups = json.loads(next(iter(sorted(folder.glob("*.json")))).read_text(encoding="utf-8"))
            return self.groups.get(nodeid) or super()._split_scope(nodeid)

        def _assign_work_unit(self, node):
            if not self.ordered:  # once, before the first unit is handed out
                self.ordered = True
                groups = set(self.groups.values())

                def weight(item):  # a single test is a unit of its own, named by its node id: last
                    scope, tests = item
                    return (2, GROUP_SECONDS[scope]) if scope in GROUP_SECONDS else (int(scope in groups), len(tests))

                units = sorted(self.workqueue.items(), key=weight, reverse=True)  # stable: ties keep their order
                self.workqueue.clear()
                self.workqueue.update(units)
            super()._assign_work_unit(node)

    return GroupsFromMarks(config, log)
