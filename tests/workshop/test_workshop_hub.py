"""The workshop server: the course on JupyterHub, with nbgrader, for real Unix accounts, in headless Chromium.

`ketamine-course workshop start` (ketamine_course/workshop/) starts JupyterHub with
workshop/jupyterhub_config.py on 127.0.0.1 and free ports, with a scratch workshop folder (exchange,
grading, state). It creates three participants and one instructor from a list file, each with a
random Unix password, logged in through PAM. In Chromium each participant logs in, fetches Start here
from nbgrader's Assignment List, answers by clicking and submits; the instructor collects,
autogrades, and generates and releases feedback (nbgrader commands run as the instructor's account,
from the grading folder, with the instructor's server settings) and sees the submissions in the
formgrader; each participant fetches their own feedback and cannot read anyone else's. A second,
short-lived hub checks the workshop mode (shared passwords) and that idle servers are stopped.

The test prints (never asserts) the time from login to a usable JupyterLab and the memory of each
participant's server. Accounts and groups get a random prefix (`kcws` and four hex digits); they
and their processes are removed at the end, also when a test fails. Needs Linux, root, useradd,
Node.js and Chromium; skipped otherwise.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import workshop_hub
import yaml
from lab_browser import answer_item, run_all
from workshop_hub import GROUPS, INSTRUCTOR, PREFIX, nbgrader_menu, needs_machine, new_page, start_hub
from workshop_server import (
    cpu_seconds,
    free_ports,
    hub_memory,
    port_options,
    processes_of,
    remove_account,
    run_as,
    saved_passwords,
    stop_hub,
    workshop_command,
)

from ketamine_course import content
from ketamine_course.runtime import course_copy, lab_settings
from ketamine_course.workshop.checks import check_address, check_settings, check_shared_environment, ensure_proxy
from ketamine_course.workshop.folders import write_server_config
from ketamine_course.workshop.people import Person, account, read_people
from ketamine_course.workshop.servers import account_memory
from ketamine_course.workshop.settings import COURSE_ID, SPAWN_TIMEOUT_FLOOR, Settings, WorkshopError

from conftest import ARTIFACTS, REPO, TRY_TO_READ

# One xdist worker runs the hub's browser modules (this one and test_lti_launch.py) in turn, see conftest.py:
# one hub with Chromium at a time, and the module's accounts and hub made once.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("hub")]

ASSIGNMENT = "ps0_start_here"
FIXTURE = yaml.safe_load((REPO / "tests" / "fixtures" / "assignments" / f"{ASSIGNMENT}.yaml").read_text())
NOTEBOOK = FIXTURE["notebook"]
PARTICIPANTS = [f"{PREFIX}p{number}" for number in (1, 2, 3)]
OUTSIDER = f"{PREFIX}x"  # a Unix account in neither group
COURSE_ID = COURSE_ID
scratch, shared = workshop_hub.scratch, workshop_hub.shared  # the module fixtures of tests/workshop_hub.py, used here


# ---------------------------------------------------------------- fast checks of the command


def test_the_people_list_is_checked_before_anything_changes(tmp_path):
    good = tmp_path / "people.txt"
    good.write_text("# a workshop\nalice\nbob   # late\ncarol instructor\n\n")
    assert read_people(good) == [
        Person("alice", "participant"),
        Person("bob", "participant"),
        Person("carol", "instructor"),
    ]
    bad = tmp_path / "bad.txt"
    bad.write_text("alice\nBob Smith\nalice\ndave teacher\n")
    with pytest.raises(WorkshopError) as problem:
        read_people(bad)
    message = str(problem.value)
    assert "line 2" in message and "'Bob'" in message
    assert "line 3: alice is listed twice (first on line 1)" in message
    assert "line 4" in message and "nothing was changed" in message
    with pytest.raises(WorkshopError, match="does not exist"):
        read_people(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("# nobody yet\n")
    with pytest.raises(WorkshopError, match="names nobody"):
        read_people(tmp_path / "empty.txt")


def test_a_private_folder_on_the_way_to_the_course_python_is_named():
    with tempfile.TemporaryDirectory(prefix="kc-workshop-") as scratch:
        os.chmod(scratch, 0o755)
        private = Path(scratch) / "private"
        (private / "env" / "bin").mkdir(parents=True)
        python = private / "env" / "bin" / "python"
        python.write_text("#!/bin/sh\n")
        python.chmod(0o755)
        private.chmod(0o700)
        settings = Settings(folder=Path(scratch) / "srv", course_env=private / "env", admin="x")
        with pytest.raises(WorkshopError) as problem:
            check_shared_environment(settings)
    assert f"{private} (drwx------) does not let other accounts pass" in str(problem.value)
    assert "--course-env" in str(problem.value)


def test_the_class_size_sets_how_many_servers_start_at_once_and_how_long_the_hub_waits():
    with pytest.raises(WorkshopError, match="--class-size"):
        check_settings(Settings(admin="x", class_size=0))
    check_settings(Settings(admin="x", class_size=1))
    assert Settings(class_size=4).spawn_timeout == SPAWN_TIMEOUT_FLOOR
    assert Settings(class_size=400).spawn_timeout > Settings(class_size=200).spawn_timeout > SPAWN_TIMEOUT_FLOOR
    assert len(str(Settings(folder=Path("/srv") / ("w" * 200)).runtime_folder(4294967294))) < 60, (
        "kernels' sockets fit a Unix socket's path, however long the workshop folder"
    )


def test_a_public_address_needs_https():
    with pytest.raises(WorkshopError, match="unencrypted"):
        check_address(Settings(ip="0.0.0.0", admin="x"))
    check_address(Settings(ip="0.0.0.0", admin="x", behind_https_proxy=True))
    check_address(Settings(ip="127.0.0.1", admin="x"))


def test_settings_travel_to_the_hub_unchanged():
    settings = Settings(
        folder=Path("/srv/x"),
        ip="0.0.0.0",
        port=8443,
        admin="lead",
        auth="shared-password",
        idle_timeout=1800,
        behind_https_proxy=True,
        proxy=Path("/opt/chp"),
    )
    assert Settings.from_environment(settings.to_environment()) == settings


def test_participants_servers_show_no_code_and_instructors_see_it(tmp_path):
    """Every server gets the course's JupyterLab defaults; participants' servers also its style sheet, which
    shows no code (instructors edit the source notebooks). The Kubernetes image's participants likewise."""
    settings = Settings(folder=tmp_path, admin="x")
    write_server_config(settings)
    for role, styled in (("participant", True), ("instructor", False)):
        config = json.loads((settings.config_folder(role) / "jupyter_server_config.json").read_text())
        assert config["LabApp"]["app_settings_dir"] == str(lab_settings.LAB_SETTINGS)
        assert config["LabApp"].get("custom_css", False) is styled, role
    participant = json.loads((settings.config_folder("participant") / "jupyter_server_config.json").read_text())
    assert (Path(participant["ServerApp"]["tornado_settings"]["static_custom_path"][0]) / "custom.css").is_file()
    assert participant["ServerApp"]["jpserver_extensions"]["nbgrader.server_extensions.formgrader"] is False
    image = json.loads((REPO / "workshop/kubernetes/jupyter/participants/jupyter_server_config.json").read_text())
    assert image["LabApp"]["custom_css"] is True
    assert image["ServerApp"]["tornado_settings"]["static_custom_path"][0].endswith(
        "ketamine_course/lab_settings/custom"
    )


