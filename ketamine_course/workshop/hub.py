"""The hub process: start it (checks, accounts and folders first), stop it with every server, say how
it is doing, and add accounts while it runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ketamine_course.runtime import console_progress
from ketamine_course.workshop.checks import (
    check_address,
    check_ports,
    check_settings,
    check_shared_environment,
    ensure_proxy,
    require_root,
)
from ketamine_course.workshop.folders import prepare_folders
from ketamine_course.workshop.lti import check_platform
from ketamine_course.workshop.people import add_accounts, ensure_groups, read_people, save_passwords, workshop_passwords
from ketamine_course.workshop.servers import running_servers
from ketamine_course.workshop.settings import Settings, WorkshopError, write_private


def hub_pid(settings: Settings) -> int | None:
    """The running hub's process id, or None (a stale pid file, or a pid now used by another program)."""
    path = settings.state / "jupyterhub.pid"
    try:
        pid = int(path.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError):
        return None
    return pid if "jupyterhub" in cmdline else None


def hub_answers(settings: Settings, timeout: float = 3) -> bool:
    context = ssl._create_unverified_context() if settings.scheme == "https" else None  # our own local hub
    try:
        with urllib.request.urlopen(f"{settings.url}/hub/health", timeout=timeout, context=context) as reply:
            return reply.status == 200
    except (OSError, urllib.error.URLError):
        return False


def hub_environment(settings: Settings) -> dict:
    """A clean environment for the hub: nothing from the organiser's shell leaks into participants' servers."""
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(settings.state),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    env.update(settings.to_environment())
    return env


def start(
    settings: Settings,
    people_file: Path | None = None,
    home_base: Path | None = None,
    renew_passwords: bool = False,
    startup_timeout: float = 90,
) -> int:
    timer = console_progress.Timer()
    require_root("Starting the workshop server")
    check_settings(settings)
    check_platform(settings)
    if hub_pid(settings):
        raise WorkshopError(
            f"A workshop server is already running from {settings.folder} (pid {hub_pid(settings)}); "
            "stop it first with `ketamine-course workshop stop`."
        )
    check_address(settings)
    check_ports(settings)
    print(
        f"==> Ports free: {settings.ip}:{settings.port}, hub 127.0.0.1:{settings.hub_port}, "
        f"proxy control 127.0.0.1:{settings.proxy_api_port}",
        flush=True,
    )
    try:
        import jupyterhub  # noqa: F401
        import jupyterhub_idle_culler  # noqa: F401
    except ImportError as exc:
        raise WorkshopError(
            f"{exc.name} is not installed in {sys.prefix}: install requirements-hub.txt (workshop/workshop.sh does it)."
        ) from None
    print(f"==> Proxy: configurable-http-proxy {ensure_proxy(settings)}", flush=True)
    check_shared_environment(settings)
    print(f"==> Participants can run the course environment {settings.course_env}", flush=True)
    people = read_people(people_file) if people_file else []
    ensure_groups(settings)  # the grading folder belongs to the instructors' group
    prepare_folders(settings)
    print(
        f"==> Folders ready in {settings.folder}: exchange (1777), grading (group {settings.instructors_group}, "
        "2770), state (0700)",
        flush=True,
    )
    passwords_file = None
    if people:
        passwords_file = save_passwords(
            settings, add_accounts(people, settings, home_base, passwords=settings.auth == "pam")
        )
    if settings.auth == "shared-password":
        shared = workshop_passwords(settings, renew_passwords)
    settings.save()

    log_path = settings.state / "jupyterhub.log"
    print(f"==> Starting JupyterHub (log: {log_path})", flush=True)
    with os.fdopen(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(settings.workshop_files / "jupyterhub_config.py")],
            cwd=settings.state,
            env=hub_environment(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            umask=0o077,
        )
    write_private(settings.state / "jupyterhub.pid", f"{process.pid}\n")
    deadline = time.monotonic() + startup_timeout
    next_note = time.monotonic() + 10
    while not hub_answers(settings):
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                stop_process(process.pid)
            (settings.state / "jupyterhub.pid").unlink(missing_ok=True)
            tail = log_path.read_text(errors="replace").splitlines()[-25:]
            raise WorkshopError("JupyterHub did not start; the end of its log:\n  " + "\n  ".join(tail))
        if time.monotonic() > next_note:
            print(f"    waiting for JupyterHub to answer ({console_progress.duration(timer.elapsed)})", flush=True)
            next_note += 10
        time.sleep(0.5)
    if passwords_file:
        print(f"==> New accounts' passwords: {passwords_file} (root only; hand them out, then delete it)")
    if settings.auth == "shared-password":
        print(
            f"==> Workshop mode. Participants' password: {shared['participants']}\n"
            f"    Instructors' and admin's password: {shared['instructors']}\n"
            f"    (kept in {settings.state / 'workshop-passwords.json'}, root only)"
        )
    console_progress.summary(
        f"Workshop server running at {settings.url} (pid {process.pid}), started in "
        f"{console_progress.duration(timer.elapsed)}. Stop it with `ketamine-course workshop stop`."
    )
    return 0


