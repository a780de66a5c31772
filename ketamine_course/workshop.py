"""The workshop server: the course on JupyterHub for a class on one machine.

    ketamine-course workshop start --people people.txt --admin NAME   start it (creates what is missing)
    ketamine-course workshop add-participants people.txt              more accounts, while it runs
    ketamine-course workshop status                                   is it running; servers and memory
    ketamine-course workshop stop                                     stop the hub and every server

Everyone is a real Unix account: participants in one group, instructors in another (the list file
says who is who). JupyterHub (workshop/jupyterhub_config.py) starts each person's JupyterLab as
that account from the course's Python environment. Under the workshop folder (default
/srv/ketamine-course):

    exchange/  nbgrader's exchange, where assignments are released and submitted (mode 1777)
    grading/   the instructors' nbgrader course: a copy of the course and the gradebook (group only)
    jupyter/   Jupyter settings for the servers, one folder for each role (read-only)
    state/     the hub's database, cookie secret, passwords, pid and log (root only, 0700)

docs/workshop-server.md explains how to run a workshop; this module does the work and the checks.
"""
from __future__ import annotations

import dataclasses
import grp
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import ssl
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ketamine_course.runtime import console_progress
from ketamine_course.content import course_facts
from ketamine_course.core.errors import CourseError
from ketamine_course.runtime import ports
from ketamine_course.storage.json_files import write_atomically
from ketamine_course.storage.paths import course_root

COURSE_ID = "ketamine-therapy"  # nbgrader_config.py
DEFAULT_FOLDER = Path("/srv/ketamine-course")
ENVIRONMENT_PREFIX = "KETAMINE_WORKSHOP_"
ROLES = ("participant", "instructor")
ACCOUNT_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")  # what useradd accepts on Debian, kept simple
LAB_SETTINGS = Path(__file__).resolve().parent / "lab_settings"
# The nbgrader pieces a participant does not need: grading, assignment authoring and the course list.
PARTICIPANT_SERVER_EXTENSIONS_OFF = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")
PARTICIPANT_LAB_PLUGINS_OFF = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                               "@jupyter/nbgrader:course-list")


class WorkshopError(CourseError):
    """A problem the organiser can fix; the message says what is wrong and what to do."""

    exit_status = 2


# ---------------------------------------------------------------------------------------- settings

