"""The progress record: formative answers in the learner's own data folder, safely kept."""

from __future__ import annotations

import json
import multiprocessing

import pytest

from ketamine_course.selfstudy import progress_report
from ketamine_course.storage import progress_record
from ketamine_course.widgets import questions


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("KETAMINE_COURSE_DATA", str(tmp_path / "learner"))
    return tmp_path / "learner"


def test_a_missing_record_is_a_fresh_start_and_the_folder_is_made_on_first_answer(data):
    assert not data.exists()
    assert progress_record.read().answers == {}
    progress_record.record("m1.q1", "a", 1.0)
    saved = json.loads((data / "progress.json").read_text())
    assert saved["format"] == "ketamine-course/progress" and saved["version"] == 1
    assert saved["answers"]["m1.q1"]["answer"] == "a"
    assert saved["answers"]["m1.q1"]["fraction"] == 1.0


def test_the_latest_answer_counts_and_attempts_are_counted(data):
    progress_record.record("m1.q1", "b", 0.0)
    progress_record.record("m1.q1", "a", 1.0)
    entry = progress_record.read().answers["m1.q1"]
    assert entry["answer"] == "a" and entry["fraction"] == 1.0 and entry["attempts"] == 2


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        json.dumps([1, 2]),
        json.dumps({"format": "other", "answers": {}}),
        json.dumps({"format": "ketamine-course/progress", "version": 9, "answers": {}}),
    ],
)
def test_an_unreadable_record_is_reported_then_kept_aside_never_lost(data, text):
    data.mkdir(parents=True)
    (data / "progress.json").write_text(text)
    progress = progress_record.read()
    assert progress.unreadable and progress.problems, "it is reported"
    assert (data / "progress.json").read_text() == text, "reading changes nothing"
    saved = progress_record.record("m0.q1", "b", 1.0)
    kept = list(data.glob("progress.unreadable-*.json"))
    assert len(kept) == 1 and kept[0].read_text() == text, "the old file is kept, byte for byte"
    assert any("kept as" in p for p in saved.problems)
    assert progress_record.read().answers["m0.q1"]["answer"] == "b"


def test_a_malformed_entry_is_skipped_with_a_message(data):
    data.mkdir(parents=True)
    (data / "progress.json").write_text(
        json.dumps(
            {
                "format": "ketamine-course/progress",
                "version": 1,
                "answers": {"m0.q1": "oops", "m0.q2": {"fraction": 1.0}},
            }
        )
    )
    progress = progress_record.read()
    assert list(progress.answers) == ["m0.q2"]
    assert any("m0.q1" in p for p in progress.problems)


def test_start_afresh_keeps_the_old_record(data):
    progress_record.record("m0.q1", "b", 1.0)
    kept = progress_record.start_afresh("reset")
    assert kept.name.startswith("progress.reset-") and "m0.q1" in kept.read_text()
    assert progress_record.read().answers == {}
    assert progress_record.start_afresh("reset") is None, "nothing to reset is not an error"


def _record_many(folder, worker):
    import os

    os.environ["KETAMINE_COURSE_DATA"] = folder
    for n in range(25):
        progress_record.record(f"w{worker}.q{n}", n, 1.0)


def test_two_notebooks_recording_at_once_lose_nothing(data):
    data.mkdir(parents=True)
    workers = [multiprocessing.Process(target=_record_many, args=(str(data), w)) for w in range(3)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
    assert len(progress_record.read().answers) == 75
    assert not list(data.glob(".progress-*.tmp")), "no temporary file is left behind"


def test_a_formative_answer_is_recorded_when_feedback_is_shown(data):
    box = questions.formative("m0.q1")
    box.answer_input.control.value = "a"
    entry = progress_record.read().answers["m0.q1"]
    assert entry["answer"] == "a" and entry["fraction"] in (0.0, 1.0)


def test_a_read_only_data_folder_is_explained_and_the_feedback_still_shows(data, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(progress_record, "record", refuse)
    box = questions.formative("m0.q1")
    box.answer_input.control.value = "a"
    assert "could not be saved" in box.feedback.value
    assert "Correct" in box.feedback.value or "Not the best answer" in box.feedback.value


def test_the_report_counts_by_objective_and_points_to_sections_to_review(data):
    progress_record.record("m1.q1", "z", 0.0)
    report = progress_report.build()
    module = next(m for m in report.modules if m.module == "m1")
    row = next(o for m in report.modules for o in m.objectives if "m1.q1" in o.questions)
    assert row.answered == 1 and row.score == 0.0 and row.status == "Review"
    assert module.answered == 1 and report.answered == 1
    sections = progress_report.review_sections(row, module.notebook)
    assert sections and sections[0].notebook == "01_mechanism.ipynb"
    html = progress_report.table_html(report)
    assert f"01_mechanism.ipynb#{sections[0].anchor}" in html
    progress_record.record("m1.q1", "a", 1.0)
    row = next(o for m in progress_report.build().modules for o in m.objectives if "m1.q1" in o.questions)
    assert row.status in ("In progress", "Secure")


def test_every_quick_check_sits_under_a_heading_of_its_module(data):
    report = progress_report.build()
    for module in report.modules:
        assert module.notebook, f"{module.module} has a teaching notebook"
        for row in module.objectives:
            for question_id in row.questions:
                assert progress_report.section_of(question_id, module.notebook), (
                    f"{question_id} is in {module.notebook}"
                )


def test_the_progress_command_resets_only_when_asked(data, capsys, monkeypatch):
    import argparse

    progress_record.record("m0.q1", "b", 1.0)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    assert progress_report.cmd_progress(argparse.Namespace(reset=True, yes=False)) == 1
    assert progress_record.read().answers, "declining changes nothing"
    assert progress_report.cmd_progress(argparse.Namespace(reset=True, yes=True)) == 0
    assert progress_record.read().answers == {}
    assert progress_report.cmd_progress(argparse.Namespace(reset=False, yes=False)) == 0
    assert "Quick checks answered: 0 of" in capsys.readouterr().out