def test_a_taken_port_gives_a_clear_error_and_starts_nothing(tmp_path):
    needs_machine()
    port, hub_port, api_port = free_ports(3)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        result = workshop_command(
            "start",
            "--folder",
            str(tmp_path / "srv"),
            "--admin",
            "nobody",
            *port_options([port, hub_port, api_port]),
            check=False,
        )
    assert result.returncode == 2
    assert (
        f"Port {port} on 127.0.0.1 (the workshop address) is already in use by process {os.getpid()}" in result.stderr
    )
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "srv").exists(), "nothing is prepared when the server cannot start"


def test_a_missing_proxy_gives_a_clear_error(tmp_path):
    needs_machine()
    result = workshop_command(
        "start",
        "--folder",
        str(tmp_path / "srv"),
        "--admin",
        "nobody",
        *port_options(free_ports(3)),
        "--proxy",
        str(tmp_path / "no" / "configurable-http-proxy"),
        check=False,
    )
    assert result.returncode == 2
    assert "The proxy" in result.stderr and "does not exist" in result.stderr and "Traceback" not in result.stderr
    # Without its own proxy and without npm to install one, the message says what to install.
    course = tmp_path / "course"
    (course / "workshop").mkdir(parents=True)
    shutil.copy2(REPO / "workshop" / "package.json", course / "workshop")
    settings = Settings(course=course, admin="x")
    path = os.environ["PATH"]
    try:
        os.environ["PATH"] = str(tmp_path / "empty-bin")
        with pytest.raises(WorkshopError, match="npm is missing.*Node.js"):
            ensure_proxy(settings)
    finally:
        os.environ["PATH"] = path
    with pytest.raises(WorkshopError, match="npm ci"):
        ensure_proxy(settings, install=False)