@dataclass
class Settings:
    """Everything the hub and the commands need to agree on; passed to the hub as environment variables."""

    folder: Path = DEFAULT_FOLDER
    ip: str = "127.0.0.1"
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    course: Path = field(default_factory=lambda: course_root())  # the course checkout (course/, solutions/...)
    course_env: Path = field(default_factory=lambda: Path(sys.prefix))  # the Python environment servers run from
    admin: str = ""
    auth: str = "pam"  # "pam": each account's own Unix password; "shared-password": the workshop mode
    participants_group: str = "participants"
    instructors_group: str = "instructors"
    idle_timeout: int = 3600  # seconds without activity before a server is stopped
    cull_every: int = 300
    proxy: Path | None = None  # configurable-http-proxy; default: workshop/node_modules/.bin
    ssl_key: str = ""
    ssl_cert: str = ""
    behind_https_proxy: bool = False  # plain HTTP on a public address is allowed only behind HTTPS

    # Where things are
    @property
    def exchange(self) -> Path:
        return self.folder / "exchange"

    @property
    def grading(self) -> Path:
        return self.folder / "grading"

    @property
    def jupyter_config(self) -> Path:
        return self.folder / "jupyter"

    @property
    def state(self) -> Path:
        return self.folder / "state"

    @property
    def workshop_files(self) -> Path:
        return self.course / "workshop"

    @property
    def proxy_command(self) -> Path:
        return self.proxy or self.workshop_files / "node_modules" / ".bin" / "configurable-http-proxy"

    @property
    def python(self) -> Path:
        """The interpreter every single-user server runs: the course environment's."""
        return self.course_env / "bin" / "python"

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_cert else "http"

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.ip in ("0.0.0.0", "") else ("[::1]" if self.ip == "::" else self.ip)
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def bind_url(self) -> str:
        host = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{self.scheme}://{host}:{self.port}"

    def config_folder(self, role: str) -> Path:
        return self.jupyter_config / f"{role}s"

    # Passing settings on
    def to_environment(self) -> dict:
        env = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if value is None:
                continue
            env[ENVIRONMENT_PREFIX + item.name.upper()] = ("1" if value else "0") if isinstance(value, bool) else str(value)
        return env

    @classmethod
    def from_environment(cls, environ=None) -> "Settings":
        environ = os.environ if environ is None else environ
        values = {}
        for item in dataclasses.fields(cls):
            raw = environ.get(ENVIRONMENT_PREFIX + item.name.upper())
            if raw is None:
                continue
            kind = item.type if isinstance(item.type, str) else item.type.__name__
            if kind == "bool":
                values[item.name] = raw == "1"
            elif kind == "int":
                values[item.name] = int(raw)
            elif "Path" in kind:
                values[item.name] = Path(raw)
            else:
                values[item.name] = raw
        return cls(**values)

    def save(self) -> None:
        """Recorded in the state folder, so stop, status and add-participants find the running workshop."""
        write_private(self.state / "settings.json", json.dumps(self.to_environment(), indent=1) + "\n")

    @classmethod
    def load(cls, folder: Path) -> "Settings":
        path = Path(folder) / "state" / "settings.json"
        if not path.exists():
            raise WorkshopError(f"No workshop server was started with the folder {folder} "
                                f"({path} is missing). Use --folder to name the one you started.")
        return cls.from_environment(json.loads(path.read_text(encoding="utf-8")))


