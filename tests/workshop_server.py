"""The workshop server in tests: free ports, the organiser's command, a hub started and stopped, commands
run as an account, and accounts removed with their processes.

Used by tests/workshop_hub.py (the hub of the browser tests) and tests/load_client.py (a class over
HTTP, for the load test and bench/bench_workshop_load.py).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

from shared_course import SharedCourse

from ketamine_course.workshop.hub import hub_pid
from ketamine_course.workshop.servers import server_environment
from ketamine_course.workshop.settings import Settings

from conftest import REPO


def machine_problem() -> str:
    """Why this machine cannot run a hub for real Unix accounts; '' when it can."""
    if sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("useradd"):
        return "the workshop server creates Unix accounts: it needs Linux, root and useradd"
    if not shutil.which("node"):
        return "the workshop server's proxy runs on Node.js, which is missing"
    return ""


def free_ports(count: int) -> list:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def port_options(ports: list) -> list:
    """`workshop start`'s options for its three ports: the public one, the hub's and the proxy's control port."""
    return [option for pair in zip(("--port", "--hub-port", "--proxy-api-port"), map(str, ports)) for option in pair]


def workshop_command(*args, check=True, timeout=300, shared: SharedCourse | None = None) -> subprocess.CompletedProcess:
    """`ketamine-course workshop ...`, as the organiser (root) runs it: from the course folder, with its Python
    (with `shared`, the course and environment every account can reach, and the package they import)."""
    python, course, env = Path(sys.executable), REPO, None
    if shared is not None:
        python, course = shared.python, shared.root
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [str(python), "-m", "ketamine_course.cli", "workshop", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"workshop {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def start_hub(shared: SharedCourse, folder: Path, admin: str, home_base: Path, groups: dict, *options) -> Settings:
    """Start a hub on free ports (`groups`: participants_group, instructors_group); if another program takes
    one of them before the hub does (the start command checks first and changes nothing then), start again."""
    for attempt in range(3):
        result = workshop_command(
            "start",
            "--folder",
            str(folder),
            "--admin",
            admin,
            *port_options(free_ports(3)),
            "--course-env",
            str(shared.env),
            "--home-base",
            str(home_base),
            "--participants-group",
            groups["participants_group"],
            "--instructors-group",
            groups["instructors_group"],
            *options,
            shared=shared,
            check=False,
        )
        if result.returncode == 2 and "is already in use" in result.stderr and attempt < 2:
            continue
        if result.returncode != 0:
            raise AssertionError(f"workshop start failed:\n{result.stdout}\n{result.stderr}")
        print(result.stdout)
        return Settings.load(folder)


def stop_hub(settings: Settings) -> None:
    result = workshop_command("stop", "--folder", str(settings.folder), check=False)
    pid = hub_pid(settings)
    if pid:  # the hub this test started did not stop: end it by its id
        os.kill(pid, signal.SIGKILL)
    assert result.returncode == 0, result.stderr


def saved_passwords(settings: Settings) -> dict:
    """Account -> password, from the password files `workshop start` wrote for the list file's accounts."""
    passwords = {}
    for saved in settings.state.glob("passwords-*.txt"):
        lines = saved.read_text().splitlines()
        passwords.update(line.split() for line in lines if line.strip() and not line.startswith("#"))
    return passwords


def run_as(settings: Settings, name, *args, role="participant", cwd=None, check=True, timeout=600):
    """Run the course's Python as `name`, as a command in their JupyterLab terminal would."""
    user = pwd.getpwnam(name)
    env = {"HOME": user.pw_dir, "USER": name, "LOGNAME": name, "LANG": "C.UTF-8", **server_environment(settings, role)}
    result = subprocess.run(
        [str(settings.python), *args],
        cwd=cwd or user.pw_dir,
        env=env,
        user=user.pw_uid,
        group=user.pw_gid,
        extra_groups=os.getgrouplist(name, user.pw_gid),
        umask=0o002 if role == "instructor" else 0o022,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{name}: {' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}")
    return result


def processes_of(uid: int) -> list:
    import psutil

    return [p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == uid]


def cpu_seconds(processes) -> float:
    """CPU time of these processes and of the children they have waited for."""
    import psutil

    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def remove_account(name: str) -> None:
    """The account, its home and every process it runs (those the test started as it)."""
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    kill_processes(uid)
    subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)


def kill_processes(uid: int) -> None:
    """End every process of the account (those the test started as it) at once."""
    import psutil

    for process in processes_of(uid):
        try:
            process.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass


def hub_processes(settings: Settings) -> list:
    """The hub and what it runs as root: the proxy and the idle culler (not the accounts' servers)."""
    import psutil

    hub = psutil.Process(hub_pid(settings))
    return [hub] + [child for child in hub.children(recursive=True) if child.uids().real == 0]


def hub_memory(settings: Settings) -> int:
    """PSS of the hub, the proxy and the culler, in bytes."""
    return sum(process.memory_full_info().pss for process in hub_processes(settings))
