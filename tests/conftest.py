"""Shared fixtures: the repository, a scratch copy of the course, and nbgrader run as an instructor would."""
from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ASSIGNMENTS = sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir())
ARTIFACTS = REPO / "test-artifacts"
# Fixture students of every assignment: the right answers, partly right ones and what they score.
FIXTURES = {f["assignment"]: f for f in (
    yaml.safe_load(p.read_text()) for p in sorted((REPO / "tests" / "fixtures" / "assignments").glob("*.yaml")))}


@pytest.fixture(autouse=True, scope="session")
def learner_data_folder(tmp_path_factory) -> Path:
    """Learner data (progress, self-grading, certificates) goes to a scratch folder, never the real one.

    Set in os.environ, so kernels, JupyterLab and commands started by tests inherit it.
    """
    folder = tmp_path_factory.mktemp("learner-data")
    os.environ["KETAMINE_COURSE_DATA"] = str(folder)
    return folder


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


def course_command(course: Path, *args, timeout=600) -> subprocess.CompletedProcess:
    """Run `ketamine-course ARGS` from the course root, as an instructor does."""
    return subprocess.run([sys.executable, "-m", "ketamine_course.cli", *args], cwd=course,
                          env=course_env(KETAMINE_COURSE_ROOT=str(course)), capture_output=True, text=True,
                          timeout=timeout)


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
    return {"junkstore": (released, None, "{this is not json"),
            "tampered": (tampered, fixture["partial"]["answers"], None),
            "deletedcell": (deleted, fixture["right"], None),
            "runaway": (runaway, fixture["right"], None)}
