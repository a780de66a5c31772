"""What the workshop's commands and its hub agree on: the settings, saved in the state folder and passed
to the hub as KETAMINE_WORKSHOP_* environment variables, and the one error every part of it raises.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ketamine_course.core.errors import CourseError
from ketamine_course.storage.json_files import write_atomically
from ketamine_course.storage.paths import course_root

COURSE_ID = "ketamine-therapy"  # nbgrader_config.py
DEFAULT_FOLDER = Path("/srv/ketamine-course")
ENVIRONMENT_PREFIX = "KETAMINE_WORKSHOP_"
ROLES = ("participant", "instructor")
ACCOUNT_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")  # what useradd accepts on Debian, kept simple
PACKAGE = Path(__file__).resolve().parents[1]  # the course's package, which every account's server imports


class WorkshopError(CourseError):
    """A problem the organiser can fix; the message says what is wrong and what to do."""

    exit_status = 2


def _in_workshop_folder(name: str) -> property:
    """A read-only attribute: the folder `name` inside the workshop folder."""
    return property(lambda settings: settings.folder / name, doc=f"{name}/ in the workshop folder")


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
    exchange = _in_workshop_folder("exchange")
    grading = _in_workshop_folder("grading")
    jupyter_config = _in_workshop_folder("jupyter")
    state = _in_workshop_folder("state")

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
            env[ENVIRONMENT_PREFIX + item.name.upper()] = (
                ("1" if value else "0") if isinstance(value, bool) else str(value)
            )
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

    @staticmethod
    def saved_file(folder: Path) -> Path:
        """Where `save` records the settings of the workshop that uses `folder`."""
        return Path(folder) / "state" / "settings.json"

    def save(self) -> None:
        """Recorded in the state folder, so stop, status and add-participants find the running workshop."""
        write_private(self.saved_file(self.folder), json.dumps(self.to_environment(), indent=1) + "\n")

    @classmethod
    def load(cls, folder: Path) -> "Settings":
        path = cls.saved_file(folder)
        if not path.exists():
            raise WorkshopError(
                f"No workshop server was started with the folder {folder} "
                f"({path} is missing). Use --folder to name the one you started."
            )
        return cls.from_environment(json.loads(path.read_text(encoding="utf-8")))


def write_private(path: Path, text: str) -> None:
    """Write a file only root can read (0600), replacing any earlier one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text, mode=0o600)
