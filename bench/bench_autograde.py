"""Autograde cost per notebook: the course's assignments against a one-cell baseline, same run.

    .venv/bin/python bench/bench_autograde.py [--students N]

Builds a scratch course, submits N all-right students to every assignment (answer stores written
as the widgets write them) and to a baseline assignment whose notebook is one `assert True` grade
cell, autogrades each, and prints seconds per notebook (median over assignments) and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from ketamine_course.storage import answer_store  # noqa: E402

from conftest import copy_course, nbgrader  # noqa: E402


def baseline_assignment(course: Path) -> None:
    cell = nbformat.v4.new_code_cell("assert True")
    cell.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "locked": True,
        "points": 1,
        "grade_id": "baseline",
        "schema_version": 3,
    }
    nb = nbformat.v4.new_notebook(
        cells=[cell], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    folder = course / "solutions" / "baseline"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "baseline.ipynb")


def autograde_seconds(course: Path, assignment: str, notebook: str, students: int, answers: dict) -> float:
    nbgrader(course, "generate_assignment", assignment, "--force")
    released = course / "assignments" / assignment / f"{notebook}.ipynb"
    for n in range(students):
        folder = course / "submitted" / f"s{n:03d}" / assignment
        folder.mkdir(parents=True)
        folder.joinpath(f"{notebook}.ipynb").write_bytes(released.read_bytes())
        for item_id, value in answers.items():
            answer_store.save_answer(item_id, value, folder)
    start = time.perf_counter()
    nbgrader(course, "autograde", assignment, "--force")
    return (time.perf_counter() - start) / students


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=5)
    args = parser.parse_args()
    fixtures = [yaml.safe_load(p.read_text()) for p in sorted((REPO / "tests/fixtures/assignments").glob("*.yaml"))]
    with tempfile.TemporaryDirectory() as tmp:
        course = copy_course(Path(tmp) / "course")
        baseline_assignment(course)
        for n in range(args.students):
            nbgrader(course, "db", "student", "add", f"s{n:03d}")
        baseline = autograde_seconds(course, "baseline", "baseline", args.students, {})
        per_assignment = {}
        for f in fixtures:
            per_assignment[f["assignment"]] = autograde_seconds(
                course, f["assignment"], f["notebook"], args.students, f["right"]
            )
    print(f"students per assignment: {args.students}")
    print(f"baseline (one 'assert True' cell): {baseline:.2f} s per notebook")
    for name, seconds in per_assignment.items():
        print(f"{name}: {seconds:.2f} s per notebook (ratio {seconds / baseline:.2f})")
    median = statistics.median(per_assignment.values())
    print(
        f"median over the course's assignments: {median:.2f} s per notebook; ratio to baseline {median / baseline:.2f}"
    )


if __name__ == "__main__":
    main()
