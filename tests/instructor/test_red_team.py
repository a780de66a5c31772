"""Red team: every way we know a learner could try to raise their score or break grading.

One scratch course; each attempt is one fixture student, and nbgrader autogrades them all at once
(stock `nbgrader autograde` for the Start-here check, grade-cohort for the Mechanism check). Each
attempt must score what the learner's honest answers earn, be reported to the instructor and the
learner, and leave every other student graded.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re

import nbformat
import pytest
import yaml
from nbgrader.api import Gradebook

from ketamine_course.instructor import cohort, exports
from ketamine_course.storage import answer_store

from conftest import REPO, copy_course, nbgrader

pytestmark = [pytest.mark.nbgrader, pytest.mark.xdist_group("red_team")]  # one worker: the scratch course is made once

FIXTURES = {
    a: yaml.safe_load((REPO / "tests" / "fixtures" / "assignments" / f"{a}.yaml").read_text())
    for a in ("ps0_start_here", "ps1_mechanism")
}
PS0, PS1 = "ps0_start_here", "ps1_mechanism"
NOTEBOOK = {a: f["notebook"] for a, f in FIXTURES.items()}
RIGHT = FIXTURES[PS0]["right"]
PARTIAL = FIXTURES[PS0]["partial"]["answers"]

# The exploit: two lines that replace the grading helper. A grading cell whose last line
# gives no value earns full marks in nbgrader; one that gives more than the cell's points fails
# the whole submission.
EXPLOIT = "from ketamine_course import grading\ngrading.grade = lambda *args, **kwargs: None\n"
OVERFLOW = "from ketamine_course import grading\ngrading.grade = lambda *args, **kwargs: 1000\n"


def released(course, assignment=PS0):
    return nbformat.read(course / "assignments" / assignment / f"{NOTEBOOK[assignment]}.ipynb", as_version=4)


def cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def index(nb, grade_id):
    return nb.cells.index(cell(nb, grade_id))


def with_added_cell(course, source, assignment=PS0):
    """The released notebook with one code cell of the learner's own just after the setup cell."""
    nb = released(course, assignment)
    nb.cells.insert(index(nb, "setup") + 1, nbformat.v4.new_code_cell(source))
    return nb


def first_answer_cell(nb):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")


def grade_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]


def store_text(answers: dict) -> str:
    return json.dumps(
        {
            "format": answer_store.FORMAT,
            "version": answer_store.VERSION,
            "answers": {k: {"value": v, "saved": "2026-12-01T09:00:00+00:00"} for k, v in answers.items()},
        }
    )


# --- the attempts ----------------------------------------------------------------------------
# Each returns (notebook, answers saved through the store, raw store text or None, extra files).


def exploit_in_answer_cell(course, assignment=PS0):
    nb = released(course, assignment)
    first_answer_cell(nb).source += "\n" + EXPLOIT
    return nb, {}, None, {}


def exploit_in_added_cell(course, assignment=PS0):
    return with_added_cell(course, EXPLOIT, assignment), {}, None, {}


def overflowing_score(course):
    nb = released(course)
    first_answer_cell(nb).source += "\n" + OVERFLOW
    return nb, {}, None, {}


def honest_answers_and_exploit(course):
    nb = released(course)
    first_answer_cell(nb).source += "\n" + EXPLOIT
    return nb, PARTIAL, None, {}


def patched_scoring(course):
    nb = released(course)
    first_answer_cell(nb).source += (
        "\nfrom ketamine_course import grading, scoring\n"
        "grading._score = lambda *a: scoring.Outcome(1.0, True, 'Correct.')\n"
    )
    return nb, {}, None, {}


def patched_builtins(course):
    source = "import builtins\nbuiltins.round = lambda x, n=None: 1.0\nbuiltins.min = lambda *a, **k: 1.0\n"
    return with_added_cell(course, source), {}, None, {}


def input_transformer(course):
    source = (
        "def rewrite(lines):\n"
        "    return [l.replace('grading.grade(', '(lambda *a, **k: None)(') for l in lines]\n"
        "get_ipython().input_transformers_post.append(rewrite)\n"
    )
    return with_added_cell(course, source), {}, None, {}