def test_the_kubernetes_files_hold_together():
    """They are not run here (no cluster, no Docker engine); this checks what can be checked without one."""
    folder = REPO / "workshop" / "kubernetes"
    values = yaml.safe_load((folder / "config.yaml").read_text())
    for name, code in values["hub"]["extraConfig"].items():
        compile(code, name, "exec")
    copies = [
        line.split()[1:-1] for line in (folder / "Dockerfile").read_text().splitlines() if line.startswith("COPY ")
    ]
    for source in (path for sources in copies for path in sources):
        assert (REPO / source).exists(), f"the Dockerfile copies {source}, which is missing"
    assert not any("solutions" in path for sources in copies for path in sources), "keys never go into the image"
    from traitlets.config.loader import PyFileConfigLoader

    previous = {key: os.environ.get(key) for key in ("KETAMINE_COURSE_ROLE", "NGSHARE_URL")}
    try:
        os.environ.pop("NGSHARE_URL", None)
        os.environ["KETAMINE_COURSE_ROLE"] = "instructor"
        config = PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config()
        assert config.CourseDirectory.root == "/home/jovyan/grading"
        assert config.Exchange.root == "/srv/nbgrader/exchange"
        assert config.CourseDirectory.ignore == list(course_copy.LEFT_BEHIND)
    finally:
        for key, value in previous.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


# ---------------------------------------------------------------- accounts, an environment, a hub


@dataclass
class Workshop:
    settings: Settings
    passwords: dict
    scratch: Path

    @property
    def base(self) -> str:
        return self.settings.url

    def uid(self, name: str) -> int:
        return pwd.getpwnam(name).pw_uid

    def home(self, name: str) -> Path:
        return Path(pwd.getpwnam(name).pw_dir)

    def log_tail(self, lines=40) -> str:
        log = self.settings.state / "jupyterhub.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no log)"

    def as_account(self, name, *args, **options):
        """Run the course's Python as `name`, as a command in their JupyterLab terminal would."""
        return run_as(self.settings, name, *args, **options)

    def instructor_nbgrader(self, *args, check=True):
        return self.as_account(
            INSTRUCTOR, "-m", "nbgrader", *args, role="instructor", cwd=self.settings.grading, check=check
        )


