"""A real JupyterLab for the browser tests: served on 127.0.0.1 with a token, stopped afterwards."""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from conftest import course_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_jupyter_lab(root: Path, log_path: Path, startup_timeout: float, extra_env: dict):
    """Start `jupyter lab` on a free port and wait until it answers; another free port if that one is taken
    before the server binds it (it never moves to another port by itself: the address must be known)."""
    from ketamine_course.cli import jupyter_lab_command

    for attempt in range(3):
        token, port = secrets.token_hex(16), free_port()
        command = jupyter_lab_command(root, port, open_browser=False) + [
            f"--IdentityProvider.token={token}",
            "--ServerApp.port_retries=0",
        ]
        log = open(log_path, "w")
        process = subprocess.Popen(
            command,
            cwd=root,
            env=course_env(JUPYTER_CONFIG_DIR=str(root / ".jupyter-config"), **extra_env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + startup_timeout
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as reply:
                    json.load(reply)
                return process, log, base, token
            except OSError:
                if process.poll() is None and time.monotonic() <= deadline:
                    time.sleep(0.5)
                    continue
            stop(process, log)
            if attempt < 2 and "is already in use" in log_path.read_text(errors="replace"):
                break
            raise RuntimeError(f"JupyterLab did not start; see {log_path}")
    raise AssertionError("unreachable")


def stop(process: subprocess.Popen, log) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


@contextmanager
def jupyter_lab(root: Path, log_path: Path, startup_timeout=90, **extra_env):
    """Start `jupyter lab` as the course's open command does, wait until it answers, yield its URL and token."""
    process, log, base, token = start_jupyter_lab(root, log_path, startup_timeout, extra_env)
    try:
        yield base, token
    finally:
        stop(process, log)
