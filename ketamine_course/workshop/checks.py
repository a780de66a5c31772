"""What must hold before the workshop server starts, each with a message that says what to do:
root, sound settings, HTTPS on a public address, free ports, a proxy that runs, a course environment
every account can reach, and (for the hub's configuration) prepared folders.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

from ketamine_course.runtime import ports
from ketamine_course.workshop.settings import ACCOUNT_NAME, PACKAGE, Settings, WorkshopError


def require_root(doing: str) -> None:
    if os.geteuid() != 0:
        raise WorkshopError(f"{doing} needs root (it creates accounts and starts servers as them): run it with sudo.")


def run_checked(command: list, what: str, **kwargs) -> subprocess.CompletedProcess:
    """Run a system program (useradd, npm...); if it fails, a WorkshopError shows the command and its output."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise WorkshopError(f"{what} failed: {' '.join(command)}\n{(result.stderr or result.stdout).strip()}")
    return result


def check_settings(settings: Settings) -> None:
    if settings.auth not in ("pam", "shared-password"):
        raise WorkshopError(f"Unknown login method {settings.auth!r}: use pam or shared-password.")
    if not settings.admin:
        raise WorkshopError("Name the workshop's admin account with --admin (or KETAMINE_WORKSHOP_ADMIN).")
    if not ACCOUNT_NAME.match(settings.admin):
        raise WorkshopError(f"{settings.admin!r} is not a valid account name for --admin.")
    if settings.idle_timeout < 0 or settings.cull_every <= 0:
        raise WorkshopError("--idle-timeout (0 switches culling off) and --cull-every are seconds, not negative.")
    if settings.participants_group == settings.instructors_group:
        raise WorkshopError("Participants and instructors need two different groups.")


def check_address(settings: Settings) -> None:
    loopback = settings.ip.startswith("127.") or settings.ip in ("localhost", "::1")
    if bool(settings.ssl_key) != bool(settings.ssl_cert):
        raise WorkshopError("HTTPS needs both --ssl-key and --ssl-cert.")
    for path in (settings.ssl_key, settings.ssl_cert):
        if path and not Path(path).is_file():
            raise WorkshopError(f"The HTTPS file {path} does not exist.")
    if not loopback and not settings.ssl_cert and not settings.behind_https_proxy:
        raise WorkshopError(
            f"Serving on {settings.ip} without HTTPS would send passwords across the network unencrypted. "
            "Give --ssl-key and --ssl-cert, or put an HTTPS reverse proxy in front and say so with "
            "--behind-https-proxy (docs/workshop-server.md, 'HTTPS')."
        )


def check_ports(settings: Settings) -> None:
    wanted = [
        ("the workshop address", settings.ip, settings.port, "--port"),
        ("the hub's internal port", "127.0.0.1", settings.hub_port, "--hub-port"),
        ("the proxy's control port", "127.0.0.1", settings.proxy_api_port, "--proxy-api-port"),
    ]
    numbers = [port for _, _, port, _ in wanted]
    if len(set(numbers)) != len(numbers):
        raise WorkshopError(
            f"The three ports must differ: --port {settings.port}, --hub-port {settings.hub_port}, "
            f"--proxy-api-port {settings.proxy_api_port}."
        )
    for label, ip, port, option in wanted:
        if ports.port_in_use(ip, port):
            holder = ports.holder_of_port(port)
            raise WorkshopError(
                f"Port {port} on {ip} ({label}) is already in use{' by ' + holder if holder else ''}, so the "
                f"workshop server cannot start there. Choose a free port with {option}, or stop the program "
                "holding it (`ketamine-course workshop status` tells whether it is a workshop server)."
            )


