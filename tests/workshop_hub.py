"""The workshop hub as the browser tests start it (test_workshop_hub.py, test_lti_launch.py): scratch folders,
the shared course, a hub for accounts with a random prefix, and the pages the tests open. The general server
helpers (ports, the organiser's command, stopping a hub, removing accounts) are in workshop_server.py.

Accounts and groups get the prefix `kcws` and four hex digits, the same for every module of a test run.
Needs Linux, root, useradd, Node.js and Chromium; `needs_machine` skips otherwise.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from pathlib import Path

import pytest
import workshop_server
from lab_browser import CHROMIUM
from shared_course import SharedCourse, shared_course

from ketamine_course.workshop.checks import ensure_proxy
from ketamine_course.workshop.settings import Settings

from conftest import REPO

PREFIX = f"kcws{secrets.token_hex(2)}"
INSTRUCTOR = f"{PREFIX}i1"
GROUPS = {"participants_group": f"{PREFIX}-part", "instructors_group": f"{PREFIX}-inst"}


def needs_machine():
    if problem := workshop_server.machine_problem():
        pytest.skip(problem)
    if not Path(CHROMIUM).exists():
        pytest.skip("the workshop server test needs Chromium")


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


def start_hub(scratch: Path, shared: SharedCourse, folder: Path, people: Path | None, *extra) -> Settings:
    """A hub for this run's accounts and groups, homes under the scratch folder."""
    people_option = ["--people", str(people)] if people else []
    return workshop_server.start_hub(shared, folder, INSTRUCTOR, scratch / "home", GROUPS, *people_option, *extra)


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
