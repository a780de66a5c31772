import json
import threading

import pytest

from ketamine_course.storage import answer_store


def test_missing_store_is_empty(tmp_path):
    contents = answer_store.read_store(tmp_path)
    assert contents.answers == {} and contents.problems == [] and not contents.unreadable


def test_save_and_read_back_versioned(tmp_path):
    answer_store.save_answer("ps0.q1", "b", tmp_path)
    answer_store.save_answer("ps0.q2", ["a", "c"], tmp_path)
    answer_store.save_answer("ps0.q1", "c", tmp_path)  # a changed answer replaces the old one
    data = json.loads((tmp_path / "answers.json").read_text())
    assert data["format"] == answer_store.FORMAT and data["version"] == answer_store.VERSION
    assert answer_store.read_store(tmp_path).answers == {"ps0.q1": "c", "ps0.q2": ["a", "c"]}
    assert "saved" in data["answers"]["ps0.q2"]
    assert not list(tmp_path.glob(".answers-*.tmp")), "temporary files are renamed, never left behind"


def test_corrupt_store_reads_as_unanswered_and_is_kept_aside_on_next_save(tmp_path):
    (tmp_path / "answers.json").write_text("{not json", encoding="utf-8")
    contents = answer_store.read_store(tmp_path)
    assert contents.unreadable and contents.answers == {} and "could not be read" in contents.problems[0]
    result = answer_store.save_answer("ps0.q1", "b", tmp_path)
    kept = list(tmp_path.glob("answers.unreadable-*.json"))
    assert len(kept) == 1 and kept[0].read_text() == "{not json", "nothing is lost"
    assert any("kept as" in p for p in result.problems)
    assert answer_store.read_store(tmp_path).answers == {"ps0.q1": "b"}


def test_foreign_or_future_files_are_not_trusted(tmp_path):
    (tmp_path / "answers.json").write_text(json.dumps({"answers": {"ps0.q1": {"value": "b"}}}))
    assert answer_store.read_store(tmp_path).unreadable
    (tmp_path / "answers.json").write_text(json.dumps({"format": answer_store.FORMAT, "version": 99, "answers": {}}))
    assert "version" in answer_store.read_store(tmp_path).problems[0]


def test_hand_edited_entry_counts_as_unanswered(tmp_path):
    (tmp_path / "answers.json").write_text(
        json.dumps(
            {"format": answer_store.FORMAT, "version": 1, "answers": {"ps0.q1": "b", "ps0.q2": {"value": ["a"]}}}
        )
    )
    contents = answer_store.read_store(tmp_path)
    assert contents.answers == {"ps0.q2": ["a"]}
    assert "ps0.q1" in contents.problems[0]


def test_concurrent_saves_lose_nothing(tmp_path):
    threads = [threading.Thread(target=answer_store.save_answer, args=(f"ps0.q{i}", i, tmp_path)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answer_store.read_store(tmp_path).answers) == 20


def test_source_folder_answers_stay_in_memory(tmp_path):
    """An instructor running a solution notebook must never leave an answer file to be released."""
    (tmp_path / "nbgrader_config.py").write_text("")
    source = tmp_path / "solutions" / "ps0_start_here"
    source.mkdir(parents=True)
    assert answer_store.is_source_folder(source)
    answer_store.save_answer("ps0.q1", "b", source)
    assert answer_store.read_store(source).answers == {"ps0.q1": "b"}
    assert not (source / "answers.json").exists()
    released = tmp_path / "assignments" / "ps0_start_here"
    released.mkdir(parents=True)
    assert not answer_store.is_source_folder(released)
    assert answer_store.read_store(released).answers == {}


def write_raw(folder, entries: str) -> None:
    (folder / "answers.json").write_text(
        '{"format": "%s", "version": %d, "answers": {%s}}' % (answer_store.FORMAT, answer_store.VERSION, entries),
        encoding="utf-8",
    )


@pytest.mark.parametrize(
    "value, words",
    [
        ('{"value": NaN, "unit": "mg"}', "finite"),
        ('{"value": -Infinity, "unit": "mg"}', "finite"),
        ("9" * 5000, "too large"),
        ("1e300", "too large"),
        ('"' + "x" * 30_000 + '"', "longer than"),
        ('[[[[["a"]]]]]', "nested"),
        ("[" + ", ".join(['"a"'] * 500) + "]", "more choices"),
    ],
)
def test_a_hostile_value_is_unanswered_for_its_item_only(tmp_path, value, words):
    write_raw(tmp_path, f'"ps0.q1": {{"value": "b"}}, "ps0.q3": {{"value": {value}}}')
    stored = answer_store.read_store(tmp_path)
    assert stored.answers == {"ps0.q1": "b"}
    assert len(stored.problems) == 1 and words in stored.problems[0] and "ps0.q3" in stored.problems[0]


def test_a_huge_or_linked_or_folder_store_is_unreadable_with_a_message(tmp_path):
    big = tmp_path / "big"
    big.mkdir()
    write_raw(big, '"ps0.q1": {"value": "%s"}' % ("p" * 2_000_000))
    assert "too large" in answer_store.read_store(big).problems[0]
    many = tmp_path / "many"
    many.mkdir()
    write_raw(many, ", ".join(f'"x{i}": {{"value": 1}}' for i in range(1000)))
    assert answer_store.read_store(many).unreadable
    folder = tmp_path / "folder"
    (folder / "answers.json").mkdir(parents=True)
    assert answer_store.read_store(folder).unreadable
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "answers.json").symlink_to(big / "answers.json")
    stored = answer_store.read_store(linked)
    assert stored.unreadable and "link" in stored.problems[0]
