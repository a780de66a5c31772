"""The evaluation form: answered and saved with the learner's data, or beside the last assignment."""

import ipywidgets as w

from ketamine_course.storage import evaluation_record
from ketamine_course.widgets import evaluation_form


def controls(form) -> dict:
    rows = [child for child in form.children if isinstance(child, w.VBox)]
    return {row.children[1]._dom_classes[0].removeprefix("kc-evaluation-"): row.children[1] for row in rows}


def save(form):
    next(child for child in form.children if isinstance(child, w.Button)).click()
    return form.children[-1].value


def test_answers_are_saved_in_the_learners_data_folder_and_shown_again(tmp_path, monkeypatch):
    monkeypatch.setenv("KETAMINE_COURSE_DATA", str(tmp_path))
    form = evaluation_form.show()
    found = controls(form)
    assert set(found) == {q.id for q in evaluation_form.credit_facts().evaluation}
    found["objectives_met"].value = 4
    found["intended_change"].value = "I already practise this way"
    found["hours_taken"].value = 10
    found["professional_id"].value = "GMC 7654321"
    assert "attach the file" in save(form)
    saved = evaluation_record.read(tmp_path / "evaluation.json").answers
    assert saved == {
        "objectives_met": 4,
        "intended_change": "I already practise this way",
        "hours_taken": 10,
        "professional_id": "GMC 7654321",
    }
    assert controls(evaluation_form.show())["objectives_met"].value == 4


def test_with_the_last_assignment_it_is_saved_beside_the_notebook(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    form = evaluation_form.show(beside_notebook=True)
    controls(form)["relevance"].value = 5
    assert "submitted with this assignment" in save(form)
    assert evaluation_record.read(tmp_path / "evaluation.json").answers == {"relevance": 5}


def test_the_instructors_copy_and_autograding_save_nothing(tmp_path, monkeypatch):
    solution = tmp_path / "solutions" / "ps5_capstone"
    solution.mkdir(parents=True)
    (tmp_path / "nbgrader_config.py").write_text("", encoding="utf-8")
    monkeypatch.chdir(solution)
    form = evaluation_form.show(beside_notebook=True)
    assert "keeps no evaluation" in save(form) and not (solution / "evaluation.json").exists()
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert "not graded" in evaluation_form.show(beside_notebook=True).value
