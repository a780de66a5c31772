"""The `ketamine-course` command: open the course, and run nbgrader with everything it needs.

    ketamine-course open [--port N] [--no-browser]   JupyterLab on 127.0.0.1, with a token
    ketamine-course nbgrader ARGS...                  nbgrader, from the course root, with this
                                                      environment's bin on PATH (it calls alembic)

Further commands live beside the code they run: each module named in COMMAND_MODULES has an
`add_commands(subparsers)` function that adds its own subcommands (`ketamine-course --help` lists them).
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
from pathlib import Path

from ketamine_course.content import course_facts
from ketamine_course.core.errors import CourseError
from ketamine_course.runtime import lab_settings, nbgrader
from ketamine_course.storage.paths import course_root

# Modules that add subcommands; each has add_commands(subparsers). Imported only when the CLI runs.
COMMAND_MODULES = [
    "selfstudy.grade_my_work",
    "selfstudy.certificate",
    "selfstudy.progress_report",
    "publish.reader",
    "publish.handouts",
    "instructor.cohort",
    "instructor.grade_passback",
    "instructor.exports",
    "instructor.item_analysis",
    "instructor.credit",
    "workshop.commands",
]
# The workshop server runs on Linux only (Unix accounts); elsewhere its commands are not loaded.
POSIX_ONLY_COMMAND_MODULES = {"workshop.commands"}


def jupyter_lab_command(root: Path, port: int, open_browser: bool) -> list:
    """JupyterLab on the course: loopback only, with a token (Jupyter's default, never switched off)."""
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.default_url=/lab/tree/{course_facts().start_page}",
        f"--ServerApp.open_browser={open_browser}",
        *lab_settings.command_line_options(lab_settings.lab_config()),
        *as_root,
    ]


def cmd_open(args) -> int:
    root = course_root()
    print(
        f"Opening the course from {root} on http://127.0.0.1:{args.port} (the address with its "
        "token is printed below; keep it private). Stop with Ctrl+C.",
        flush=True,
    )
    os.chdir(root)
    return hand_over(jupyter_lab_command(root, args.port, not args.no_browser))


def cmd_nbgrader(args) -> int:
    os.chdir(course_root())
    return hand_over(nbgrader.command(*args.rest))


def hand_over(command: list) -> int:
    """Run `command` (no shell) with this environment's bin on PATH: in place of this process on POSIX;
    on Windows, whose exec starts a detached process, as a child whose exit status is returned."""
    env = nbgrader.environment_with_bin_on_path()
    if os.name == "posix":
        os.execve(command[0], command, env)
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:  # Ctrl+C has already reached the child in the same console
        return 130


def main(argv=None) -> int:
    """Run one command. A CourseError ends it with its message and exit status, never a traceback."""
    try:
        return _run(sys.argv[1:] if argv is None else list(argv))
    except CourseError as problem:
        print(problem, file=sys.stderr, flush=True)
        return problem.exit_status


def _run(argv: list) -> int:
    if argv[:1] == ["nbgrader"]:  # everything after the word goes to nbgrader untouched
        return cmd_nbgrader(argparse.Namespace(rest=argv[1:]))
    parser = argparse.ArgumentParser(prog="ketamine-course", description=course_facts().title)
    sub = parser.add_subparsers(dest="command", required=True)
    p_open = sub.add_parser("open", help="open the course in JupyterLab (127.0.0.1, with a token)")
    p_open.add_argument("--port", type=int, default=8888)
    p_open.add_argument("--no-browser", action="store_true", help="print the address instead of opening a browser")
    p_open.set_defaults(run=cmd_open)
    sub.add_parser("nbgrader", help="run an nbgrader command from the course root")
    for name in COMMAND_MODULES:
        if name in POSIX_ONLY_COMMAND_MODULES and os.name != "posix":
            continue
        importlib.import_module(f"ketamine_course.{name}").add_commands(sub)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