def write_private(path: Path, text: str) -> None:
    """Write a file only root can read (0600), replacing any earlier one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text, mode=0o600)


# ---------------------------------------------------------------------------------------- people

@dataclass(frozen=True)
class Person:
    name: str
    role: str  # "participant" or "instructor"


def read_people(path: Path) -> list:
    """The list file: one account name a line, optionally followed by `instructor`; # starts a comment."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise WorkshopError(f"The list of people {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkshopError(f"The list of people {path} cannot be read ({exc.__class__.__name__}).") from None
    people, problems, seen = [], [], {}
    for number, line in enumerate(lines, start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        name, role = words[0], (words[1].lower() if len(words) > 1 else "participant")
        if not ACCOUNT_NAME.match(name):
            problems.append(f"line {number}: {name!r} is not a valid account name (lower-case letters, digits, "
                            "'-' and '_', starting with a letter, at most 32 characters)")
        elif len(words) > 2 or role not in ROLES:
            problems.append(f"line {number}: expected 'NAME' or 'NAME instructor', found {line.strip()!r}")
        elif name in seen:
            problems.append(f"line {number}: {name} is listed twice (first on line {seen[name]})")
        else:
            seen[name] = number
            people.append(Person(name, role))
    if problems:
        raise WorkshopError(f"The list of people {path} has problems; nothing was changed:\n  " + "\n  ".join(problems))
    if not people:
        raise WorkshopError(f"The list of people {path} names nobody.")
    return people


def account(name: str):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def group_members(group: str) -> set:
    """Members of a Unix group, counting those for whom it is the primary group."""
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        return set()
    members = set(entry.gr_mem)
    members.update(user.pw_name for user in pwd.getpwall() if user.pw_gid == entry.gr_gid)
    return members


def in_group(name: str, group: str) -> bool:
    user = account(name)
    if user is None:
        return False
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        return False
    return gid in os.getgrouplist(name, user.pw_gid)


def role_of(name: str, settings: Settings) -> str:
    return "instructor" if in_group(name, settings.instructors_group) else "participant"


def _run(command: list, what: str, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise WorkshopError(f"{what} failed: {' '.join(command)}\n{(result.stderr or result.stdout).strip()}")
    return result


def add_accounts(people: list, settings: Settings, home_base: Path | None = None, passwords: bool = True) -> dict:
    """Create missing groups and accounts and put each person in their group.

    Existing accounts keep their password and home; they are only added to the group. New accounts get
    a private home (0700) and, when `passwords` is true (PAM mode), a random password, returned as
    {name: password} for the organiser to hand out.
    """
    require_root("Creating accounts")
    for group in (settings.participants_group, settings.instructors_group):
        try:
            grp.getgrnam(group)
        except KeyError:
            _run(["groupadd", group], f"Creating the group {group}")
    new_passwords = {}
    with console_progress.bar(total=len(people), unit="account", desc="Accounts") as bar:
        for person in people:
            group = settings.instructors_group if person.role == "instructor" else settings.participants_group
            if account(person.name) is not None:
                _run(["usermod", "--append", "--groups", group, person.name], f"Adding {person.name} to {group}")
            else:
                command = ["useradd", "--create-home", "--user-group", "--shell", "/bin/bash",
                           "--comment", f"Ketamine course {person.role}", "--groups", group]
                if home_base:
                    command += ["--base-dir", str(home_base)]
                _run(command + [person.name], f"Creating the account {person.name}")
                os.chmod(account(person.name).pw_dir, 0o700)  # nobody else reads a participant's work
                if passwords:
                    new_passwords[person.name] = secrets.token_urlsafe(9)
                    _run(["chpasswd"], f"Setting the password of {person.name}",
                         input=f"{person.name}:{new_passwords[person.name]}\n")
            bar.update(1)
    return new_passwords


def save_passwords(settings: Settings, passwords: dict) -> Path | None:
    if not passwords:
        return None
    path = settings.state / f"passwords-{datetime.now():%Y%m%d-%H%M%S}.txt"
    lines = ["# New accounts of the workshop server and their first passwords. Hand each person theirs,",
             "# then delete this file. They can change it with `passwd` in a JupyterLab terminal."]
    write_private(path, "\n".join(lines + [f"{name} {password}" for name, password in passwords.items()]) + "\n")
    return path


def workshop_passwords(settings: Settings, renew: bool = False) -> dict:
    """The workshop mode's two passwords, kept in the state folder (0600) so a restart keeps them.

    Participants share one; instructors and the admin share another, never the participants' one.
    KETAMINE_WORKSHOP_PASSWORD and KETAMINE_WORKSHOP_INSTRUCTOR_PASSWORD choose them.
    """
    path = settings.state / "workshop-passwords.json"
    stored = {} if renew or not path.exists() else json.loads(path.read_text(encoding="utf-8"))
    chosen = {"participants": os.environ.get(ENVIRONMENT_PREFIX + "PASSWORD"),
              "instructors": os.environ.get(ENVIRONMENT_PREFIX + "INSTRUCTOR_PASSWORD")}
    passwords = {
        "participants": chosen["participants"] or stored.get("participants") or secrets.token_urlsafe(9),
        "instructors": chosen["instructors"] or stored.get("instructors") or secrets.token_urlsafe(32),
    }
    if len(passwords["participants"]) < 8:
        raise WorkshopError("The participants' workshop password must have at least 8 characters.")
    if len(passwords["instructors"]) < 32:
        raise WorkshopError("The instructors' workshop password must have at least 32 characters "
                            "(JupyterHub's rule for a password that opens instructor and admin accounts).")
    if passwords["participants"] == passwords["instructors"]:
        raise WorkshopError("The participants' and the instructors' workshop passwords must differ.")
    write_private(path, json.dumps(passwords, indent=1) + "\n")
    return passwords


# ---------------------------------------------------------------------------------------- checks

def require_root(doing: str) -> None:
    if os.geteuid() != 0:
        raise WorkshopError(f"{doing} needs root (it creates accounts and starts servers as them): "
                            "run it with sudo.")


def check_ports(settings: Settings) -> None:
    wanted = [("the workshop address", settings.ip, settings.port, "--port"),
              ("the hub's internal port", "127.0.0.1", settings.hub_port, "--hub-port"),
              ("the proxy's control port", "127.0.0.1", settings.proxy_api_port, "--proxy-api-port")]
    numbers = [port for _, _, port, _ in wanted]
    if len(set(numbers)) != len(numbers):
        raise WorkshopError(f"The three ports must differ: --port {settings.port}, --hub-port {settings.hub_port}, "
                            f"--proxy-api-port {settings.proxy_api_port}.")
    for label, ip, port, option in wanted:
        if ports.port_in_use(ip, port):
            holder = ports.holder_of_port(port)
            raise WorkshopError(
                f"Port {port} on {ip} ({label}) is already in use{' by ' + holder if holder else ''}, so the "
                f"workshop server cannot start there. Choose a free port with {option}, or stop the program "
                "holding it (`ketamine-course workshop status` tells whether it is a workshop server).")


def ensure_proxy(settings: Settings, install: bool = True) -> str:
    """The proxy's version; installs workshop/node_modules with `npm ci` when the default one is missing."""
    command = settings.proxy_command
    if not command.exists():
        if settings.proxy is not None:
            raise WorkshopError(f"The proxy {command} does not exist. Give the path of configurable-http-proxy "
                                "with --proxy, or leave --proxy out to install the pinned one with npm.")
        if not install:
            raise WorkshopError(f"The proxy (configurable-http-proxy) is missing from {command.parent}. "
                                f"Install it with `npm ci` in {settings.workshop_files}.")
        npm = shutil.which("npm")
        if npm is None:
            raise WorkshopError("The proxy (configurable-http-proxy) is not installed and npm is missing. "
                                "Install Node.js 20 or newer with npm (Node.js 22 recommended), then start again; "
                                f"the proxy is then installed from {settings.workshop_files / 'package-lock.json'}.")
        print(f"==> Installing the proxy with npm ci in {settings.workshop_files} (once)", flush=True)
        _run([npm, "ci", "--no-audit", "--no-fund"], "Installing the proxy", cwd=settings.workshop_files, timeout=600)
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
    checks += [(settings.course / "course", True), (Path(__file__).resolve().parent, True)]
    checks += [(notebook, True) for notebook in sorted((settings.course / "course").glob("*.ipynb"))]
    problems = [f"{path}: {why}" for path, read in checks if (why := blocked_for_others(path, read))]
    if problems:
        raise WorkshopError(
            "Participants could not run the course: their servers run as their own accounts, which cannot reach\n  "
            + "\n  ".join(problems[:5]) +
            "\nPut the course where every account may read it (e.g. /srv/ketamine-course/app or /opt) and create "
            "its environment with a system Python (PYTHON=/usr/bin/python3 workshop/workshop.sh start ...), or "
            "name an environment they can run with --course-env.")


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
            "--behind-https-proxy (docs/workshop-server.md, 'HTTPS').")


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


def check_prepared(settings: Settings) -> None:
    """Used by jupyterhub_config.py: the folders the start command makes must be there."""
    missing = [path for path in (settings.exchange, settings.grading, settings.config_folder("participant"),
                                 settings.config_folder("instructor"), settings.state) if not path.is_dir()]
    if missing:
        raise SystemExit(f"The workshop folders are not ready ({', '.join(map(str, missing))} missing): start the "
                         "hub with `ketamine-course workshop start`, which prepares them.")


# ---------------------------------------------------------------------------------------- folders

def prepare_folders(settings: Settings) -> None:
    """Create (or repair the permissions of) the exchange, grading, Jupyter settings and state folders."""
    folder = settings.folder
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)
    settings.exchange.mkdir(exist_ok=True)
    os.chmod(settings.exchange, 0o1777)  # nbgrader's exchange: everyone writes, only owners delete
    settings.state.mkdir(exist_ok=True)
    os.chmod(settings.state, 0o700)
    database = settings.state / "jupyterhub.sqlite"
    if not database.exists():
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(database, 0o600)
    prepare_grading(settings)
    write_server_config(settings)