def odd_comparison(course):
    """A value that equals everything, recorded by an added cell; and the store patched to hand it out."""
    nb = with_added_cell(
        course,
        (
            "class AlwaysEqual(str):\n"
            "    def __eq__(self, other): return True\n"
            "    __hash__ = str.__hash__\n"
            "from ketamine_course import answer_store\n"
            "real = answer_store.read_store\n"
            "def read_store(folder=None):\n"
            "    contents = real(folder)\n"
            "    contents.answers = {i: AlwaysEqual('a') for i in ['ps0.q1', 'ps0.v1.q1', 'ps0.v1.q2']}\n"
            "    return contents\n"
            "answer_store.read_store = read_store\n"
        ),
    )
    raw = store_text({"ps0.q1": {"__class__": "AlwaysEqual", "__eq__": "lambda self, other: True"}})
    return nb, {}, raw, {}


def skipped_grading_cells(course):
    """nbclient skips a cell tagged skip-execution; a grading cell without output earns full marks."""
    nb = released(course)
    for c in grade_cells(nb):
        c.metadata["tags"] = ["skip-execution"]
    return nb, {}, None, {}


def changed_metadata(course):
    nb = released(course)
    answer = first_answer_cell(nb)
    answer.metadata.nbgrader.update(grade=True, points=100)
    cell(nb, "ps0_q2_grade").metadata.nbgrader["points"] = 50
    bonus = nbformat.v4.new_markdown_cell("Bonus")
    bonus.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": "bonus",
        "points": 50,
        "solution": False,
        "locked": False,
        "schema_version": 3,
    }
    nb.cells.append(bonus)
    return nb, {}, None, {}


def changed_cell_types(course):
    nb = released(course)
    heading = next(c for c in nb.cells if c.cell_type == "markdown" and "Question 1" in c.source)
    heading.cell_type = "code"
    heading.source = EXPLOIT
    heading.outputs, heading.execution_count = [], None
    grading_cell = cell(nb, "ps0_q2_grade")
    grading_cell.cell_type = "markdown"
    del grading_cell["outputs"], grading_cell["execution_count"]
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    return nb, {}, None, {}


def duplicated_grade_cell(course):
    """nbgrader keeps the last copy of a cell and runs earlier copies as plain code."""
    nb = released(course)
    copy = nbformat.from_dict(json.loads(json.dumps(cell(nb, "ps0_q1_grade"))))
    copy.source = EXPLOIT
    copy["id"] = "copied01"
    nb.cells.insert(index(nb, "setup") + 1, copy)
    return nb, {}, None, {}


def runaway_cell(course):
    return with_added_cell(course, "while True:\n    pass"), RIGHT, None, {}


def shadow_package(course):
    """A folder beside the notebook that Python imports before the installed course package."""
    files = {
        "ketamine_course/__init__.py": "",
        "ketamine_course/grading.py": "def check(*a, **k): pass\ndef grade(*a, **k): pass\n",
        "ketamine_course/ui.py": "def item(*a, **k): pass\n",
        "sitecustomize.py": "import builtins\nbuiltins.round = lambda x, n=None: 1.0\n",
    }
    return released(course), {}, None, files


def forged_report(course):
    """A fake record of 'no changes', in the notebook and beside it, next to the exploit."""
    nb = released(course)
    first_answer_cell(nb).source += "\n" + EXPLOIT
    nb.metadata["ketamine_course_guard"] = {"changes": [], "store_link": False}
    fake = json.dumps({"changes": []})
    return nb, {}, None, {f"{NOTEBOOK[PS0]}.grading_changes.json": fake}


def changed_kernel(course):
    nb = released(course)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Mine", "language": "python", "argv": ["sh"]}
    return nb, {}, None, {}


def hostile_values(course):
    """One right answer, and every other value of a wrong type, shape or size."""
    raw = json.loads(
        store_text(
            {
                "ps0.q1": RIGHT["ps0.q1"],
                "ps0.q2": [[[[["a"]]]]],
                "ps0.q4": ["bp0"] * 1000,
                "ps0.v1.q1": {"a": 1},
                "ps0.r1": "x" * 50_000,
                "ps9.bonus": "b",
                "y" * 500: "b",
            }
        )
    )
    raw["answers"]["ps0.v1.q2"] = "c"  # not an entry with a value
    text = json.dumps(raw)
    text = text.replace('"ps0.q1": {', '"ps0.q3": {"value": {"value": NaN, "unit": "mg"}}, "ps0.q1": {')
    text = text.replace('"ps0.q1": {', '"ps0.q3b": {"value": {"value": Infinity, "unit": "mg"}}, "ps0.q1": {')
    text = text.replace('"ps0.q1": {', '"ps0.v2": {"value": ' + "9" * 5000 + '}, "ps0.q1": {')
    return released(course), {}, text, {}