def ensure_proxy(settings: Settings, install: bool = True) -> str:
    """The proxy's version; installs workshop/node_modules with `npm ci` when the default one is missing."""
    command = settings.proxy_command
    if not command.exists():
        if settings.proxy is not None:
            raise WorkshopError(
                f"The proxy {command} does not exist. Give the path of configurable-http-proxy "
                "with --proxy, or leave --proxy out to install the pinned one with npm."
            )
        if not install:
            raise WorkshopError(
                f"The proxy (configurable-http-proxy) is missing from {command.parent}. "
                f"Install it with `npm ci` in {settings.workshop_files}."
            )
        npm = shutil.which("npm")
        if npm is None:
            raise WorkshopError(
                "The proxy (configurable-http-proxy) is not installed and npm is missing. "
                "Install Node.js 20 or newer with npm (Node.js 22 recommended), then start again; "
                f"the proxy is then installed from {settings.workshop_files / 'package-lock.json'}."
            )
        print(f"==> Installing the proxy with npm ci in {settings.workshop_files} (once)", flush=True)
        run_checked(
            [npm, "ci", "--no-audit", "--no-fund"], "Installing the proxy", cwd=settings.workshop_files, timeout=600
        )
        if not command.exists():
            raise WorkshopError(f"npm ci finished but {command} is still missing; see {settings.workshop_files}.")
    if shutil.which("node") is None and settings.proxy is None:
        raise WorkshopError("Node.js is missing (the proxy runs on it): install Node.js 20 or newer.")
    try:
        result = subprocess.run([str(command), "--version"], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        raise WorkshopError(f"The proxy {command} cannot run ({exc}).") from None
    if result.returncode != 0:
        raise WorkshopError(f"The proxy {command} does not run: {(result.stderr or result.stdout).strip()}")
    return result.stdout.strip()


def blocked_for_others(path: Path, read: bool = True) -> str:
    """Why an account without special rights could not reach `path`, or '' if it can.

    Every folder on the way must let others pass (o+x); the target must be readable (o+r), and
    passable or runnable (o+x) when it is a folder or a program.
    """
    real = Path(os.path.realpath(path))
    if not real.exists():
        return f"{path} does not exist"
    for folder in reversed(real.parents):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            return f"{folder} ({stat.filemode(mode)}) does not let other accounts pass"
    mode = real.stat().st_mode
    if read and not mode & stat.S_IROTH:
        return f"{real} ({stat.filemode(mode)}) is not readable by other accounts"
    if (real.is_dir() or not read) and not mode & stat.S_IXOTH:
        return f"{real} ({stat.filemode(mode)}) cannot be entered or run by other accounts"
    return ""


def check_shared_environment(settings: Settings) -> None:
    """Participants' servers run as their own accounts: they must reach the Python, its packages and the course."""
    checks = [(settings.python, False)]
    checks += [(folder, True) for folder in sorted(settings.course_env.glob("lib/python3*/site-packages"))]
    checks += [(settings.course / "course", True), (PACKAGE, True)]
    checks += [(notebook, True) for notebook in sorted((settings.course / "course").glob("*.ipynb"))]
    problems = [f"{path}: {why}" for path, read in checks if (why := blocked_for_others(path, read))]
    if problems:
        raise WorkshopError(
            "Participants could not run the course: their servers run as their own accounts, which cannot reach\n  "
            + "\n  ".join(problems[:5])
            + "\nPut the course where every account may read it (e.g. /srv/ketamine-course/app or /opt) and create "
            "its environment with a system Python (PYTHON=/usr/bin/python3 workshop/workshop.sh start ...), or "
            "name an environment they can run with --course-env."
        )


def check_prepared(settings: Settings) -> None:
    """For the hub's configuration (workshop/jupyterhub_config.py): the folders `start` makes must be there."""
    missing = [
        path
        for path in (
            settings.exchange,
            settings.grading,
            settings.config_folder("participant"),
            settings.config_folder("instructor"),
            settings.state,
        )
        if not path.is_dir()
    ]
    if missing:
        raise WorkshopError(
            f"The workshop folders are not ready ({', '.join(map(str, missing))} missing): start "
            "the hub with `ketamine-course workshop start`, which prepares them."
        )
