"""Writing files safely: under a lock, atomically, and never losing an unreadable file.

The one atomic writer of the course: the answer store, the progress record, handouts and the
workshop's settings all write through `write_atomically`.
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


def write_atomically(path: Path, text: str, mode: int = 0o600) -> None:
    """Write text to a temporary file in the same folder, flush it to disk, then rename it over `path`.

    The temporary file is `.<stem>-*.tmp` (nbgrader_config.py leaves those out of submissions); the
    file has permissions `mode` from its first byte.
    """
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "w", encoding="utf-8") as temp:
            temp.write(text)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise


def write_json_atomically(path: Path, data: dict) -> None:
    """Write JSON atomically (see write_atomically)."""
    write_atomically(path, json.dumps(data, indent=1, sort_keys=True))


def keep_aside(path: Path, label: str) -> Path:
    """Rename `path` to `<stem>.<label>-<UTC time>.json` beside it, and return the new path."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    kept = path.with_name(f"{path.stem}.{label}-{stamp}{path.suffix}")
    os.replace(path, kept)
    return kept
