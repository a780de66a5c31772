"""What a copy of the course, or of a learner's work, leaves out: one list for every copy.

`LEFT_BEHIND` is what nbgrader leaves behind on submit (nbgrader_config.py sets
`CourseDirectory.ignore` from it): checkpoints, caches, old feedback and the answer store's lock and
temporary files. A learner's saved answers (answers.json) travel with their own work, but a copy of
the course itself (handouts, the workshop's grading folder, test scratch courses) leaves them out too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

LEFT_BEHIND = (
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    ".answers.lock",
    ".answers-*.tmp",
    ".evaluation.lock",
    ".evaluation-*.tmp",
)
LEARNERS_ANSWERS = ("answers*.json", "evaluation*.json")


def copy_work(origin: Path, target: Path) -> Path:
    """Copy a learner's folder (their notebooks and saved answers) as nbgrader's submit would."""
    return Path(shutil.copytree(origin, target, ignore=shutil.ignore_patterns(*LEFT_BEHIND)))


def copy_course_folder(origin: Path, target: Path, dirs_exist_ok: bool = False) -> Path:
    """Copy a folder of the course (course/, solutions/, assignments/) without anyone's answers."""
    return Path(
        shutil.copytree(
            origin, target, dirs_exist_ok=dirs_exist_ok, ignore=shutil.ignore_patterns(*LEFT_BEHIND, *LEARNERS_ANSWERS)
        )
    )
