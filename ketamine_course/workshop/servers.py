"""Each person's JupyterLab: what the hub's pre-spawn hook sets up for it, and the memory the servers use."""

from __future__ import annotations

import os
import pwd
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ketamine_course.content import course_facts
from ketamine_course.workshop.people import account, role_of
from ketamine_course.workshop.settings import Settings


def server_environment(settings: Settings, role: str) -> dict:
    """Environment of a single-user server: the course's Python first on PATH, the role's Jupyter settings."""
    return {
        "PATH": f"{settings.python.parent}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin",
        "JUPYTER_CONFIG_PATH": str(settings.config_folder(role)),
    }


COPY_TEACHING_NOTEBOOKS = """\
import shutil, sys
from pathlib import Path
source, target = Path(sys.argv[1]), Path(sys.argv[2])
target.mkdir(exist_ok=True)
for notebook in sorted(source.glob("*.ipynb")):
    if not (target / notebook.name).exists():
        shutil.copyfile(notebook, target / notebook.name)
"""


def copy_teaching_notebooks(name: str, settings: Settings) -> None:
    """The teaching notebooks into ~/course, as the participant (never over their own copies)."""
    user = account(name)
    subprocess.run(
        [
            str(settings.python),
            "-c",
            COPY_TEACHING_NOTEBOOKS,
            str(settings.course / "course"),
            str(Path(user.pw_dir) / Path(course_facts().start_page).parent),
        ],
        cwd=user.pw_dir,
        user=user.pw_uid,
        group=user.pw_gid,
        extra_groups=[],
        umask=0o022,
        env={"HOME": user.pw_dir, "PATH": "/usr/bin:/bin"},
        check=True,
        timeout=60,
        capture_output=True,
    )


def configure_spawner(spawner, settings: Settings) -> None:
    """JupyterHub's pre-spawn hook: what a person's JupyterLab opens, and with which settings.

    Participants: their home, the teaching notebooks in ~/course, Start here first. Instructors: the
    grading folder, where formgrader and the nbgrader commands find the course and the gradebook.
    """
    name = spawner.user.name
    role = role_of(name, settings)
    spawner.cmd = [str(settings.python), "-m", "jupyterhub.singleuser"]
    spawner.environment = {**spawner.environment, **server_environment(settings, role)}
    if role == "instructor":
        spawner.notebook_dir = str(settings.grading)
        spawner.default_url = "/lab"
        umask = 0o002  # files stay writable for the other instructors (the grading folder is group-owned)
    else:
        copy_teaching_notebooks(name, settings)
        spawner.notebook_dir = account(name).pw_dir
        spawner.default_url = f"/lab/tree/{course_facts().start_page}"
        umask = 0o022
    spawner.popen_kwargs = {**spawner.popen_kwargs, "umask": umask}


@dataclass
class Memory:
    rss: int = 0  # bytes, counted in full for every process (shared pages counted again)
    pss: int = 0  # bytes, shared pages split between the processes sharing them
    processes: int = 0


def account_memory(uid: int) -> Memory:
    """Memory of every process an account runs: its server and kernels (Linux; PSS needs root)."""
    import psutil

    memory = Memory()
    for process in psutil.process_iter(["uids"]):
        try:
            if process.info["uids"] and process.info["uids"].real == uid:
                info = process.memory_full_info()
                memory.rss += info.rss
                memory.pss += getattr(info, "pss", info.rss)
                memory.processes += 1
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return memory


def running_servers() -> dict:
    """{account name: Memory} of every single-user server on this machine."""
    import psutil

    names = set()
    for process in psutil.process_iter(["cmdline", "username"]):
        cmdline = process.info["cmdline"] or []
        if "jupyterhub.singleuser" in cmdline or any(part.endswith("jupyterhub-singleuser") for part in cmdline[:2]):
            names.add(process.info["username"])
    return {name: account_memory(pwd.getpwnam(name).pw_uid) for name in sorted(names) if account(name)}