def prepare_grading(settings: Settings) -> None:
    """The instructors' nbgrader course: copied from the course once, then theirs (group-owned, 2770)."""
    gid = grp.getgrnam(settings.instructors_group).gr_gid
    grading = settings.grading
    if not grading.exists():
        grading.mkdir()
        shutil.copy2(settings.course / "nbgrader_config.py", grading)
        for name in ("course", "solutions", "assignments"):
            shutil.copytree(settings.course / name, grading / name,
                            ignore=shutil.ignore_patterns("answers*.json", ".answers*", ".ipynb_checkpoints"))
        for path in [grading, *grading.rglob("*")]:
            os.chown(path, 0, gid, follow_symlinks=False)
            if path.is_dir():
                os.chmod(path, 0o2770)  # new files inherit the instructors' group
            elif not path.is_symlink():
                os.chmod(path, 0o660)
    gradebook = grading / "gradebook.db"
    if not gradebook.exists():  # SQLite would make it 0644: only its first writer could grade
        os.close(os.open(gradebook, os.O_WRONLY | os.O_CREAT, 0o660))
        os.chown(gradebook, 0, gid)
        os.chmod(gradebook, 0o660)
    os.chown(grading, 0, gid)
    os.chmod(grading, 0o2770)  # participants never see the gradebook or the solutions


