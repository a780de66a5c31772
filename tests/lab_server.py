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


@contextmanager
def jupyter_lab(root: Path, log_path: Path, startup_timeout=90, **extra_env):
    """Start `jupyter lab` as the course's open command does, wait until it answers, yield its URL and token."""
    from ketamine_course.cli import jupyter_lab_command

    token, port = secrets.token_hex(16), free_port()
    command = jupyter_lab_command(root, port, open_browser=False) + [f"--IdentityProvider.token={token}"]
    log = open(log_path, "w")
    process = subprocess.Popen(command, cwd=root, env=course_env(JUPYTER_CONFIG_DIR=str(root / ".jupyter-config"), **extra_env),
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as reply:
                    json.load(reply)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start; see {log_path}")
                time.sleep(0.5)
        yield base, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