@pytest.fixture(scope="module")
def accounts(scratch):
    """The list file, and clean-up of every account and group it (or the test) creates, whatever happens."""
    for name in [*PARTICIPANTS, INSTRUCTOR, OUTSIDER]:
        if account(name) is not None:
            pytest.fail(f"account {name} already exists; refusing to touch it")
    people = scratch / "people.txt"
    people.write_text(
        "# the workshop test's class\n" + "".join(f"{name}\n" for name in PARTICIPANTS) + f"{INSTRUCTOR} instructor\n"
    )
    try:
        subprocess.run(
            ["useradd", "--create-home", "--base-dir", str(scratch / "home"), "--user-group", OUTSIDER],
            check=True,
            capture_output=True,
        )
        outsider_password = secrets.token_urlsafe(9)
        subprocess.run(["chpasswd"], input=f"{OUTSIDER}:{outsider_password}\n", text=True, check=True)
        yield people, outsider_password
    finally:
        for name in [*PARTICIPANTS, INSTRUCTOR, OUTSIDER]:
            remove_account(name)
        for group in GROUPS.values():
            subprocess.run(["groupdel", group], capture_output=True, text=True)
        left = [name for name in [*PARTICIPANTS, INSTRUCTOR, OUTSIDER] if account(name) is not None]
        assert not left, f"accounts not removed: {left}"


@pytest.fixture(scope="module")
def hub(scratch, shared, accounts):
    people, _ = accounts
    settings = start_hub(scratch, shared, scratch / "srv", people)
    try:
        yield Workshop(settings, saved_passwords(settings), scratch)
    finally:
        stop_hub(settings)


def log_in(page, base, name, password) -> float:
    """Log in on the hub's page; seconds from pressing Sign in to JupyterLab with its notebook's kernel ready."""
    page.goto(f"{base}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    started = time.monotonic()
    page.click("#login_submit")
    page.locator(".jp-NotebookPanel, .jp-DirListing-content").first.wait_for(timeout=180_000)
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle'], .jp-DirListing-content").first.wait_for(
        timeout=180_000
    )
    return time.monotonic() - started


def login_refused(page, base, name, password) -> bool:
    page.goto(f"{base}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.locator(".login_error").wait_for(timeout=30_000)
    return "Invalid username or password" in page.locator(".login_error").inner_text()


def open_assignment_list(page):
    if "Assignment List" not in nbgrader_menu(page):
        raise AssertionError("the Nbgrader menu has no Assignment List")
    page.locator('#jp-mainmenu-nbgrader li[data-command="nbgrader:open-assignment-list"]').click()
    page.locator("#released_assignments_list").wait_for()


def list_rows(page, name: str, count: int):
    page.locator(f"#{name}_assignments_list_loading").wait_for(state="hidden")
    rows = page.locator(f"#{name}_assignments_list > .list_item")
    page.wait_for_function(
        f"() => document.querySelectorAll('#{name}_assignments_list > .list_item').length >= {count}"
    )
    return rows


def show_assignments_tab(page):
    page.locator(".lm-TabBar-tab", has_text="Assignments").first.click()
    page.locator("#refresh_assignments_list").click()


def participant_works_on_the_assignment(hub: Workshop, page, name: str) -> None:
    """Fetch from the Assignment List, open the notebook from it, answer by clicking, save, submit."""
    items = content.assessments()[ASSIGNMENT].items
    start_here = page.locator(".lm-TabBar-tab", has_text="00_start_here.ipynb")
    start_here.locator(".lm-TabBar-tabCloseIcon").click()  # done reading: one notebook open at a time
    discard = page.locator(".jp-Dialog button", has_text="Discard")  # the kernel's metadata marks it changed
    deadline = time.monotonic() + 30
    while start_here.count() and not discard.count():
        assert time.monotonic() < deadline, "the Start here tab did not close"
        page.wait_for_timeout(200)
    if discard.count():
        discard.click()
    start_here.wait_for(state="detached")
    open_assignment_list(page)
    released = list_rows(page, "released", 1)
    released.first.locator(".item_status button").click()  # Fetch
    fetched = list_rows(page, "fetched", 1)
    fetched.first.locator(f"a:text('{ASSIGNMENT}')").first.click()  # expand: the notebooks appear
    page.locator("#fetched_assignments_list").get_by_text(NOTEBOOK, exact=True).click()  # opens it in JupyterLab
    page.locator(".lm-TabBar-tab.lm-mod-current", has_text=NOTEBOOK).wait_for()
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=120_000)
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownCell").first.click()  # focus the notebook
    run_all(page, len(items), ".kc-graded")
    for item in items:
        answer_item(page, item, FIXTURE["right"][item.id])
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-current .jp-mod-dirty')", timeout=30_000)
    assert (hub.home(name) / ASSIGNMENT / "answers.json").exists(), "the clicks were saved beside the notebook"
    show_assignments_tab(page)
    list_rows(page, "fetched", 1).first.locator(".item_status button", has_text="Submit").click()
    list_rows(page, "submitted", 1)


