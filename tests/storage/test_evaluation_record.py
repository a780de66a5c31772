"""The learner's evaluation: saved atomically with their data, read forgivingly."""

import json

from ketamine_course.storage import evaluation_record

ANSWERS = {
    "objectives_met": 5,
    "relevance": 4,
    "intended_change": "Yes, I will change something",
    "change_detail": "  Check blood pressure at 40 minutes.  ",
    "hours_taken": 9.5,
    "professional_id": "GMC 1234567",
}


def test_saved_answers_read_back_tidied(tmp_path):
    saved = evaluation_record.save(ANSWERS, tmp_path)
    assert not saved.problems
    again = evaluation_record.read(tmp_path / "evaluation.json")
    assert again.answers == {**ANSWERS, "change_detail": "Check blood pressure at 40 minutes."}
    assert again.saved == saved.saved
    assert not list(tmp_path.glob(".evaluation-*.tmp"))


def test_answers_that_do_not_fit_are_left_out_with_a_message(tmp_path):
    bad = {
        "objectives_met": 9,
        "relevance": True,
        "intended_change": "Maybe",
        "hours_taken": float("inf"),
        "comments": "x" * 5000,
        "unknown_question": "?",
        "balance": 3,
    }
    saved = evaluation_record.save(bad, tmp_path)
    assert saved.answers == {"balance": 3}
    assert len(saved.problems) == 5


def test_an_unreadable_file_is_reported_and_kept_aside_on_the_next_save(tmp_path):
    path = tmp_path / "evaluation.json"
    path.write_text("{not json", encoding="utf-8")
    assert evaluation_record.read(path).unreadable
    path.write_text(json.dumps({"format": "something else", "answers": {}}), encoding="utf-8")
    found = evaluation_record.read(path)
    assert found.unreadable and "not a course evaluation" in found.problems[0]
    saved = evaluation_record.save({"relevance": 5}, tmp_path)
    assert "kept as" in saved.problems[0]
    assert len(list(tmp_path.glob("evaluation.unreadable-*.json"))) == 1
    assert evaluation_record.read(path).answers == {"relevance": 5}


def test_a_missing_file_is_an_empty_evaluation(tmp_path):
    assert evaluation_record.read(tmp_path / "evaluation.json") == evaluation_record.Evaluation()