def write_server_config(settings: Settings) -> None:
    """Jupyter settings for the single-user servers, one folder a role, passed by JUPYTER_CONFIG_PATH."""
    ignore = course_ignore_list(settings.course)
    for role in ROLES:
        folder = settings.config_folder(role)
        (folder / "labconfig").mkdir(parents=True, exist_ok=True)
        lines = ["# Written by `ketamine-course workshop start`; the next start writes it again.",
                 "c = get_config()  # noqa: F821",
                 f"c.CourseDirectory.course_id = {COURSE_ID!r}",
                 f"c.Exchange.root = {str(settings.exchange)!r}",
                 f"c.CourseDirectory.ignore = {ignore!r}"]
        server = {"LabApp": {"app_settings_dir": str(LAB_SETTINGS)}}
        page = {}
        if role == "instructor":
            lines.append(f"c.CourseDirectory.root = {str(settings.grading)!r}")
        else:
            server["ServerApp"] = {"jpserver_extensions": {name: False for name in PARTICIPANT_SERVER_EXTENSIONS_OFF}}
            page["disabledExtensions"] = {name: True for name in PARTICIPANT_LAB_PLUGINS_OFF}
        (folder / "nbgrader_config.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (folder / "jupyter_server_config.json").write_text(json.dumps(server, indent=1) + "\n", encoding="utf-8")
        (folder / "labconfig" / "page_config.json").write_text(json.dumps(page, indent=1) + "\n", encoding="utf-8")
    for path in [settings.jupyter_config, *settings.jupyter_config.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def course_ignore_list(course: Path) -> list:
    """The files nbgrader leaves behind on submit, as the course's nbgrader_config.py says."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    return list(config.CourseDirectory.ignore) if "ignore" in config.CourseDirectory else [".ipynb_checkpoints"]


# ---------------------------------------------------------------------------------------- servers

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
    subprocess.run([str(settings.python), "-c", COPY_TEACHING_NOTEBOOKS, str(settings.course / "course"),
                    str(Path(user.pw_dir) / Path(course_facts().start_page).parent)],
                   cwd=user.pw_dir, user=user.pw_uid, group=user.pw_gid, extra_groups=[], umask=0o022,
                   env={"HOME": user.pw_dir, "PATH": "/usr/bin:/bin"}, check=True, timeout=60,
                   capture_output=True)


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


# ---------------------------------------------------------------------------------------- the hub

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
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin",
           "HOME": str(settings.state), "LANG": os.environ.get("LANG", "C.UTF-8")}
    env.update(settings.to_environment())
    return env


def start(settings: Settings, people_file: Path | None = None, home_base: Path | None = None,
          renew_passwords: bool = False, startup_timeout: float = 90) -> int:
    timer = console_progress.Timer()
    require_root("Starting the workshop server")
    check_settings(settings)
    if hub_pid(settings):
        raise WorkshopError(f"A workshop server is already running from {settings.folder} (pid {hub_pid(settings)}); "
                            "stop it first with `ketamine-course workshop stop`.")
    check_address(settings)
    check_ports(settings)
    print(f"==> Ports free: {settings.ip}:{settings.port}, hub 127.0.0.1:{settings.hub_port}, "
          f"proxy control 127.0.0.1:{settings.proxy_api_port}", flush=True)
    try:
        import jupyterhub  # noqa: F401
        import jupyterhub_idle_culler  # noqa: F401
    except ImportError as exc:
        raise WorkshopError(f"{exc.name} is not installed in {sys.prefix}: install requirements-hub.txt "
                            "(workshop/workshop.sh does it).") from None
    print(f"==> Proxy: configurable-http-proxy {ensure_proxy(settings)}", flush=True)
    check_shared_environment(settings)
    print(f"==> Participants can run the course environment {settings.course_env}", flush=True)
    people = read_people(people_file) if people_file else []
    for group in (settings.participants_group, settings.instructors_group):
        try:
            grp.getgrnam(group)
        except KeyError:
            _run(["groupadd", group], f"Creating the group {group}")
    prepare_folders(settings)
    print(f"==> Folders ready in {settings.folder}: exchange (1777), grading (group {settings.instructors_group}, "
          "2770), state (0700)", flush=True)
    passwords_file = None
    if people:
        passwords_file = save_passwords(settings, add_accounts(people, settings, home_base,
                                                               passwords=settings.auth == "pam"))
    if settings.auth == "shared-password":
        shared = workshop_passwords(settings, renew_passwords)
    settings.save()

    log_path = settings.state / "jupyterhub.log"
    print(f"==> Starting JupyterHub (log: {log_path})", flush=True)
    with os.fdopen(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a") as log:
        process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f",
                                    str(settings.workshop_files / "jupyterhub_config.py")],
                                   cwd=settings.state, env=hub_environment(settings), stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                   umask=0o077)
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
        print(f"==> Workshop mode. Participants' password: {shared['participants']}\n"
              f"    Instructors' and admin's password: {shared['instructors']}\n"
              f"    (kept in {settings.state / 'workshop-passwords.json'}, root only)")
    console_progress.summary(f"Workshop server running at {settings.url} (pid {process.pid}), started in "
                         f"{console_progress.duration(timer.elapsed)}. Stop it with `ketamine-course workshop stop`.")
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


def stop(settings: Settings) -> int:
    require_root("Stopping the workshop server")
    pid = hub_pid(settings)
    if pid is None:
        console_progress.summary(f"No workshop server is running from {settings.folder}.")
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
    note = "" if clean else " (it had to be killed; check that no single-user servers are left: workshop status)"
    console_progress.summary(f"Workshop server stopped in {console_progress.duration(timer.elapsed)}{note}.")
    return 0


def status(settings: Settings) -> int:
    require_root("Reading the workshop server's state")
    pid = hub_pid(settings)
    if pid is None:
        console_progress.summary(f"No workshop server is running from {settings.folder}.")
        return 1
    answering = "answers" if hub_answers(settings) else "does NOT answer (see state/jupyterhub.log)"
    print(f"Workshop server: pid {pid}, {settings.url} {answering}; login: {settings.auth}; "
          f"idle servers stopped after {settings.idle_timeout} s.")
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
    console_progress.summary(f"{len(people)} account(s) ready in {console_progress.duration(timer.elapsed)}"
                         f"{'; passwords in ' + str(path) if path else ''}.{running}")
    return 0


# ---------------------------------------------------------------------------------------- command line

def _settings_from_args(args) -> Settings:
    defaults = Settings(folder=Path(args.folder))
    values = {item.name: getattr(args, item.name) for item in dataclasses.fields(Settings)
              if getattr(args, item.name, None) is not None}
    values["folder"] = Path(args.folder)
    for name in ("course", "course_env", "proxy"):
        if values.get(name) is not None:
            values[name] = Path(values[name]).resolve()
    if getattr(args, "workshop_mode", False):
        values["auth"] = "shared-password"
    if not values.get("admin"):
        values["admin"] = os.environ.get(ENVIRONMENT_PREFIX + "ADMIN", defaults.admin)
    return dataclasses.replace(defaults, **values)


def _saved_or_given(args) -> Settings:
    try:
        saved = Settings.load(Path(args.folder))
    except WorkshopError:
        return _settings_from_args(args)
    for name in ("participants_group", "instructors_group"):
        if getattr(args, name, None):
            setattr(saved, name, getattr(args, name))
    return saved


def _run_command(args) -> int:
    require_root(f"`workshop {args.workshop_command}`")
    if args.workshop_command == "start":
        return start(_settings_from_args(args), args.people, args.home_base, args.new_passwords)
    if args.workshop_command == "stop":
        return stop(_saved_or_given(args))
    if args.workshop_command == "status":
        return status(_saved_or_given(args))
    return add_participants(_saved_or_given(args), args.people, args.home_base)


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("workshop", help="run the course on JupyterHub for a class on this machine",
                                   description="The workshop server (docs/workshop-server.md).")
    commands = parser.add_subparsers(dest="workshop_command", required=True)

    def with_folder(command):
        command.add_argument("--folder", default=str(DEFAULT_FOLDER),
                             help=f"the workshop folder: exchange, grading, state (default {DEFAULT_FOLDER})")
        return command

    def with_groups(command):
        command.add_argument("--participants-group", help="Unix group of participants (default participants)")
        command.add_argument("--instructors-group", help="Unix group of instructors (default instructors)")
        command.add_argument("--home-base", type=Path, help="folder for new accounts' homes (default /home)")
        return command

    start_parser = with_groups(with_folder(commands.add_parser("start", help="start the workshop server")))
    start_parser.add_argument("--people", type=Path, help="list file: one account a line, 'NAME instructor' for instructors")
    start_parser.add_argument("--admin", help="the hub's admin account (or KETAMINE_WORKSHOP_ADMIN)")
    start_parser.add_argument("--ip", help="address to listen on (default 127.0.0.1; 0.0.0.0 needs HTTPS)")
    start_parser.add_argument("--port", type=int, help="public port (default 8000)")
    start_parser.add_argument("--hub-port", type=int, help="hub's internal port on 127.0.0.1 (default 8081)")
    start_parser.add_argument("--proxy-api-port", type=int, help="proxy's control port on 127.0.0.1 (default 8001)")
    start_parser.add_argument("--workshop-mode", action="store_true",
                              help="log in with shared workshop passwords instead of Unix passwords")
    start_parser.add_argument("--new-passwords", action="store_true", help="new workshop-mode passwords")
    start_parser.add_argument("--idle-timeout", type=int, help="seconds idle before a server is stopped (default 3600)")
    start_parser.add_argument("--cull-every", type=int, help="seconds between idle checks (default 300)")
    start_parser.add_argument("--course-env", help="Python environment the servers run from (default this one)")
    start_parser.add_argument("--proxy", help="configurable-http-proxy to use (default workshop/node_modules)")
    start_parser.add_argument("--ssl-key", help="HTTPS private key")
    start_parser.add_argument("--ssl-cert", help="HTTPS certificate (chain)")
    start_parser.add_argument("--behind-https-proxy", action="store_true",
                              help="allow plain HTTP on a public address: HTTPS ends at a reverse proxy in front")
    with_folder(commands.add_parser("stop", help="stop the hub and every single-user server"))
    with_folder(commands.add_parser("status", help="is it running; servers and their memory"))
    add = with_groups(with_folder(commands.add_parser("add-participants", help="create accounts from a list file")))
    add.add_argument("people", type=Path, help="list file: one account a line, 'NAME instructor' for instructors")
    parser.set_defaults(run=_run_command)