def median_mb(values) -> float:
    return statistics.median(values) / 2**20


@pytest.mark.kernel
def test_a_class_logs_in_submits_and_gets_private_feedback(hub, browser):
    settings = hub.settings
    # The instructor releases Start here while the participants log in.
    release_result = {}

    def generate_and_release():
        release_result["generate"] = hub.instructor_nbgrader("generate_assignment", ASSIGNMENT, "--force")
        release_result["release"] = hub.instructor_nbgrader("release_assignment", ASSIGNMENT)

    releasing = threading.Thread(target=generate_and_release)
    releasing.start()

    pages, login_seconds, memory_after_login, memory_with_assignment, cpu_seconds, login_cpu = {}, [], [], [], [], []
    try:
        for name in PARTICIPANTS:
            page = new_page(browser)
            pages[name] = page
            login_seconds.append(log_in(page, hub.base, name, hub.passwords[name]))
            assert page.url.startswith(f"{hub.base}/user/{name}/lab"), page.url
            assert (hub.home(name) / "course" / "00_start_here.ipynb").exists(), "the teaching notebooks are theirs"
            memory_after_login.append(account_memory(hub.uid(name)))
            login_cpu.append(account_cpu_seconds(hub.uid(name)))
            menu = nbgrader_menu(page)
            page.keyboard.press("Escape")
            assert "Assignment List" in menu and "Formgrader" not in menu, menu
            if releasing.is_alive():
                releasing.join(timeout=300)
            assert "release" in release_result, "the instructor could not release the assignment"
            participant_works_on_the_assignment(hub, page, name)
            page.screenshot(path=str(ARTIFACTS / f"workshop_{name[-2:]}_submitted.png"))
            memory_with_assignment.append(account_memory(hub.uid(name)))
    except Exception:
        for name, page in pages.items():
            page.screenshot(path=str(ARTIFACTS / f"workshop_{name[-2:]}_failure.png"))
        print(hub.log_tail())
        raise
    finally:
        releasing.join(timeout=300)

    # The instructor collects, autogrades, and generates and releases feedback.
    grading_seconds = {}
    for step in ("collect", "autograde"):
        started = time.monotonic()
        hub.instructor_nbgrader(step, ASSIGNMENT)
        grading_seconds[step] = time.monotonic() - started
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{settings.grading / 'gradebook.db'}") as gradebook:
        for name in PARTICIPANTS:
            graded = gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT, name)
            assert graded.score == pytest.approx(FIXTURE["auto_points"]), name
    for step in ("generate_feedback", "release_feedback"):
        started = time.monotonic()
        hub.instructor_nbgrader(step, ASSIGNMENT)
        grading_seconds[step] = time.monotonic() - started

    # The formgrader, in the instructor's own server, shows the three submissions.
    instructor_page = new_page(browser)
    log_in(instructor_page, hub.base, INSTRUCTOR, hub.passwords[INSTRUCTOR])
    assert "Formgrader" in nbgrader_menu(instructor_page)
    instructor_page.keyboard.press("Escape")
    instructor_page.goto(f"{hub.base}/user/{INSTRUCTOR}/formgrader/manage_assignments")
    row = instructor_page.locator("tr", has=instructor_page.locator("td", has_text=ASSIGNMENT)).first
    row.wait_for()
    headers = [text.strip() for text in instructor_page.locator("th").all_inner_texts()]
    instructor_page.wait_for_function(
        "([name, column]) => [...document.querySelectorAll('tr')].some(r => r.cells.length > column "
        "&& r.cells[0].innerText.trim() === name && r.cells[column].innerText.trim() === '3')",
        arg=[ASSIGNMENT, headers.index("# Submissions")],
    )
    instructor_page.screenshot(path=str(ARTIFACTS / "workshop_formgrader.png"))

    # Each participant fetches their own feedback from the Assignment List.
    feedback = {}
    for name, page in pages.items():
        show_assignments_tab(page)
        list_rows(page, "submitted", 1).first.locator(".item_status button", has_text="Fetch Feedback").click()
        deadline = time.monotonic() + 60
        while not (found := sorted((hub.home(name) / ASSIGNMENT / "feedback").glob(f"*/{NOTEBOOK}.html"))):
            assert time.monotonic() < deadline, f"{name} did not get feedback"
            time.sleep(0.5)
        feedback[name] = found[-1]
        cpu_seconds.append(account_cpu_seconds(hub.uid(name)))
    first, second = PARTICIPANTS[0], PARTICIPANTS[1]
    assert "ps0.q1" in feedback[first].read_text(), "the feedback shows the graded items"

    # Nobody reads anyone else's work: checked as the second participant, with their own rights.
    exchange = settings.exchange / COURSE_ID
    attempts = [
        ["own feedback", "read", str(feedback[second])],
        ["another's feedback", "read", str(feedback[first])],
        ["another's home", "list", str(hub.home(first))],
        ["the submissions", "list", str(exchange / "inbound")],
        ["the released feedback", "list", str(exchange / "feedback")],
        ["the gradebook", "read", str(settings.grading / "gradebook.db")],
        ["the solutions", "list", str(settings.grading / "solutions")],
    ]
    outcome = json.loads(hub.as_account(second, "-c", TRY_TO_READ, json.dumps(attempts)).stdout)
    assert outcome == {
        "own feedback": "allowed",
        "another's feedback": "PermissionError",
        "another's home": "PermissionError",
        "the submissions": "PermissionError",
        "the released feedback": "PermissionError",
        "the gradebook": "PermissionError",
        "the solutions": "PermissionError",
    }

    report_figures(
        hub, login_seconds, memory_after_login, memory_with_assignment, login_cpu, cpu_seconds, grading_seconds
    )