def huge_store(course):
    answers = dict(RIGHT)
    answers["padding"] = "p" * 5_000_000
    return released(course), {}, store_text(answers), {}


def linked_store(course):
    """answers.json as a link to another student's answers."""
    return released(course), {}, None, {"answers.json": "@link:../../honest/ps0_start_here/answers.json"}


def honest_in_jupyterlab(course):
    """What JupyterLab writes while an honest learner works: nothing here is a change to report."""
    nb = released(course)
    nb.metadata["kernelspec"]["display_name"] = "Python 3 (ipykernel)"
    for c in nb.cells:
        c.metadata["tags"] = []
        c.metadata.setdefault("jupyter", {})["source_hidden"] = False
        if c.cell_type == "code":
            c.metadata["execution"] = {"iopub.status.busy": "2026-12-01T09:00:00.000Z"}
    return nb, RIGHT, None, {}


def honest_in_an_older_format(course):
    """An honest notebook saved in nbformat 4.4, whose cells have no ids."""
    nb = released(course)
    nb.nbformat_minor = 4
    for c in nb.cells:
        c.pop("id", None)
    return nb, RIGHT, None, {}


HONEST = {
    "honest": lambda course: (released(course), RIGHT, None, {"timestamp.txt": "2026-12-01 09:00:00.000000 UTC"}),
    "honest_in_jupyterlab": honest_in_jupyterlab,
    "honest_older_format": honest_in_an_older_format,
}

ATTEMPTS = {  # student -> (attempt, what the honest answers earn)
    "exploit_answer_cell": (exploit_in_answer_cell, 0),
    "exploit_added_cell": (exploit_in_added_cell, 0),
    "overflowing_score": (overflowing_score, 0),
    "honest_and_exploit": (honest_answers_and_exploit, FIXTURES[PS0]["partial"]["score"]),
    "patched_scoring": (patched_scoring, 0),
    "patched_builtins": (patched_builtins, 0),
    "input_transformer": (input_transformer, 0),
    "odd_comparison": (odd_comparison, 0),
    "skipped_cells": (skipped_grading_cells, 0),
    "changed_metadata": (changed_metadata, 0),
    "changed_types": (changed_cell_types, 0),
    "duplicated_grade_cell": (duplicated_grade_cell, 0),
    "runaway_cell": (runaway_cell, FIXTURES[PS0]["auto_points"]),
    "shadow_package": (shadow_package, 0),
    "forged_report": (forged_report, 0),
    "changed_kernel": (changed_kernel, 0),
}
HOSTILE_STORES = {  # student -> (attempt, score, words the learner reads)
    "hostile_values": (hostile_values, 1, ["counts as unanswered", "this course does not have"]),
    "huge_store": (huge_store, 0, ["too large"]),
    "linked_store": (linked_store, 0, ["was a link to another file"]),
}
PS1_ATTEMPTS = {"exploit_answer_cell": exploit_in_answer_cell, "exploit_added_cell": exploit_in_added_cell}


