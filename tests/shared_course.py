"""The course and its Python environment where every Unix account can reach them.

The exchange and workshop tests create Unix accounts that run the course's Python and read the course.
When the checkout lies in a private folder (a clone under /root, say), or the environment's interpreter
does (a Python installed under /root/.pyenv), those accounts cannot reach it, and the product rightly
refuses to start (or nbgrader fails) there. The tests then set the course up the way an organiser is told
to, where every account may read it: a copy in a scratch folder that others may pass through.

- The course: what those accounts read (nbgrader_config.py, course/, solutions/, assignments/, workshop/
  with its installed proxy) and the `ketamine_course` package itself.
- The environment: the same interpreter and the same installed packages. A virtual environment made from
  the base interpreter when every account can run it; otherwise a copy of the interpreter (binary,
  libpython, standard library) with a small `bin/python` wrapper that points it at its own libpython.
  Its site-packages, share/ and etc/ are the course environment's, with the package taken from the course
  copy (an editable install would point back into the private checkout).

A copy, not a new environment installed with pip: that would need the network and minutes, and would not
be the environment under test. Files are hard-linked where the file system allows (quick; nothing writes
to them in place) and copied otherwise; the course files, which tests change, are always copied.
When everything is already reachable, and the environment imports the package from this checkout, the
course and its environment are used as they are.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from conftest import REPO, copy_course

PACKAGE = "ketamine_course"
VERSION = f"python{sys.version_info.major}.{sys.version_info.minor}"


@dataclass
class SharedCourse:
    root: Path  # the course folder (nbgrader_config.py, course/, workshop/ ...)
    env: Path  # the Python environment's prefix
    python: Path  # its interpreter, runnable by every account
    copied: bool  # False: the checkout and its environment themselves
    note: str  # why a copy was needed ('' when it was not)


def blocked(path: Path, run: bool = False) -> str:
    """Why an account without special rights cannot reach `path` ('' if it can): every folder on the
    way must let others pass, and the target be readable (or, with `run`, runnable) by them."""
    real = Path(os.path.realpath(path))
    if not real.exists():
        return f"{path} does not exist"
    for folder in reversed(real.parents):
        if not folder.stat().st_mode & stat.S_IXOTH:
            return f"{folder} ({stat.filemode(folder.stat().st_mode)}) does not let other accounts pass"
    mode = real.stat().st_mode
    needed = stat.S_IXOTH if run or real.is_dir() else 0
    needed |= 0 if run else stat.S_IROTH
    if mode & needed != needed:
        return f"{real} ({stat.filemode(mode)}) is out of other accounts' reach"
    return ""


def package_folder_of(python: Path) -> Path:
    """Where `python`, started without this process's PYTHONPATH, imports the course's package from."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    found = subprocess.run(
        [str(python), "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.strip()
    return Path(found).resolve().parent


def shared_course(folder: Path) -> SharedCourse:
    """The course and an environment every account can use; copies go into `folder` (made reachable)."""
    purelib = Path(sysconfig.get_path("purelib"))
    checks = [
        (Path(sys.executable), True),
        (purelib, False),
        (REPO / "course", False),
        (REPO / "nbgrader_config.py", False),
    ]
    problems = [f"{path}: {why}" for path, run in checks if (why := blocked(path, run))]
    if not problems:
        imported_from = package_folder_of(Path(sys.executable))
        if imported_from != (REPO / PACKAGE).resolve():
            problems.append(f"the environment imports {PACKAGE} from {imported_from}, not from {REPO}")
        elif why := blocked(imported_from):
            problems.append(f"{imported_from}: {why}")
    if not problems:
        return SharedCourse(REPO, Path(sys.prefix), Path(sys.executable), False, "")

    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    root = copy_course(folder / "course_root")
    shutil.copytree(REPO / PACKAGE, root / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "workshop", root / "workshop", symlinks=True)
    env = folder / "course-env"
    python = make_environment(env, purelib, root)
    for path in [root, *root.rglob("*")]:  # readable by all, as a checkout made with umask 022 is
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if path.is_dir() else 0))
    return SharedCourse(root, env, python, True, "; ".join(problems))


def make_environment(env: Path, purelib: Path, course: Path) -> Path:
    """The course environment again, in `env`, importing the package from `course`; returns bin/python."""
    base = Path(sys.base_prefix)
    binary = Path(os.path.realpath(sys.executable))
    stdlib = Path(sysconfig.get_path("stdlib"))
    if not blocked(binary, run=True) and not blocked(stdlib / "os.py"):
        subprocess.run(
            [str(binary), "-m", "venv", "--without-pip", str(env)],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
        python = env / "bin" / "python"
    else:
        python = copy_interpreter(base, binary, stdlib, env)
    site_packages = env / "lib" / VERSION / "site-packages"
    site_packages.mkdir(parents=True, exist_ok=True)
    editable_hooks = (f"__editable__.{PACKAGE}", f"__editable___{PACKAGE}")
    link_tree(
        purelib,
        site_packages,
        ignore=lambda folder, names: [
            name for name in names if Path(folder) == purelib and (name == PACKAGE or name.startswith(editable_hooks))
        ],
    )
    (site_packages / f"{PACKAGE}-course-copy.pth").write_text(f"{course}\n", encoding="utf-8")
    venv = Path(sys.prefix)
    for name in ("share", "etc"):
        if (venv / name).is_dir():
            link_tree(venv / name, env / name)
    shebang = f"#!{venv / 'bin' / 'python'}".encode()
    for script in sorted((venv / "bin").iterdir()):
        target = env / "bin" / script.name
        if script.is_file() and not target.exists() and script.read_bytes().startswith(shebang):
            target.write_text(f"#!{python}\n" + script.read_text().split("\n", 1)[1])
            target.chmod(0o755)
    return python


def copy_interpreter(base: Path, binary: Path, stdlib: Path, env: Path) -> Path:
    """The interpreter, its libpython and its standard library, in `env`; bin/python finds the copied
    libpython first (the binary's own search path leads into the private folder)."""
    (env / "bin").mkdir(parents=True)
    (env / "lib").mkdir()
    shutil.copy2(binary, env / "bin" / VERSION)
    for library in (base / "lib").glob("libpython*.so*"):
        shutil.copy2(library, env / "lib" / library.name, follow_symlinks=False)
    left_out = {"site-packages", "test", "idlelib", "tkinter", "turtledemo"}
    link_tree(
        stdlib,
        env / "lib" / VERSION,
        ignore=lambda folder, names: left_out & set(names) if Path(folder) == stdlib else [],
    )
    python = env / "bin" / "python"
    python.write_text(
        f'#!/bin/sh\nLD_LIBRARY_PATH="{env / "lib"}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}" '
        f'exec "{env / "bin" / VERSION}" "$@"\n'
    )
    python.chmod(0o755)
    return python


def link_tree(source: Path, target: Path, ignore=None) -> None:
    """Copy a folder tree whose files are only read: hard links where possible, copies otherwise."""

    def link_or_copy(src, dst):
        try:
            os.link(src, dst, follow_symlinks=False)
        except OSError:
            shutil.copy2(src, dst, follow_symlinks=False)
        return dst

    shutil.copytree(source, target, symlinks=True, ignore=ignore, copy_function=link_or_copy, dirs_exist_ok=True)
    for folder in [target, *(p for p in target.rglob("*") if p.is_dir() and not p.is_symlink())]:
        folder.chmod(folder.stat().st_mode | 0o755)
