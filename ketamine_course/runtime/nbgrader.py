"""The one place the course runs nbgrader.

`api(root)` gives nbgrader's Python API for work in this process (cohort grading, exports, item
analysis); `run(course, ...)` runs an nbgrader command in a separate process (grade my work: a
learner's kernel never hosts nbgrader itself); `command(...)` is the command line `ketamine-course
nbgrader` hands over to. All of them see this environment's bin first on PATH, because nbgrader
calls `alembic` and starts kernels from there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from contextlib import chdir, contextmanager
from pathlib import Path

from ketamine_course.core.errors import CourseError


class NbgraderFailed(CourseError):
    pass


def autograding() -> bool:
    """True while nbgrader runs a notebook without a browser (autograde or validate)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def environment_with_bin_on_path() -> dict:
    """os.environ with this Python's bin folder first on PATH, so nbgrader finds alembic and jupyter."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


def command(*args) -> list:
    """The nbgrader command line, with this environment's Python."""
    return [sys.executable, "-m", "nbgrader", *args]


def run(course: Path, *args, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run `nbgrader ARGS` from the course folder; NbgraderFailed with its last lines if it fails."""
    result = subprocess.run(
        command(*args), cwd=course, capture_output=True, text=True, env=environment_with_bin_on_path(), timeout=timeout
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-12:])
        raise NbgraderFailed(f"nbgrader {args[0]} did not finish. Its last lines were:\n{tail}")
    return result


@contextmanager
def bin_on_path():
    """This environment's bin first on PATH for a while (for nbgrader's API in this process)."""
    saved_path = os.environ.get("PATH", "")
    os.environ["PATH"] = environment_with_bin_on_path()["PATH"]
    try:
        yield
    finally:
        os.environ["PATH"] = saved_path


@contextmanager
def in_course(root: Path):
    """Work from the course root with this environment's bin on PATH."""
    with bin_on_path(), chdir(root):
        yield


def course_config(root: Path):
    """nbgrader's configuration for this course: the user's and system's files, then the course's own."""
    from nbgrader.apps.baseapp import NbGrader

    with chdir(root):
        app = NbGrader()
        app.load_config_file()  # reads nbgrader_config.py from the standard places and the working folder
        return app.config


def course_directory(root: Path):
    """nbgrader's CourseDirectory for the course: its folders, gradebook address and ignore list."""
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=course_config(root))


def api(root: Path):
    """nbgrader's Python API on the course (use inside `in_course(root)`)."""
    from nbgrader.apps import NbGraderAPI

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return NbGraderAPI(config=course_config(root))
