"""The learner's evaluation of the course: one small JSON file, kept with their own data.

Studying alone, it is `evaluation.json` in the learner's data folder (beside progress.json), which
they can send to the course owner. In a workshop the last assignment's copy is saved beside its
notebook, so nbgrader submits and collects it with the answers. Written atomically under a lock; a
file that cannot be read is reported, and kept aside when the learner saves again.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ketamine_course.content import credit_facts
from ketamine_course.storage.json_files import keep_aside, locked, write_json_atomically
from ketamine_course.storage.paths import data_dir

FILE_NAME = "evaluation.json"
FORMAT = "ketamine-course/evaluation"
VERSION = 1
MAX_TEXT = 4000
SCALE = (1, 5)  # strongly disagree .. strongly agree
MAX_HOURS = 200


@dataclass
class Evaluation:
    answers: dict = field(default_factory=dict)  # question id -> answer
    saved: str = ""  # when, in UTC (ISO 8601)
    problems: list = field(default_factory=list)
    unreadable: bool = False


def evaluation_path(folder=None) -> Path:
    return Path(folder if folder is not None else data_dir()) / FILE_NAME


def _usable(question, value):
    """The answer if it fits its question, else None."""
    if question.type == "scale":
        ok = isinstance(value, int) and not isinstance(value, bool) and SCALE[0] <= value <= SCALE[1]
    elif question.type == "hours":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        ok = ok and 0 < value <= MAX_HOURS
    elif question.type == "choice":
        ok = value in question.options
    else:
        ok = isinstance(value, str) and len(value) <= MAX_TEXT
    return value if ok else None


def clean(answers: dict) -> tuple:
    """(the answers that fit the course's questions, blanks left out; messages about the rest)."""
    kept, problems = {}, []
    for question in credit_facts().evaluation:
        value = answers.get(question.id)
        if value is None or value == "":
            continue
        if isinstance(value, str):
            value = value.strip()
        usable = _usable(question, value)
        if usable is None:
            problems.append(f"The answer to {question.text!r} is not usable and was left out.")
        else:
            kept[question.id] = usable
    return kept, problems


def read(path: Path | None = None) -> Evaluation:
    """The saved evaluation; a missing file is an empty one, an unreadable one is reported."""
    path = Path(path) if path is not None else evaluation_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Evaluation()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Evaluation(problems=[f"{path} could not be read ({exc.__class__.__name__})."], unreadable=True)
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("answers"), dict):
        return Evaluation(problems=[f"{path} is not a course evaluation."], unreadable=True)
    answers, problems = clean(data["answers"])
    return Evaluation(answers, str(data.get("saved", "")), problems)


def save(answers: dict, folder=None) -> Evaluation:
    """Save the evaluation (replacing an earlier one) in `folder`, by default the learner's data folder."""
    folder = Path(folder if folder is not None else data_dir())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAME
    kept, problems = clean(answers)
    with locked(folder / ".evaluation.lock"):
        if read(path).unreadable:
            problems.append(f"The unreadable earlier file was kept as {keep_aside(path, 'unreadable')}.")
        saved = datetime.now(timezone.utc).isoformat(timespec="seconds")
        write_json_atomically(path, {"format": FORMAT, "version": VERSION, "saved": saved, "answers": kept})
    return Evaluation(kept, saved, problems)
