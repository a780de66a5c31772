"""Where the course's files are: the course folder and the learner's own data folder."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from ketamine_course.core.errors import CourseError


class CourseNotFound(CourseError):
    pass


def course_root(start=None) -> Path:
    """The folder holding nbgrader_config.py and course/: from KETAMINE_COURSE_ROOT, else upwards from here."""
    if os.environ.get("KETAMINE_COURSE_ROOT"):
        return Path(os.environ["KETAMINE_COURSE_ROOT"]).resolve()
    here = Path(start or os.getcwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "nbgrader_config.py").exists() and (folder / "course").is_dir():
            return folder
    package_checkout = Path(__file__).resolve().parents[2]
    if (package_checkout / "nbgrader_config.py").exists():
        return package_checkout
    raise CourseNotFound(
        "Cannot find the course folder (the one with nbgrader_config.py and course/). "
        "Run this command from inside it, or set KETAMINE_COURSE_ROOT."
    )


def assignment_names(root: Path | None = None) -> list:
    """The course's graded assignments, in order: the folders of its solutions/ (nbgrader's source)."""
    solutions = (root or course_root()) / "solutions"
    return (
        sorted(p.name for p in solutions.iterdir() if p.is_dir() and not p.name.startswith("."))
        if solutions.is_dir()
        else []
    )


def data_dir() -> Path:
    """The learner's own data folder: KETAMINE_COURSE_DATA if set, else the platform's user data folder."""
    configured = os.environ.get("KETAMINE_COURSE_DATA")
    return Path(configured).expanduser() if configured else platformdirs.user_data_path("ketamine-course")
