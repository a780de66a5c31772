"""Shared fixtures: the repository, a scratch copy of the course, nbgrader run as an instructor would, Chromium.

Running in parallel (`./course.sh test -n 2`, as CI does, with `--dist loadgroup` from pyproject.toml):
a module whose tests share an expensive module-scoped fixture (a course graded by nbgrader, a JupyterLab,
a hub) carries `pytest.mark.xdist_group(...)`, so one worker builds that fixture once and runs all of its
tests, in order. Every browser module is in the one group "browser": one worker runs them in turn, about
half the suite's time, while the other runs the rest; one Chromium and one server at a time, so their
waits stay in bounds. Each test otherwise works in its own scratch folders, free ports and random account
names. (The groups reach xdist's scheduler through `GroupsFromMarks` below.)
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ASSIGNMENTS = sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir())
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(autouse=True, scope="session")
def learner_data_folder(tmp_path_factory) -> Path:
    """Learner data (progress, self-grading, certificates) goes to a scratch folder, never the real one.

    Set in os.environ, so kernels, JupyterLab and commands started by tests inherit it.
    """
    folder = tmp_path_factory.mktemp("learner-data")
    os.environ["KETAMINE_COURSE_DATA"] = str(folder)
    return folder


def all_notebooks() -> list:
    """Every committed notebook: the teaching modules, the solutions and the released assignments."""
    return sorted(p for folder in ("course", "solutions", "assignments") for p in (REPO / folder).rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts)


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
        shutil.copytree(REPO / folder, target / folder,
                        ignore=shutil.ignore_patterns("answers*.json", ".answers*", ".ipynb_checkpoints"))
    if only is not None:
        for folder in ("solutions", "assignments"):
            for assignment in (target / folder).iterdir():
                if assignment.name != only:
                    shutil.rmtree(assignment)
    return target


def nbgrader(course: Path, *args, check=True, timeout=600) -> subprocess.CompletedProcess:
    """Run an nbgrader command from the course root, as the README tells instructors to."""
    result = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=course_env(),
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def scratch_course(tmp_path) -> Path:
    return copy_course(tmp_path / "course_root")


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


# ---------------------------------------------------------------- Chromium for the browser tests

@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from lab_browser import CHROMIUM, CHROMIUM_ARGS

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


# ---------------------------------------------------------------- xdist groups reach the scheduler

# pytest-xdist 3.8.0 passes a test's xdist_group to its scheduler by appending "@group" to the test's
# node id, which pytest 9.2 no longer lets it change: the groups are silently ignored
# (pytest-dev/pytest-xdist#1386). Until a release fixes that, each worker writes the groups it collected
# to a file, and the scheduler below (xdist's own loadgroup scheduler) reads them from there.
_GROUP_FILES = pytest.StashKey[Path]()


def _group_of(item) -> str | None:
    names = {str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
             for mark in item.iter_markers("xdist_group")}
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
        import json

        groups = {item.nodeid: group for item in session.items if (group := _group_of(item))}
        worker = Path(folder) / f"{session.config.workerinput['workerid']}.json"
        worker.with_suffix(".tmp").write_text(json.dumps(groups), encoding="utf-8")
        worker.with_suffix(".tmp").rename(worker)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    folder = config.stash.get(_GROUP_FILES, None)
    if folder is None or config.getoption("dist") != "loadgroup":
        return None
    import json

    from xdist.scheduler import LoadGroupScheduling

    class GroupsFromMarks(LoadGroupScheduling):
        """xdist's loadgroup scheduling, with each test's group read from what the workers collected
        (every worker collects the same tests: xdist checks)."""
        groups = None

        def _split_scope(self, nodeid):
            if self.groups is None:
                self.groups = json.loads(next(iter(sorted(folder.glob("*.json")))).read_text(encoding="utf-8"))
            return self.groups.get(nodeid) or super()._split_scope(nodeid)

    return GroupsFromMarks(config, log)
