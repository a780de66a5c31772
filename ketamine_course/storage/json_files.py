"""Writing the learner's files safely: under a lock, atomically, and never losing an unreadable file.

Used by the answer store (graded answers beside a notebook) and by the progress record (formative
answers in the learner's data folder).
"""
from __future__ import annotations

import fcntl
import json
import os
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path


@contextmanager
def locked(lock_path: Path):
    """An exclusive lock on `lock_path` (created if missing) for the duration of the block."""
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_json_atomically(path: Path, data: dict, temp_prefix: str) -> None:
    """Write JSON to a temporary file in the same folder, flush it to disk, then rename it over `path`."""
    handle, temp_name = tempfile.mkstemp(prefix=temp_prefix, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as temp:
            json.dump(data, temp, indent=1, sort_keys=True)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise


def keep_aside(path: Path, label: str) -> Path:
    """Rename `path` to `<stem>.<label>-<UTC time>.json` beside it, and return the new path."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    kept = path.with_name(f"{path.stem}.{label}-{stamp}{path.suffix}")
    os.replace(path, kept)
    return kept