def stop_process(pid: int, grace: float = 45) -> bool:
    """SIGTERM, then SIGKILL after `grace` seconds; True if it ended on its own."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)  # our own child: reap it
        except ChildProcessError:
            finished = 0
        if finished or not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            return True
        time.sleep(0.3)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return False


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def running_hub(settings: Settings, doing: str) -> int | None:
    """The hub's pid, after checking for root; None (and a line saying so) when no hub runs from the folder."""
    require_root(doing)
    pid = hub_pid(settings)
    if pid is None:
        console_progress.summary(f"No workshop server is running from {settings.folder}.")
    return pid


def stop(settings: Settings) -> int:
    pid = running_hub(settings, "Stopping the workshop server")
    if pid is None:
        return 0
    timer = console_progress.Timer()
    servers = running_servers()
    print(f"==> Stopping JupyterHub (pid {pid}) and {len(servers)} single-user server(s)", flush=True)
    clean = stop_process(pid)
    proxy_pid_file = settings.state / "proxy.pid"
    if proxy_pid_file.exists():  # after a forced stop the proxy may be left behind
        try:
            proxy_pid = int(proxy_pid_file.read_text().strip())
            if "configurable-http-proxy" in Path(f"/proc/{proxy_pid}/cmdline").read_bytes().decode(errors="replace"):
                stop_process(proxy_pid, grace=10)
        except (OSError, ValueError):
            pass
    (settings.state / "jupyterhub.pid").unlink(missing_ok=True)
    shutil.rmtree(settings.runtime, ignore_errors=True)  # the servers' runtime files and kernel sockets
    try:
        settings.runtime.parent.rmdir()  # /run/ketamine-course too, unless another workshop runs
    except OSError:
        pass
    note = "" if clean else " (it had to be killed; check that no single-user servers are left: workshop status)"
    console_progress.summary(f"Workshop server stopped in {console_progress.duration(timer.elapsed)}{note}.")
    return 0


def status(settings: Settings) -> int:
    pid = running_hub(settings, "Reading the workshop server's state")
    if pid is None:
        return 1
    answering = "answers" if hub_answers(settings) else "does NOT answer (see state/jupyterhub.log)"
    print(
        f"Workshop server: pid {pid}, {settings.url} {answering}; login: {settings.auth}; "
        f"idle servers stopped after {settings.idle_timeout} s."
    )
    servers = running_servers()
    for name, memory in servers.items():
        print(f"  {name:<24} {memory.processes} processes, {memory.pss / 2**20:.0f} MB (PSS)")
    total = sum(memory.pss for memory in servers.values())
    console_progress.summary(f"{len(servers)} single-user server(s) running, {total / 2**20:.0f} MB in all.")
    return 0


def add_participants(settings: Settings, people_file: Path, home_base: Path | None = None) -> int:
    timer = console_progress.Timer()
    people = read_people(people_file)
    passwords = add_accounts(people, settings, home_base, passwords=settings.auth == "pam")
    path = save_passwords(settings, passwords) if settings.state.is_dir() else None
    if path is None and passwords:
        print("\n".join(f"{name} {password}" for name, password in passwords.items()))
    running = " They can log in now." if hub_pid(settings) else ""
    console_progress.summary(
        f"{len(people)} account(s) ready in {console_progress.duration(timer.elapsed)}"
        f"{'; passwords in ' + str(path) if path else ''}.{running}"
    )
    return 0
