"""The answer store: the learner's graded answers, saved beside the notebook as they click.

nbgrader re-runs a notebook without a browser, so a widget's value would be lost; the widget
therefore writes each answer to `answers.json` in the notebook's folder, and the hidden test cells
read it back. The file is versioned, written atomically (temporary file, then rename) under a lock,
and read forgivingly: a missing, unreadable or hand-edited file, or a malformed entry, means
"unanswered" with a message, never a crash. An unreadable file is kept aside, never overwritten.

In the instructor's source folder (solutions/<assignment>/) answers are held in memory only:
a file there would be copied into the students' release and over their submissions.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .safe_files import keep_aside, locked, write_json_atomically

STORE_NAME = "answers.json"
SOURCE_FOLDER = "solutions"  # nbgrader's source directory, as nbgrader_config.py names it
FORMAT = "ketamine-course/answers"
VERSION = 1


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
    if not path.exists():
        return StoreContents()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return StoreContents(problems=[f"{path.name} could not be read ({exc.__class__.__name__}); "
                                       "every graded answer counts as unanswered."], unreadable=True)
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("answers"), dict):
        return StoreContents(problems=[f"{path.name} is not a course answer file; "
                                       "every graded answer counts as unanswered."], unreadable=True)
    if data.get("version") != VERSION:
        return StoreContents(problems=[f"{path.name} has format version {data.get('version')!r}, "
                                       f"this course reads version {VERSION}; answers count as unanswered."],
                             unreadable=True)
    contents = StoreContents()
    for item_id, entry in data["answers"].items():
        if isinstance(entry, dict) and "value" in entry:
            contents.answers[str(item_id)] = entry["value"]
            contents.entries[str(item_id)] = entry
        else:
            contents.problems.append(f"The saved answer to {item_id} is malformed; it counts as unanswered.")
    return contents


def save_answer(item_id: str, value, folder=None) -> StoreContents:
    """Record one answer (replacing any earlier one) and return what the store now holds."""
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
        write_json_atomically(path, {"format": FORMAT, "version": VERSION, "answers": entries}, ".answers-")
        current.answers[item_id] = value
        current.entries[item_id] = entries[item_id]
        return current
