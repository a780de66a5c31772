"""The workshop folder: nbgrader's exchange, the instructors' grading course, each role's Jupyter
settings and the hub's state, created (or their permissions repaired) by `workshop start`.
"""

from __future__ import annotations

import grp
import json
import os
import shutil

from ketamine_course.runtime import course_copy
from ketamine_course.workshop.settings import COURSE_ID, PACKAGE, ROLES, Settings

LAB_SETTINGS = PACKAGE / "lab_settings"
# The nbgrader pieces a participant does not need: grading, assignment authoring and the course list.
PARTICIPANT_SERVER_EXTENSIONS_OFF = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")
PARTICIPANT_LAB_PLUGINS_OFF = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
)


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
            course_copy.copy_course_folder(settings.course / name, grading / name)
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
    """Jupyter settings for the single-user servers, one folder a role, passed by JUPYTER_CONFIG_PATH.

    Submissions leave behind what the course's own nbgrader_config.py leaves behind: course_copy.LEFT_BEHIND.
    """
    for role in ROLES:
        folder = settings.config_folder(role)
        (folder / "labconfig").mkdir(parents=True, exist_ok=True)
        lines = [
            "# Written by `ketamine-course workshop start`; the next start writes it again.",
            "c = get_config()  # noqa: F821",
            f"c.CourseDirectory.course_id = {COURSE_ID!r}",
            f"c.Exchange.root = {str(settings.exchange)!r}",
            f"c.CourseDirectory.ignore = {list(course_copy.LEFT_BEHIND)!r}",
        ]
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
