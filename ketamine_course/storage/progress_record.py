"""The learner's progress: every formative answer given in the course, kept in their own data folder.

Each quick check the learner answers in course/ is recorded in `progress.json` in the learner's
data folder (KETAMINE_COURSE_DATA if set, else the platform's user data folder, e.g.
~/.local/share/ketamine-course), never in the course folder. The file is written atomically under
a lock, so two open notebooks cannot spoil it. A file that cannot be read is reported and kept
aside as `progress.unreadable-*.json` the next time an answer is saved (or when the learner
chooses a fresh start); resetting asks first and keeps the old file as `progress.reset-*.json`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ketamine_course.storage.json_files import keep_aside, locked, write_json_atomically
from ketamine_course.storage.paths import data_dir

FILE_NAME = "progress.json"
FORMAT = "ketamine-course/progress"
VERSION = 1


def progress_path() -> Path:
    return data_dir() / FILE_NAME


@dataclass
class Progress:
    answers: dict = field(default_factory=dict)  # question id -> {"answer", "fraction", "time", "attempts"}
    problems: list = field(default_factory=list)  # plain-language messages about what was unusable
    unreadable: bool = False  # the file exists but could not be used at all


def read() -> Progress:
    """The recorded answers; a missing file is a fresh start, an unreadable one is reported."""
    path = progress_path()
    if not path.exists():
        return Progress()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Progress(
            problems=[f"Your progress file {path} could not be read ({exc.__class__.__name__})."], unreadable=True
        )
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("answers"), dict):
        return Progress(problems=[f"{path} is not a course progress file."], unreadable=True)
    if data.get("version") != VERSION:
        return Progress(
            problems=[f"{path} has format version {data.get('version')!r}; this course reads version {VERSION}."],
            unreadable=True,
        )
    progress = Progress()
    for question_id, entry in data["answers"].items():
        if isinstance(entry, dict) and isinstance(entry.get("fraction", 0), (int, float, type(None))):
            progress.answers[str(question_id)] = entry
        else:
            progress.problems.append(f"The record of {question_id} is malformed and is not counted.")
    return progress


def record(question_id: str, answer, fraction: float | None) -> Progress:
    """Save the learner's latest answer to one question (fraction None: a reflection, not scored)."""
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAME
    with locked(folder / ".progress.lock"):
        current = read()
        if current.unreadable:
            kept = keep_aside(path, "unreadable")
            current = Progress(
                problems=current.problems
                + [f"The unreadable file was kept as {kept}; your progress starts afresh from this answer."]
            )
        previous = current.answers.get(question_id, {})
        current.answers[question_id] = {
            "answer": answer,
            "fraction": None if fraction is None else round(float(fraction), 4),
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "attempts": int(previous.get("attempts", 0)) + 1 if isinstance(previous, dict) else 1,
        }
        write_json_atomically(path, {"format": FORMAT, "version": VERSION, "answers": current.answers})
        return current


def start_afresh(label: str = "reset") -> Path | None:
    """Move the progress file aside (kept, never deleted) so recording starts again; returns where it went."""
    folder = data_dir()
    path = folder / FILE_NAME
    if not path.exists():
        return None
    with locked(folder / ".progress.lock"):
        return keep_aside(path, label)
