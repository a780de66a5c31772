"""Shared fixtures: the repository, a scratch copy of the course, nbgrader run as an instructor would, Chromium."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
