"""The workshop server as the tests start it: scratch folders, the shared course, a hub on free ports,
accounts with a random prefix, and the pages the browser tests open (test_workshop_hub.py,
test_lti_launch.py).

Accounts and groups get the prefix `kcws` and four hex digits, the same for every module of a test run.
Needs Linux, root, useradd, Node.js and Chromium; `needs_machine` skips otherwise.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from lab_browser import CHROMIUM
from shared_course import SharedCourse, shared_course

from ketamine_course.workshop.checks import ensure_proxy
from ketamine_course.workshop.hub import hub_pid
from ketamine_course.workshop.settings import Settings

from conftest import REPO

PREFIX = f"kcws{secrets.token_hex(2)}"
INSTRUCTOR = f"{PREFIX}i1"
GROUPS = {"participants_group": f"{PREFIX}-part", "instructors_group": f"{PREFIX}-inst"}


def needs_machine():
    if sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("the workshop server creates Unix accounts: it needs Linux, root and useradd")
    if not Path(CHROMIUM).exists() or not shutil.which("node"):
        pytest.skip("the workshop server test needs Chromium and Node.js")


def free_ports(count: int) -> list:
    sockets, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


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


@pytest.fixture(scope="module")
def scratch():
    needs_machine()
    root = Path(tempfile.mkdtemp(prefix="kc-workshop-"))
    root.chmod(0o711)  # accounts pass through to their homes and the workshop folder, never list it
    (root / "home").mkdir(mode=0o711)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def shared(scratch) -> SharedCourse:
    """The course and the Python environment participants' servers run from (tests/shared_course.py):
    the checkout and its environment when every account can reach them, else a copy in the scratch folder.
    The proxy is installed in the checkout first, as the start command would, so a copy carries it."""
    ensure_proxy(Settings(course=REPO, admin="x"))
    found = shared_course(scratch / "shared")
    if found.copied:
        print(f"\nParticipants use a copy of the course and its environment in {found.root.parent}: {found.note}")
    return found


def remove_account(name: str) -> None:
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    import psutil

    for process in psutil.process_iter(["uids"]):  # processes this test started as the account
        if process.info["uids"] and process.info["uids"].real == uid:
            try:
                process.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
    subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)


def start_hub(scratch: Path, shared: SharedCourse, folder: Path, people: Path | None, *extra) -> Settings:
    """Start a hub on free ports; if another program takes one of them before the hub does (the start
    command checks first and changes nothing then), start again on others."""
    for attempt in range(3):
        ports = [str(p) for p in free_ports(3)]
        result = workshop_command(
            "start",
            "--folder",
            str(folder),
            "--admin",
            INSTRUCTOR,
            "--port",
            ports[0],
            "--hub-port",
            ports[1],
            "--proxy-api-port",
            ports[2],
            "--course-env",
            str(shared.env),
            "--home-base",
            str(scratch / "home"),
            "--participants-group",
            GROUPS["participants_group"],
            "--instructors-group",
            GROUPS["instructors_group"],
            *(["--people", str(people)] if people else []),
            *extra,
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


def new_page(browser):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(90_000)
    return page


def nbgrader_menu(page) -> list:
    page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
    menu = page.locator("#jp-mainmenu-nbgrader")
    menu.locator("li").first.wait_for()
    items = [text.strip() for text in menu.locator("li").all_inner_texts()]
    return items
