"""The launcher for every system (course.py, which course.cmd runs on Windows), on this Linux machine.

It is not run on Windows or macOS here; what can be checked on Linux is: the record of what is
installed agrees with ./course.sh's (one .venv serves both), the interpreter is found where each
system's venv puts it, and a set-up environment is handed the command without a shell.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from conftest import REPO


def launcher():
    spec = importlib.util.spec_from_file_location("course_launcher", REPO / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_launcher_records_the_installation_as_course_sh_does():
    shell = subprocess.run(
        ["bash", "-c", "cat requirements*.txt pyproject.toml | sha256sum | cut -c1-16"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert launcher().wanted_stamp(REPO) == shell.stdout.strip()


def test_the_windows_batch_file_runs_the_launcher_with_python():
    batch = (REPO / "course.cmd").read_bytes()
    assert b"\r\n" in batch and b"\n" not in batch.replace(b"\r\n", b""), "Windows line endings"
    assert b'course.py" %*' in batch and b"py -3" in batch


def test_a_set_up_course_opens_its_commands_through_the_launcher(tmp_path):
    """In a copy with a real .venv whose installation is up to date, `course.py help` lists the course's
    commands (through `python -m ketamine_course.cli`); with no command it prints its usage."""
    for name in ["course.py", "pyproject.toml", *(p.name for p in REPO.glob("requirements*.txt"))]:
        shutil.copy2(REPO / name, tmp_path / name)
    environment = tmp_path / ".venv"
    venv.create(environment, with_pip=False)
    python = launcher().venv_python(environment)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # This test run's packages and course, as `pip install -r requirements.txt -e .` would have put them.
    (Path(site) / "course.pth").write_text(f"{sysconfig.get_path('purelib')}\n{REPO}\n", encoding="utf-8")
    (environment / ".installed-requirements.txt").write_text(launcher().wanted_stamp(tmp_path) + "\n")

    listed = subprocess.run([sys.executable, "course.py", "help"], cwd=tmp_path, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert "Installing" not in listed.stdout, "an up-to-date environment is not installed again"
    assert all(command in listed.stdout for command in ("open", "grade-my-work", "reader", "handouts"))
    usage = subprocess.run([sys.executable, "course.py"], cwd=tmp_path, capture_output=True, text=True)
    assert usage.returncode == 2 and "course.py open" in usage.stderr