def account_cpu_seconds(uid: int) -> float:
    return cpu_seconds(processes_of(uid))


def report_figures(hub, login_seconds, after_login, with_assignment, login_cpu, cpu_seconds, grading_seconds) -> None:
    pss = median_mb([m.pss for m in with_assignment])
    rss = median_mb([m.rss for m in with_assignment])
    hub_mb = hub_memory(hub.settings) / 2**20
    memory_bound = int((24 * 1024 - 2 * 1024 - hub_mb) // pss)
    print("\nWorkshop server figures (3 participants on this machine; measured, not asserted):")
    print(
        f"  login to a usable JupyterLab (Start here open, kernel ready): median {statistics.median(login_seconds):.1f} s "
        f"({', '.join(f'{s:.1f}' for s in login_seconds)})"
    )
    print(
        f"  per participant after login (server + Start here kernel): PSS {median_mb([m.pss for m in after_login]):.0f} MB, "
        f"RSS {median_mb([m.rss for m in after_login]):.0f} MB"
    )
    print(
        f"  per participant with Start here and the assignment running: PSS {pss:.0f} MB, RSS {rss:.0f} MB, "
        f"{with_assignment[0].processes} processes"
    )
    print(
        f"  CPU per participant: login {statistics.median(login_cpu):.1f} s; login, assignment, submit and feedback "
        f"{statistics.median(cpu_seconds):.1f} s (medians)"
    )
    print(f"  hub, proxy and culler: PSS {hub_mb:.0f} MB")
    print(
        "  instructor's commands for 3 submissions: "
        + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in grading_seconds.items())
    )
    print(f"  24 GB machine, 2 GB kept for the system: about {memory_bound} participants by memory")


