"""The answer store: the learner's graded answers, saved beside the notebook as they click.

nbgrader re-runs a notebook without a browser, so a widget's value would be lost; the widget
therefore writes each answer to `answers.json` in the notebook's folder, and the hidden test cells
read it back. The file is versioned, written atomically (temporary file, then rename) under a lock,
and read forgivingly: a missing, unreadable or hand-edited file, or a malformed entry, means
"unanswered" with a message, never a crash. An unreadable file is kept aside, never overwritten.
The store is data only: a link in place of the file, a file of more than a megabyte, and values
that are not plain, small JSON data (NaN, infinities, huge numbers, very long text, deep nesting)
are refused with a message, since the grader reads this file from a learner.

In the instructor's source folder (solutions/<assignment>/) answers are held in memory only:
a file there would be copied into the students' release and over their submissions.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ketamine_course.storage.json_files import keep_aside, locked, write_json_atomically

STORE_NAME = "answers.json"
SOURCE_FOLDER = "solutions"  # nbgrader's source directory, as nbgrader_config.py names it
FORMAT = "ketamine-course/answers"
VERSION = 1
MAX_BYTES = 1_000_000  # a full course's answers take a few kilobytes
MAX_ENTRIES = 500
MAX_ID_LENGTH = 100
MAX_TEXT = 20_000  # characters of one written answer
MAX_ITEMS = 100  # elements of a list (options chosen, steps ordered)
MAX_NUMBER = 1e12
MAX_DEPTH = 3


@dataclass
class StoreContents:
    answers: dict = field(default_factory=dict)  # item id -> saved value
    entries: dict = field(default_factory=dict)  # item id -> the whole saved entry (value and time)
    problems: list = field(default_factory=list)  # plain-language messages about what was unusable
    unreadable: bool = False  # the file exists but could not be used at all


_in_memory: dict = {}  # folder -> {item id: entry}, for source folders only


def store_path(folder=None) -> Path:
    return Path(folder or os.getcwd()).resolve() / STORE_NAME


def is_source_folder(folder=None) -> bool:
    """True for solutions/<assignment>/ of an nbgrader course: answers there never touch the disk."""
    here = Path(folder or os.getcwd()).resolve()
    return here.parent.name == SOURCE_FOLDER and (here.parent.parent / "nbgrader_config.py").exists()


def read_store(folder=None) -> StoreContents:
    path = store_path(folder)
    if is_source_folder(folder):
        entries = dict(_in_memory.get(str(path), {}))
        return StoreContents({k: e["value"] for k, e in entries.items()}, entries)
    if path.is_symlink():
        return StoreContents(
            problems=[
                f"{path.name} is a link to another file, not an answer file; every graded answer counts as unanswered."
            ],
            unreadable=True,
        )
    if not path.exists():
        return StoreContents()
    try:
        if not path.is_file():
            raise IsADirectoryError(str(path))
        size = path.stat().st_size
        if size > MAX_BYTES:
            return StoreContents(
                problems=[
                    f"{path.name} is too large to be an answer file ({size / 1e6:.1f} MB); "
                    "every graded answer counts as unanswered."
                ],
                unreadable=True,
            )
        data = json.loads(path.read_text(encoding="utf-8"), parse_int=_bounded_int)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        return StoreContents(
            problems=[
                f"{path.name} could not be read ({exc.__class__.__name__}); every graded answer counts as unanswered."
            ],
            unreadable=True,
        )
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("answers"), dict):
        return StoreContents(
            problems=[f"{path.name} is not a course answer file; every graded answer counts as unanswered."],
            unreadable=True,
        )
    if data.get("version") != VERSION:
        return StoreContents(
            problems=[
                f"{path.name} has format version {data.get('version')!r}, "
                f"this course reads version {VERSION}; answers count as unanswered."
            ],
            unreadable=True,
        )
    if len(data["answers"]) > MAX_ENTRIES:
        return StoreContents(
            problems=[
                f"{path.name} holds {len(data['answers'])} answers, more than any course "
                "answer file; every graded answer counts as unanswered."
            ],
            unreadable=True,
        )
    contents = StoreContents()
    for item_id, entry in data["answers"].items():
        shown = item_id if len(item_id) <= 40 else item_id[:37] + "..."
        if len(item_id) > MAX_ID_LENGTH:
            contents.problems.append(f"The saved answer to {shown} has an id no question has; it is ignored.")
        elif not isinstance(entry, dict) or "value" not in entry:
            contents.problems.append(f"The saved answer to {shown} is malformed; it counts as unanswered.")
        elif (reason := plain_data_problem(entry["value"])) is not None:
            contents.problems.append(f"The saved answer to {shown} {reason}; it counts as unanswered.")
        else:
            contents.answers[str(item_id)] = entry["value"]
            contents.entries[str(item_id)] = entry
    return contents


class _TooLarge:
    """Stands for an integer of more digits than any answer has (Python refuses to read very long ones)."""


def _bounded_int(digits: str):
    return int(digits) if len(digits) <= 20 else _TooLarge()


def plain_data_problem(value, depth: int = 0):
    """None when `value` is small, plain JSON data an answer can be; else what is wrong, in words."""
    if depth > MAX_DEPTH:
        return "is nested too deeply"
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, _TooLarge):
        return "is a number too large for any question"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return "is not a finite number"
        return None if abs(value) <= MAX_NUMBER else "is a number too large for any question"
    if isinstance(value, str):
        return None if len(value) <= MAX_TEXT else f"is longer than {MAX_TEXT} characters"
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            return "lists more choices than any question has"
        return next((p for p in (plain_data_problem(v, depth + 1) for v in value) if p), None)
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS or not all(isinstance(k, str) and len(k) <= MAX_ID_LENGTH for k in value):
            return "is not an answer this course can read"
        return next((p for p in (plain_data_problem(v, depth + 1) for v in value.values()) if p), None)
    return "is not plain data"


def save_answer(item_id: str, value, folder=None) -> StoreContents:
    """Record one answer (replacing any earlier one) and return what the store now holds."""
    problem = plain_data_problem(value)
    if problem is not None:
        raise ValueError(f"An answer to {item_id} must be plain data; this one {problem}.")
    path = store_path(folder)
    entry = {"value": value, "saved": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if is_source_folder(folder):
        _in_memory.setdefault(str(path), {})[item_id] = entry
        return read_store(folder)
    with locked(path.parent / ".answers.lock"):
        current = read_store(folder)
        if current.unreadable:
            kept = keep_aside(path, "unreadable")
            current = StoreContents(problems=current.problems + [f"The unreadable file was kept as {kept.name}."])
        entries = dict(current.entries)
        entries[item_id] = entry
        write_json_atomically(path, {"format": FORMAT, "version": VERSION, "answers": entries})
        current.answers[item_id] = value
        current.entries[item_id] = entries[item_id]
        return current
