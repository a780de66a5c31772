"""The people of a workshop: the list file, their Unix accounts and groups, and their passwords."""

from __future__ import annotations

import grp
import json
import os
import pwd
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ketamine_course.runtime import console_progress
from ketamine_course.workshop.checks import require_root, run_checked
from ketamine_course.workshop.settings import (
    ACCOUNT_NAME,
    ENVIRONMENT_PREFIX,
    ROLES,
    Settings,
    WorkshopError,
    write_private,
)


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
            problems.append(
                f"line {number}: {name!r} is not a valid account name (lower-case letters, digits, "
                "'-' and '_', starting with a letter, at most 32 characters)"
            )
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


def ensure_groups(settings: Settings) -> None:
    """Create the participants' and the instructors' groups if they are missing."""
    for group in (settings.participants_group, settings.instructors_group):
        try:
            grp.getgrnam(group)
        except KeyError:
            run_checked(["groupadd", group], f"Creating the group {group}")


def add_accounts(people: list, settings: Settings, home_base: Path | None = None, passwords: bool = True) -> dict:
    """Create missing groups and accounts and put each person in their group.

    Existing accounts keep their password and home; they are only added to the group. New accounts get
    a private home (0700) and, when `passwords` is true (PAM mode), a random password, returned as
    {name: password} for the organiser to hand out.
    """
    require_root("Creating accounts")
    ensure_groups(settings)
    new_passwords = {}
    with console_progress.bar(total=len(people), unit="account", desc="Accounts") as bar:
        for person in people:
            group = settings.instructors_group if person.role == "instructor" else settings.participants_group
            if account(person.name) is not None:
                run_checked(["usermod", "--append", "--groups", group, person.name], f"Adding {person.name} to {group}")
            else:
                command = [
                    "useradd",
                    "--create-home",
                    "--user-group",
                    "--shell",
                    "/bin/bash",
                    "--comment",
                    f"Ketamine course {person.role}",
                    "--groups",
                    group,
                ]
                if home_base:
                    command += ["--base-dir", str(home_base)]
                run_checked(command + [person.name], f"Creating the account {person.name}")
                os.chmod(account(person.name).pw_dir, 0o700)  # nobody else reads a participant's work
                if passwords:
                    new_passwords[person.name] = secrets.token_urlsafe(9)
                    run_checked(
                        ["chpasswd"],
                        f"Setting the password of {person.name}",
                        input=f"{person.name}:{new_passwords[person.name]}\n",
                    )
            bar.update(1)
    return new_passwords


def save_passwords(settings: Settings, passwords: dict) -> Path | None:
    if not passwords:
        return None
    path = settings.state / f"passwords-{datetime.now():%Y%m%d-%H%M%S}.txt"
    lines = [
        "# New accounts of the workshop server and their first passwords. Hand each person theirs,",
        "# then delete this file. They can change it with `passwd` in a JupyterLab terminal.",
    ]
    write_private(path, "\n".join(lines + [f"{name} {password}" for name, password in passwords.items()]) + "\n")
    return path


def workshop_passwords(settings: Settings, renew: bool = False) -> dict:
    """The workshop mode's two passwords, kept in the state folder (0600) so a restart keeps them.

    Participants share one; instructors and the admin share another, never the participants' one.
    KETAMINE_WORKSHOP_PASSWORD and KETAMINE_WORKSHOP_INSTRUCTOR_PASSWORD choose them.
    """
    path = settings.state / "workshop-passwords.json"
    stored = {} if renew or not path.exists() else json.loads(path.read_text(encoding="utf-8"))
    chosen = {
        "participants": os.environ.get(ENVIRONMENT_PREFIX + "PASSWORD"),
        "instructors": os.environ.get(ENVIRONMENT_PREFIX + "INSTRUCTOR_PASSWORD"),
    }
    passwords = {
        "participants": chosen["participants"] or stored.get("participants") or secrets.token_urlsafe(9),
        "instructors": chosen["instructors"] or stored.get("instructors") or secrets.token_urlsafe(32),
    }
    if len(passwords["participants"]) < 8:
        raise WorkshopError("The participants' workshop password must have at least 8 characters.")
    if len(passwords["instructors"]) < 32:
        raise WorkshopError(
            "The instructors' workshop password must have at least 32 characters "
            "(JupyterHub's rule for a password that opens instructor and admin accounts)."
        )
    if passwords["participants"] == passwords["instructors"]:
        raise WorkshopError("The participants' and the instructors' workshop passwords must differ.")
    write_private(path, json.dumps(passwords, indent=1) + "\n")
    return passwords