def test_the_hub_keeps_its_state_private_and_shares_only_the_exchange(hub):
    import stat

    settings = hub.settings
    modes = {
        path: stat.S_IMODE(path.stat().st_mode)
        for path in (
            settings.state,
            settings.state / "jupyterhub.sqlite",
            settings.state / "jupyterhub_cookie_secret",
            settings.state / "jupyterhub.log",
            settings.exchange,
            settings.grading,
        )
    }
    assert modes[settings.state] == 0o700
    assert modes[settings.state / "jupyterhub.sqlite"] == 0o600
    assert modes[settings.state / "jupyterhub_cookie_secret"] == 0o600
    assert modes[settings.state / "jupyterhub.log"] == 0o600
    assert modes[settings.exchange] == 0o1777
    assert modes[settings.grading] == 0o2770
    for name in PARTICIPANTS:
        assert stat.S_IMODE(hub.home(name).stat().st_mode) == 0o700
    for passwords in settings.state.glob("passwords-*.txt"):
        assert stat.S_IMODE(passwords.stat().st_mode) == 0o600
    status = workshop_command("status", "--folder", str(settings.folder))
    assert "answers" in status.stdout and "single-user server(s) running" in status.stdout


def test_only_the_class_logs_in(hub, browser, accounts):
    _, outsider_password = accounts
    page = new_page(browser)
    try:
        assert login_refused(page, hub.base, OUTSIDER, outsider_password), "a Unix account outside the groups"
        assert login_refused(page, hub.base, PARTICIPANTS[0], "not-the-password")
        assert login_refused(page, hub.base, f"{PREFIX}nobody", "whatever-it-is")
    finally:
        page.context.close()


def servers_of(hub_port: int) -> list:
    """Single-user server processes started by the hub that listens on `hub_port`."""
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline"]):
        if "jupyterhub.singleuser" not in (process.info["cmdline"] or []):
            continue
        try:
            if f":{hub_port}/" in process.environ().get("JUPYTERHUB_API_URL", ""):
                found.append(process.pid)
        except psutil.Error:
            continue
    return found


@pytest.mark.kernel
def test_workshop_mode_uses_two_shared_passwords_and_stops_idle_servers(scratch, shared, accounts, browser):
    """A second hub in workshop mode, with a 15-second idle timeout."""
    settings = start_hub(
        scratch,
        shared,
        scratch / "srv-workshop-mode",
        None,
        "--workshop-mode",
        "--idle-timeout",
        "15",
        "--cull-every",
        "5",
    )
    try:
        passwords = json.loads((settings.state / "workshop-passwords.json").read_text())
        page = new_page(browser)
        assert login_refused(page, settings.url, INSTRUCTOR, passwords["participants"]), (
            "an instructor never gets in with the participants' password"
        )
        assert login_refused(page, settings.url, OUTSIDER, passwords["participants"]), "only the class"
        seconds = log_in(page, settings.url, PARTICIPANTS[2], passwords["participants"])
        assert page.url.startswith(f"{settings.url}/user/{PARTICIPANTS[2]}/lab")
        page.context.close()
        assert servers_of(settings.hub_port), "the participant's server is running"
        deadline = time.monotonic() + 90
        while servers_of(settings.hub_port):
            assert time.monotonic() < deadline, "the idle server was not stopped:\n" + "\n".join(
                (settings.state / "jupyterhub.log").read_text().splitlines()[-30:]
            )
            time.sleep(1)
        assert "Culling server" in (settings.state / "jupyterhub.log").read_text()
        page = new_page(browser)
        log_in(page, settings.url, INSTRUCTOR, passwords["instructors"])
        assert page.url.startswith(f"{settings.url}/user/{INSTRUCTOR}/lab")
        page.context.close()
        print(f"\nWorkshop mode: login to a usable JupyterLab {seconds:.1f} s; idle server stopped by the culler.")
    finally:
        stop_hub(settings)


def test_unprepared_folders_raise_an_error_with_what_to_do_and_never_exit(tmp_path):
    """The hub's configuration file calls check_prepared; a library function raises, it does not end the process."""
    from ketamine_course.workshop.checks import check_prepared

    settings = Settings.from_environment({"KETAMINE_WORKSHOP_FOLDER": str(tmp_path / "srv")})
    with pytest.raises(WorkshopError, match="workshop start"):
        check_prepared(settings)
