"""Set up and open the course on any computer (Windows, macOS, Linux), with nothing but Python 3.11+.

    py -3 course.py open          (Windows; course.cmd runs this for you)
    python3 course.py open        (macOS, Linux)

The first run creates a private Python environment in .venv, installs the pinned course into it,
then hands over to the `ketamine-course` command: `open` opens JupyterLab on Start here, and every
other word is a `ketamine-course` command (`help` lists them). Later runs start at once: the
installation is repeated only when requirements*.txt or pyproject.toml change. It uses the same
.venv and the same record of what is installed as ./course.sh, which Linux users may keep using.
Only the standard library is used here, and no shell.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
REQUIREMENTS = "requirements.txt"
MINIMUM_PYTHON = (3, 11)


def venv_python(venv_dir: Path) -> Path:
    """The environment's interpreter: Scripts\\python.exe on Windows, bin/python elsewhere."""
    return venv_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def wanted_stamp(root: Path = ROOT) -> str:
    """What is to be installed, as ./course.sh records it: the first 16 hex digits of the SHA-256 of the
    requirements files (in name order) and pyproject.toml, read one after the other."""
    digest = hashlib.sha256()
    for path in [*sorted(root.glob("requirements*.txt")), root / "pyproject.toml"]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def set_up(root: Path = ROOT, requirements: str = REQUIREMENTS) -> Path:
    """Create .venv if missing and install the pinned requirements and the course if they changed; its Python."""
    venv_dir = root / ".venv"
    python = venv_python(venv_dir)
    if not python.exists():
        print("==> Creating the virtual environment in .venv", flush=True)
        venv.create(venv_dir, with_pip=True)
    stamp = venv_dir / f".installed-{requirements}"
    wanted = wanted_stamp(root)
    installed = stamp.read_text(encoding="utf-8").strip() if stamp.exists() else ""
    if installed != wanted:
        print(f"==> Installing pinned dependencies from {requirements} (a few minutes the first time)", flush=True)
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        for arguments in (["--upgrade", "pip"], ["-r", str(root / requirements)], ["--no-deps", "-e", str(root)]):
            subprocess.run(pip + arguments, cwd=root, check=True)
        stamp.write_text(wanted + "\n", encoding="utf-8")
    return python


def main(argv: list) -> int:
    if sys.version_info < MINIMUM_PYTHON:
        print("Python 3.11 or newer is needed: install it from python.org, then run this again.", file=sys.stderr)
        return 1
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: course.py open | nbgrader ARGS... | COMMAND ARGS... (course.py help lists them)", file=sys.stderr)
        return 2
    try:
        python = set_up()
    except subprocess.CalledProcessError as failed:
        step = " ".join(str(part) for part in failed.cmd)
        print(f"Setting up the course failed at `{step}`; see the messages above.", file=sys.stderr)
        return 1
    command = ["--help"] if argv[0] == "help" else argv
    try:
        return subprocess.call([str(python), "-m", "ketamine_course.cli", *command], cwd=ROOT)
    except KeyboardInterrupt:  # Ctrl+C has already reached JupyterLab, which stops by itself
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