def submit(course, student, assignment, attempt):
    nb, answers, raw, files = attempt
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{NOTEBOOK[assignment]}.ipynb")
    for item_id, value in answers.items():
        answer_store.save_answer(item_id, value, folder)
    if raw is not None:
        (folder / "answers.json").write_text(raw, encoding="utf-8")
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        if text.startswith("@link:"):
            os.symlink(text.removeprefix("@link:"), folder / name)
        else:
            (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def red_team(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("red-team") / "course_root")
    nbgrader(course, "generate_assignment", "ps[01]_*", "--force")  # PS0 and PS1, in one run of nbgrader
    for student, attempt in HONEST.items():
        submit(course, student, PS0, attempt(course))
    submit(course, "blank", PS0, (released(course), {}, None, {}))
    for student, (attempt, _) in ATTEMPTS.items():
        submit(course, student, PS0, attempt(course))
    for student, (attempt, *_) in HOSTILE_STORES.items():
        submit(course, student, PS0, attempt(course))
    submit(course, "honest", PS1, (released(course, PS1), FIXTURES[PS1]["right"], None, {}))
    for student, attempt in PS1_ATTEMPTS.items():
        submit(course, student, PS1, attempt(course, PS1))
    autograde = nbgrader(course, "autograde", PS0, "--force", "--create", check=False)
    nbgrader(course, "generate_feedback", PS0, "--force", check=False)
    run = cohort.grade_cohort(PS1, root=course, feedback=True)
    export = exports.export_grades(root=course)
    return course, autograde, run, export


def score(course, student, assignment=PS0):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(NOTEBOOK[assignment], assignment, student)
        return sum(g.auto_score or 0 for g in nb.grades if g.cell_type == "code"), nb.flagged


def changes(course, student, assignment=PS0):
    path = course / "autograded" / student / assignment / f"{NOTEBOOK[assignment]}.grading_changes.json"
    return json.loads(path.read_text())["changes"] if path.exists() else []


def page_text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


def feedback(course, student, assignment=PS0):
    return (course / "feedback" / student / assignment / f"{NOTEBOOK[assignment]}.html").read_text(encoding="utf-8")


@pytest.mark.kernel
def test_autograde_exits_cleanly_for_every_student(red_team):
    course, autograde, run, _ = red_team
    assert autograde.returncode == 0, autograde.stdout + autograde.stderr
    assert not run.failures
    for student in HONEST:
        assert score(course, student) == (pytest.approx(FIXTURES[PS0]["auto_points"]), False), student
        assert changes(course, student) == [], f"{student} did nothing to report"
    assert (course / "autograded" / "honest" / PS0 / "timestamp.txt").exists(), "nbgrader's own record stays"
    assert score(course, "honest", PS1)[0] == pytest.approx(FIXTURES[PS1]["auto_points"])
    assert score(course, "blank") == (0, False) and changes(course, "blank") == []


@pytest.mark.kernel
@pytest.mark.parametrize("student", sorted(ATTEMPTS))
def test_each_attempt_scores_only_the_honest_answers_and_is_reported(red_team, student):
    course, autograde, _, _ = red_team
    earned, flagged = score(course, student)
    assert earned == pytest.approx(ATTEMPTS[student][1])
    found = changes(course, student)
    assert found, f"{student}: nothing reported"
    assert flagged, "the formgrader shows the submission flagged"
    assert all(c["instructor"] in autograde.stderr for c in found), "every change is in the autograde log"
    text = page_text(feedback(course, student))
    assert "Before grading, the course put its own version of this notebook back" in text
    for change in found:
        assert change["learner"].replace("`", "") in text, f"{change['learner']!r} is not in the feedback"


@pytest.mark.kernel
@pytest.mark.parametrize("student", sorted(HOSTILE_STORES))
def test_hostile_answer_stores_grade_as_unanswered_with_a_message(red_team, student):
    course, _, _, _ = red_team
    _, expected, words = HOSTILE_STORES[student]
    assert score(course, student)[0] == pytest.approx(expected)
    page = feedback(course, student)
    for word in words:
        assert word in page, f"{student}: {word!r} not in the feedback"


@pytest.mark.kernel
def test_the_kinds_of_change_are_told_apart(red_team):
    course, *_ = red_team
    kinds = {student: {c["kind"] for c in changes(course, student)} for student in ATTEMPTS}
    assert "restored" in kinds["exploit_answer_cell"]
    assert "removed" in kinds["exploit_added_cell"] and "removed" in kinds["runaway_cell"]
    assert {"removed", "type"} <= kinds["changed_types"]
    assert "metadata" in kinds["changed_metadata"] and "metadata" in kinds["skipped_cells"]
    assert "file" in kinds["shadow_package"]
    graded = nbformat.read(course / "autograded" / "runaway_cell" / PS0 / f"{NOTEBOOK[PS0]}.ipynb", as_version=4)
    assert not [c for c in graded.cells if c.cell_type == "code" and "while True" in c.source], "it never ran"
    assert not (course / "autograded" / "shadow_package" / PS0 / "ketamine_course").exists()


@pytest.mark.kernel
@pytest.mark.parametrize("student", sorted(PS1_ATTEMPTS))
def test_the_exploit_fails_in_the_mechanism_check_too(red_team, student):
    course, _, run, _ = red_team
    assert score(course, student, PS1)[0] == 0
    assert student in run.changes
    assert "feedback" and "Before grading" in feedback(course, student, PS1)


@pytest.mark.kernel
def test_grade_cohort_summary_and_exports_list_the_changes(red_team):
    course, _, run, export = red_team
    summary = run.summary()
    assert "undid changes" in summary and "exploit_answer_cell" in summary and "honest" not in summary
    assert "grading changes:" in run.log.read_text()
    rows = list(csv.DictReader(open(export.grades_csv)))
    column = {(r["assignment"], r["student_id"]): int(r["grading_changes"]) for r in rows}
    assert column[(PS0, "honest")] == 0 and column[(PS0, "exploit_added_cell")] >= 1
    assert column[(PS1, "exploit_answer_cell")] >= 1
    objectives = {r["student_id"]: r["grading_changes"] for r in csv.DictReader(open(export.objectives_csv))}
    assert objectives["honest"] == "" and PS0 in objectives["exploit_added_cell"]
    assert export.changed and "changes undone" in export.summary()


# --- the answer store holds data only --------------------------------------------------------


def test_json_holds_only_data_so_odd_comparisons_cannot_enter_the_store(tmp_path):
    class AlwaysEqual(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    class Anything:
        def __eq__(self, other):
            return True

    answer_store.save_answer("ps0.q1", AlwaysEqual("a"), tmp_path)
    value = answer_store.read_store(tmp_path).answers["ps0.q1"]
    assert type(value) is str and value != "b", "what comes back is a plain string"
    with pytest.raises((TypeError, ValueError)):
        answer_store.save_answer("ps0.q2", Anything(), tmp_path)
    with pytest.raises(ValueError):
        answer_store.save_answer("ps0.q3", {"value": float("nan"), "unit": "mg"}, tmp_path)
    assert set(answer_store.read_store(tmp_path).answers) == {"ps0.q1"}


def test_grade_never_gives_more_than_the_items_points(tmp_path, monkeypatch):
    from ketamine_course import grading
    from ketamine_course.core import scoring

    monkeypatch.chdir(tmp_path)
    answer_store.save_answer("ps0.q1", "b", tmp_path)
    assert grading.grade("ps0.q1", key="b", points=1, rationale="r") == 1
    monkeypatch.setattr(grading, "_score", lambda *a: scoring.Outcome(7.0, True, "Correct."))
    assert grading.grade("ps0.q1", key="b", points=1, rationale="r") == 1
    monkeypatch.setattr(grading, "_score", lambda *a: scoring.Outcome(float("nan"), True, "?"))
    assert grading.grade("ps0.q1", key="b", points=1, rationale="r") == 0
    assert grading.Score(5, 2) == 2 and grading.Score(-3, 2) == 0


def test_a_link_in_place_of_the_store_is_refused(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    answer_store.save_answer("ps0.q1", "b", other)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "answers.json").symlink_to(other / "answers.json")
    stored = answer_store.read_store(mine)
    assert stored.unreadable and not stored.answers and "link" in stored.problems[0]


# --- grade my work and the certificate use the same protected grading --------------------------


@pytest.mark.kernel
def test_grade_my_work_and_the_certificate_are_protected(tmp_path, monkeypatch):
    from ketamine_course.selfstudy import certificate, grade_my_work

    monkeypatch.setenv("KETAMINE_COURSE_DATA", str(tmp_path / "data"))
    root = copy_course(tmp_path / "course_root", only=PS0)
    mine = tmp_path / "my_copy"
    mine.mkdir()
    nb, *_ = exploit_in_added_cell(root)
    first_answer_cell(nb).source += "\n" + EXPLOIT
    nbformat.write(nb, mine / f"{NOTEBOOK[PS0]}.ipynb")
    answer_store.save_answer("ps0.q1", "b", mine)
    grade = grade_my_work.grade_my_work(PS0, folder=mine, root=root)
    assert grade.auto_score == 1, "only the saved answer counts"
    page = grade.feedback[0].read_text(encoding="utf-8")
    assert "A code cell you added was removed" in page and "had been edited" in page
    assert "only the course's code" in page_text(page)
    with pytest.raises(certificate.NotEligible):
        certificate.make_certificate("Dr Sam Lee", root=root)
    (mine / "answers.json").unlink()
    (mine / "answers.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(grade_my_work.SelfGradingError, match="link to another file"):
        grade_my_work.grade_my_work(PS0, folder=mine, root=root)
