"""The load client: a class on the workshop server that works through HTTP and the kernel websocket
instead of a browser each, for the load test (tests/workshop/test_workshop_load.py) and
bench/bench_workshop_load.py.

- `Workshop`: participant and instructor accounts with a random prefix, a hub started with
  `ketamine-course workshop start` (tests/workshop_server.py), and, whatever happens, the hub stopped
  and the accounts, their processes and groups removed.
- `Participant`: one person's session: log in on the hub's page, wait for their server, open a
  notebook (a kernel), fetch from the Assignment List, answer through the running kernel, submit.
- `run_class(...)`: every participant at once, then the instructor's collect and `grade-cohort`;
  what was measured and what arrived, for the bench to print and the test to check.

The course and its environment come from tests/shared_course.py (a copy where every account can
read it, when the checkout is private). Needs Linux, root, useradd and Node.js (`machine_problem`).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import statistics
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from shared_course import shared_course
from workshop_server import (
    cpu_seconds,
    hub_memory,
    hub_processes,
    kill_processes,
    processes_of,
    remove_account,
    run_as,
    saved_passwords,
    start_hub,
    stop_hub,
)

from ketamine_course import content
from ketamine_course.workshop.checks import ensure_proxy
from ketamine_course.workshop.people import account
from ketamine_course.workshop.servers import account_memory
from ketamine_course.workshop.settings import COURSE_ID, Settings

from conftest import ARTIFACTS, REPO

START_HERE = content.course_facts().start_page  # the notebook JupyterLab opens at login
KERNEL_PATIENCE = 120  # seconds a participant waits for a notebook's kernel before closing and reopening it


def fixture(assignment: str) -> dict:
    """tests/fixtures/assignments/<assignment>.yaml: the notebook, the right answers, the automatic points."""
    return yaml.safe_load((REPO / "tests" / "fixtures" / "assignments" / f"{assignment}.yaml").read_text())


# ---------------------------------------------------------------- accounts and a hub


class Workshop:
    """A hub of the course with `participants` participant accounts and one instructor (also the admin),
    in `scratch` (its homes, the workshop folder and, when needed, the course copy).

    Use it in a `with` block: the hub is started on entering, and on leaving (also after a failure) it
    is stopped and every account it made, with its processes, home and groups, is removed.
    """

    def __init__(self, scratch: Path, participants: int, *options: str, prefix: str = "kcld"):
        self.scratch, self.options = scratch, options
        self.prefix = f"{prefix}{secrets.token_hex(2)}"
        self.participants = [f"{self.prefix}p{number:02d}" for number in range(1, participants + 1)]
        self.instructor = f"{self.prefix}i1"
        self.groups = {"participants_group": f"{self.prefix}-part", "instructors_group": f"{self.prefix}-inst"}
        self.settings: Settings | None = None
        self.passwords: dict = {}
        self.start_seconds = 0.0
        self.owns_accounts = False  # True once it is sure no account of these names existed before

    @property
    def names(self) -> list:
        return [*self.participants, self.instructor]

    def __enter__(self) -> Workshop:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        taken = [name for name in self.names if account(name) is not None]
        if taken:
            raise RuntimeError(f"accounts {taken} already exist; refusing to touch them")
        self.owns_accounts = True
        people = self.scratch / "people.txt"
        people.write_text("".join(f"{name}\n" for name in self.participants) + f"{self.instructor} instructor\n")
        home = self.scratch / "home"
        home.mkdir(mode=0o711, exist_ok=True)
        ensure_proxy(Settings(course=REPO, admin=self.instructor))  # as `start` would, so a copy carries it
        shared = shared_course(self.scratch / "shared")
        started = time.monotonic()
        self.settings = start_hub(
            shared, self.scratch / "srv", self.instructor, home, self.groups, "--people", str(people), *self.options
        )
        self.start_seconds = time.monotonic() - started
        self.passwords = saved_passwords(self.settings)

    def close(self) -> None:
        """Stop the hub and remove the accounts; their servers and kernels are ended first (quicker than
        the hub stopping each server in turn, which tests/workshop/test_workshop_hub.py covers)."""
        try:
            for name in self.names if self.owns_accounts else []:
                if user := account(name):
                    kill_processes(user.pw_uid)
            if self.settings is not None:
                stop_hub(self.settings)
        finally:
            left = self.remove_accounts()
        if left:
            raise RuntimeError(f"accounts not removed: {left}")

    def remove_accounts(self) -> list:
        """Remove the accounts (their processes first), their homes and the two groups; the names left."""
        if not self.owns_accounts:
            return []
        for name in self.names:
            remove_account(name)
        for group in self.groups.values():
            subprocess.run(["groupdel", group], capture_output=True, text=True)
        return [name for name in self.names if account(name) is not None]

    @property
    def url(self) -> str:
        return self.settings.url

    def uid(self, name: str) -> int:
        return account(name).pw_uid

    def as_instructor(self, *args, check=True) -> subprocess.CompletedProcess:
        """A command in the instructor's terminal, in the grading folder."""
        return run_as(
            self.settings,
            self.instructor,
            *args,
            role="instructor",
            cwd=self.settings.grading,
            check=check,
            timeout=900,
        )


# ---------------------------------------------------------------- one participant, without a browser


class SessionFailed(Exception):
    pass


class Kernel:
    """A notebook's kernel, driven through the Jupyter server's websocket as JupyterLab drives it.

    Like JupyterLab, it connects again, with the same session, when the connection drops (the server
    replays what the kernel said meanwhile) and when the server restarts the kernel (its ports may have
    changed, and the server connects to the new ones only for a new websocket). A kernel_info request,
    which asks nothing of the kernel but to answer, is then sent again; a cell that was running when
    the kernel restarted is lost, and so is the session.
    """

    RECONNECTS = 3

    def __init__(self, url: str, token: str, timeout: float):
        self.url, self.token, self.timeout = url, token, timeout
        self.session = uuid.uuid4().hex
        self.reconnects = 0  # times the connection dropped
        self.restarts = 0  # times the server restarted the kernel (it died, or could not bind its ports)
        self.connect()

    def connect(self) -> None:
        import websocket

        try:
            self.socket = websocket.create_connection(
                f"{self.url}?session_id={self.session}",
                timeout=self.timeout,
                header=[f"Authorization: token {self.token}"],
            )
        except websocket.WebSocketBadStatusException as refused:  # e.g. 404: the server gave the kernel up
            raise SessionFailed(f"the server refused the kernel's connection ({refused.status_code})") from None

    def send(self, msg_type: str, content_: dict, msg_id: str) -> None:
        self.socket.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "session": self.session,
                        "username": "",
                        "msg_type": msg_type,
                        "version": "5.3",
                        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": content_,
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )

    def receive(self, msg_type: str, content_: dict, msg_id: str, deadline: float) -> dict:
        """The next message; connects again after a dropped connection or a restarted kernel."""
        import websocket

        while True:
            if time.monotonic() > deadline:
                raise SessionFailed(f"the kernel did not answer {msg_type} in time")
            self.socket.settimeout(min(30.0, max(1.0, deadline - time.monotonic())))
            try:
                raw = self.socket.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except websocket.WebSocketConnectionClosedException:
                raw = ""
            message = json.loads(raw) if raw else None
            state = message["content"].get("execution_state") if message and message["msg_type"] == "status" else None
            if state == "dead":
                raise SessionFailed("the kernel died: the server gave up restarting it")
            if message and state != "restarting":
                return message
            if message:
                self.restarts += 1
                if msg_type != "kernel_info_request":
                    raise SessionFailed(f"the kernel restarted while running a cell ({msg_type})")
            else:
                self.reconnects += 1
                if self.reconnects > self.RECONNECTS:
                    raise SessionFailed(f"the kernel's connection dropped {self.reconnects} times")
            self.socket.close()
            self.connect()
            if msg_type == "kernel_info_request":
                self.send(msg_type, content_, msg_id)

    def request(self, msg_type: str, content_: dict, patience: float | None = None) -> tuple:
        """Send a shell request; (reply content, what it printed or displayed) once the kernel is idle again.
        SessionFailed if that takes more than `patience` seconds (default: the session's timeout)."""
        msg_id = uuid.uuid4().hex
        self.send(msg_type, content_, msg_id)
        reply, idle, shown = None, False, []
        deadline = time.monotonic() + (patience or self.timeout)
        while reply is None or not idle:
            message = self.receive(msg_type, content_, msg_id, deadline)
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, body = message["msg_type"], message["content"]
            if message["channel"] == "shell":
                reply = body
            elif kind == "status":
                idle = body["execution_state"] == "idle"
            elif kind == "stream":
                shown.append(body["text"])
            elif kind in ("execute_result", "display_data"):
                shown.append(body["data"].get("text/plain", ""))
            elif kind == "error":
                shown.append("\n".join(body["traceback"]))
        return reply, "".join(shown)

    def run(self, code: str) -> tuple:
        """Run a cell; (its execution count, what it printed). SessionFailed if it raised."""
        reply, shown = self.request(
            "execute_request",
            {
                "code": code,
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
        )
        if reply["status"] != "ok":
            raise SessionFailed(f"a cell raised {reply.get('ename')}: {reply.get('evalue')}\n{shown[-2000:]}")
        return reply["execution_count"], shown

    def close(self) -> None:
        self.socket.close()


ANSWER = """\
_widget = Out[{count}]
_widget.answer_input.set_value(__import__("json").loads({value!r}))
print(_widget.status.value)
"""
SAVED_ANSWERS = (
    "from ketamine_course.storage import answer_store as _store\n"
    "print(__import__('json').dumps(_store.read_store().answers))"
)


@dataclass
class Participant:
    """One participant's session: HTTP to the hub and their server, the websocket to their kernels."""

    base: str
    name: str
    password: str
    timeout: float = 600
    seconds: dict = field(default_factory=dict)  # step -> seconds since pressing Sign in
    spawn_refusals: int = 0  # times the hub answered 429 (too many servers starting) and asked to retry
    spawn_wait: float = 0.0  # seconds spent waiting as the hub asked (Retry-After) before trying again
    error: str = ""
    cpu_at_usable: float = 0.0  # CPU-seconds of the account's processes when Start here's kernel answered
    reopened: int = 0  # notebooks closed and opened again because their kernel never answered
    kernels: list = field(default_factory=list)

    def __post_init__(self):
        import requests
        from urllib3.util.retry import Retry

        self.http = requests.Session()
        # As a browser does, send a request again once when a kept-alive connection turns out closed
        # (the proxy closes idle ones after a few seconds) and when a connection cannot be made. A 429
        # (the hub's spawn limit) comes back as it is: `log_in` waits as it asks, then tries again.
        retry = Retry(
            total=2,
            connect=2,
            read=1,
            status=0,
            other=0,
            allowed_methods=None,
            backoff_factor=0.5,
            respect_retry_after_header=False,
        )
        self.http.mount("http://", requests.adapters.HTTPAdapter(max_retries=retry))
        self.http.mount("https://", requests.adapters.HTTPAdapter(max_retries=retry))
        self.token = ""
        self.started = 0.0

    # -- the hub
    def log_in(self) -> None:
        """Sign in on the hub's page; the hub starts the server (the browser follows the same redirects)."""
        self.http.get(f"{self.base}/hub/login", timeout=self.timeout).raise_for_status()
        self.started = time.monotonic()
        reply = self.http.post(
            f"{self.base}/hub/login",
            allow_redirects=False,
            timeout=self.timeout,
            data={
                "username": self.name,
                "password": self.password,
                "_xsrf": self.http.cookies.get("_xsrf", path="/hub/"),
            },
        )
        if reply.status_code != 302:
            raise SessionFailed(f"login refused ({reply.status_code})")
        self.mark("logged in")
        token = self.http.post(
            f"{self.base}/hub/api/users/{self.name}/tokens",
            timeout=self.timeout,
            json={"note": "workshop load test", "expires_in": 7200},
            headers={"X-XSRFToken": self.http.cookies.get("_xsrf", path="/hub/")},
        )
        token.raise_for_status()
        self.token = token.json()["token"]
        page = self.http.get(self.base + reply.headers["Location"], timeout=self.timeout)
        while page.status_code == 429:  # the hub's concurrent-spawn limit: wait as told, then reload
            self.spawn_refusals += 1
            wait = float(page.headers.get("Retry-After", 30))
            self.spawn_wait += wait
            time.sleep(wait)
            page = self.http.get(f"{self.base}/hub/spawn/{self.name}", timeout=self.timeout)
        page.raise_for_status()
        self.wait_for_server()
        self.mark("server ready")
        # JupyterLab's page, after the OAuth round trip through the hub that gives the browser its server's cookie
        self.http.get(f"{self.base}/user/{self.name}/lab", timeout=self.timeout).raise_for_status()

    def wait_for_server(self) -> None:
        deadline = self.started + self.timeout
        while time.monotonic() < deadline:
            model = self.hub_api("GET", f"users/{self.name}").json()
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                return
            if not server and not model.get("pending"):
                raise SessionFailed("the hub's spawn of the server failed (see the hub's log)")
            time.sleep(0.5)
        raise SessionFailed(f"no server after {self.timeout:.0f} s")

    def authorised(self, method: str, url: str, **kwargs):
        """A request with the participant's API token; HTTPError unless it succeeded."""
        reply = self.http.request(
            method, url, timeout=self.timeout, headers={"Authorization": f"token {self.token}"}, **kwargs
        )
        reply.raise_for_status()
        return reply

    def hub_api(self, method: str, path: str, **kwargs):
        return self.authorised(method, f"{self.base}/hub/api/{path}", **kwargs)

    # -- their own server
    def api(self, method: str, path: str, **kwargs):
        return self.authorised(method, f"{self.base}/user/{self.name}/{path}", **kwargs)

    def open_notebook(self, path: str) -> Kernel:
        """Open a notebook as JupyterLab does: a session, whose kernel runs in the notebook's folder.

        A kernel that has not answered after KERNEL_PATIENCE seconds, or that its server gave up, is given
        up as a participant would: the notebook is closed (its kernel shut down) and opened again, once.
        """
        import requests

        for attempt in (1, 2):
            session = self.api(
                "POST",
                "api/sessions",
                json={"path": path, "name": Path(path).name, "type": "notebook", "kernel": {"name": "python3"}},
            ).json()
            ws_base = self.base.replace("http", "ws", 1)
            kernel = None
            try:
                kernel = Kernel(
                    f"{ws_base}/user/{self.name}/api/kernels/{session['kernel']['id']}/channels",
                    self.token,
                    self.timeout,
                )
                self.kernels.append(kernel)
                kernel.request("kernel_info_request", {}, patience=KERNEL_PATIENCE)
                return kernel
            except SessionFailed:
                if kernel is not None:
                    kernel.close()
                if attempt == 2:
                    raise
                with contextlib.suppress(requests.HTTPError):  # gone already when the server gave the kernel up
                    self.api("DELETE", f"api/sessions/{session['id']}")
                self.reopened += 1
        raise AssertionError("unreachable")

    def assignments(self, action: str = "", **data) -> set:
        """nbgrader's Assignment List: list, fetch or submit in the participant's own server; then
        {(assignment, status)} as the list shows them."""
        if action:
            listed = self.api("POST", f"assignments/{action}", data={"course_id": COURSE_ID, **data}).json()
        else:
            listed = self.api("GET", "assignments", params={"course_id": COURSE_ID}).json()
        if not listed.get("success"):
            raise SessionFailed(f"Assignment List {action or 'list'}: {str(listed.get('value'))[-1500:]}")
        return {(entry["assignment_id"], entry["status"]) for entry in listed["value"]}

    def mark(self, step: str) -> None:
        self.seconds[step] = time.monotonic() - self.started

    # -- a whole session
    def arrive(self, uid: int) -> None:
        """Log in and wait until JupyterLab would show Start here with its kernel ready."""
        self.log_in()
        self.open_notebook(START_HERE)
        self.mark("usable")
        self.cpu_at_usable = cpu_seconds(processes_of(uid))

    def work(self, assignment: str, answers: dict) -> None:
        """Fetch, run every cell, answer every graded item through its widget in the kernel, check, submit."""
        notebook_name = f"{fixture(assignment)['notebook']}.ipynb"
        path = f"{assignment}/{notebook_name}"
        if (assignment, "released") not in self.assignments():
            raise SessionFailed(f"{assignment} is not in the Assignment List")
        if (assignment, "fetched") not in self.assignments("fetch", assignment_id=assignment):
            raise SessionFailed(f"{assignment} was not fetched")
        self.mark("fetched")
        notebook = self.api("GET", f"api/contents/{path}", params={"content": 1}).json()["content"]
        kernel = self.open_notebook(path)
        counts = {}
        for cell in notebook["cells"]:  # Run All
            if cell["cell_type"] == "code":
                count, _ = kernel.run("".join(cell["source"]))
                counts[cell["metadata"].get("nbgrader", {}).get("grade_id")] = count
        self.mark("ran all cells")
        for item_id, value in answers.items():
            count = counts.get(item_id.replace(".", "_") + "_answer")
            if count is None:
                raise SessionFailed(f"no answer cell for {item_id} in {path}")
            _, shown = kernel.run(ANSWER.format(count=count, value=json.dumps(value)))
            if "Saved." not in shown:
                raise SessionFailed(f"{item_id} was not saved: {shown.strip()[:300]}")
        _, shown = kernel.run(SAVED_ANSWERS)
        if json.loads(shown) != answers:
            raise SessionFailed(f"the answer store holds {shown.strip()[:500]}, not the answers given")
        self.mark("answered")
        if (assignment, "submitted") not in self.assignments("submit", assignment_id=assignment):
            raise SessionFailed(f"{assignment} was not submitted")
        self.mark("submitted")

    def close(self) -> None:
        for kernel in self.kernels:
            kernel.close()
        self.http.close()


# ---------------------------------------------------------------- a class at once


@dataclass
class ClassRun:
    assignment: str
    expected_score: float
    participants: list  # Participant, with their times and any error
    release_seconds: float = 0.0
    collect_seconds: float = 0.0
    grade_seconds: float = 0.0
    hub_start_seconds: float = 0.0
    arrival_seconds: float = 0.0  # first Sign in to the last Start here kernel ready
    session_seconds: float = 0.0  # first Sign in to the last submission
    hub_cpu_arrival: float = 0.0  # CPU-seconds of hub, proxy and culler over the arrival
    hub_cpu_session: float = 0.0
    machine_busy_arrival: float = 0.0  # CPU-seconds of every program on the machine over the arrival
    hub_pss: int = 0
    memory: dict = field(default_factory=dict)  # participant -> Memory, all servers running, two notebooks each
    account_cpu: dict = field(default_factory=dict)  # participant -> CPU-seconds of the whole session
    inbound: int = 0  # submissions in the exchange
    collected: list = field(default_factory=list)  # participants whose submission the instructor collected
    scores: dict = field(default_factory=dict)  # participant -> automatic score in the gradebook
    grade_summary: str = ""
    hub_log: Path | None = None  # a copy of the hub's log (the servers' too) when a session failed or reconnected
    kernel_transports: set = field(default_factory=set)
    release_error: str = ""  # how the running kernels talk to their servers

    @property
    def reconnects(self) -> int:
        """Times a kernel's websocket dropped and was connected again (as JupyterLab would)."""
        return sum(kernel.reconnects for p in self.participants for kernel in p.kernels)

    @property
    def restarts(self) -> int:
        """Times the server restarted a kernel (it died, or could not bind its ports) and it was connected again."""
        return sum(kernel.restarts for p in self.participants for kernel in p.kernels)

    @property
    def reopened(self) -> int:
        """Notebooks closed and opened again because their kernel never answered."""
        return sum(p.reopened for p in self.participants)

    @property
    def failed(self) -> dict:
        return {p.name: p.error for p in self.participants if p.error}

    def lost(self) -> list:
        """What did not arrive: each line a participant or count that is not as it should be."""
        names = [p.name for p in self.participants]
        problems = [f"{name}: {error}" for name, error in self.failed.items()]
        problems += [f"the release failed: {self.release_error}"] if self.release_error else []
        if self.inbound != len(names):
            problems.append(f"{self.inbound} submissions in the exchange for {len(names)} participants")
        problems += [f"{name}: not collected" for name in names if name not in self.collected]
        problems += [f"{name}: no grade" for name in names if self.scores.get(name) is None]
        problems += [
            f"{name}: scored {self.scores[name]} of {self.expected_score}"
            for name in names
            if self.scores.get(name) is not None and abs(self.scores[name] - self.expected_score) > 1e-9
        ]
        return problems


def _timed(call) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def _busy_cpu_seconds() -> float:
    import psutil

    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def run_class(
    workshop: Workshop, assignment: str = "ps0_start_here", timeout: float = 600, release_first: bool = True
) -> ClassRun:
    """Release `assignment`, let every participant arrive and work at once, then collect and grade.

    With `release_first` the instructor releases before anyone signs in (the arrival is measured on its
    own); otherwise while the class signs in, as in a session, and each participant fetches once it is out.
    """
    facts = fixture(assignment)
    answers = {item.id: facts["right"][item.id] for item in content.assessments()[assignment].items}
    participants = [
        Participant(workshop.url, name, workshop.passwords[name], timeout) for name in workshop.participants
    ]
    run = ClassRun(assignment, float(facts["auto_points"]), participants, hub_start_seconds=workshop.start_seconds)
    released = threading.Event()

    def release() -> None:
        try:
            run.release_seconds = _timed(
                lambda: (
                    workshop.as_instructor("-m", "nbgrader", "generate_assignment", assignment, "--force"),
                    workshop.as_instructor("-m", "nbgrader", "release_assignment", assignment),
                )
            )
        except Exception as exc:  # reported with what was lost; the participants find nothing to fetch
            run.release_error = str(exc)[-1500:]
        finally:
            released.set()

    releasing = threading.Thread(target=release, daemon=True)
    if release_first:
        release()
    uids = {name: workshop.uid(name) for name in workshop.participants}
    hub = hub_processes(workshop.settings)
    go = threading.Event()  # everyone presses Sign in at the same moment
    arrived = {participant.name: threading.Event() for participant in run.participants}

    def session(participant: Participant) -> None:
        go.wait()
        try:
            try:
                participant.arrive(uids[participant.name])
            finally:
                arrived[participant.name].set()
            released.wait(timeout=timeout)
            participant.work(assignment, answers)
        except Exception as exc:  # one participant's failure is reported; the others carry on
            reached = list(participant.seconds)[-1] if participant.seconds else "signing in"
            participant.error = f"after {reached}: {type(exc).__name__}: {str(exc)[:300]}"

    threads = [threading.Thread(target=session, args=(p,), daemon=True) for p in run.participants]
    for thread in threads:
        thread.start()
    hub_cpu, busy = cpu_seconds(hub), _busy_cpu_seconds()
    started = time.monotonic()
    go.set()
    if not release_first:
        releasing.start()
    for event in arrived.values():
        event.wait(timeout=max(0.0, started + timeout - time.monotonic()))
    run.arrival_seconds = time.monotonic() - started
    run.hub_cpu_arrival = cpu_seconds(hub) - hub_cpu
    run.machine_busy_arrival = _busy_cpu_seconds() - busy
    for thread in [*threads, releasing] if not release_first else threads:
        thread.join(timeout=timeout)
    run.session_seconds = time.monotonic() - started
    run.hub_cpu_session = cpu_seconds(hub) - hub_cpu
    run.hub_pss = hub_memory(workshop.settings)
    log = workshop.settings.state / "jupyterhub.log"
    if (run.failed or run.reconnects or run.restarts or run.reopened) and log.exists():
        run.hub_log = ARTIFACTS / f"workshop-load-{workshop.prefix}.log"
        run.hub_log.parent.mkdir(exist_ok=True)
        shutil.copyfile(log, run.hub_log)
    run.kernel_transports = {transport for uid in uids.values() for transport in kernel_transports(uid)}
    for participant in run.participants:
        run.memory[participant.name] = account_memory(uids[participant.name])
        run.account_cpu[participant.name] = cpu_seconds(processes_of(uids[participant.name]))
        participant.close()

    inbound = workshop.settings.exchange / COURSE_ID / "inbound"
    run.inbound = sum(1 for entry in inbound.iterdir() if f"+{assignment}+" in entry.name) if inbound.is_dir() else 0
    run.collect_seconds = _timed(lambda: workshop.as_instructor("-m", "nbgrader", "collect", assignment))
    submitted = workshop.settings.grading / "submitted"
    run.collected = sorted(name for name in workshop.participants if (submitted / name / assignment).is_dir())
    grading = {}  # grade-cohort ends with 1 when a submission fails to grade: the scores below show which
    run.grade_seconds = _timed(
        lambda: grading.update(
            result=workshop.as_instructor("-m", "ketamine_course.cli", "grade-cohort", assignment, check=False)
        )
    )
    run.grade_summary = (grading["result"].stdout.strip() or grading["result"].stderr.strip()).splitlines()[-1]
    run.scores = gradebook_scores(workshop.settings.grading, assignment, facts["notebook"], workshop.participants)
    return run


def kernel_transports(uid: int) -> list:
    """ "tcp" or "ipc" for each kernel the account runs, from the connection file its server gave it."""
    import psutil

    found = []
    for process in processes_of(uid):
        try:
            command = process.cmdline()
        except psutil.Error:
            continue
        if "-f" in command[:-1] and "ipykernel_launcher" in " ".join(command):
            connection = Path(command[command.index("-f") + 1])
            found.append(json.loads(connection.read_text())["transport"])
    return found


def gradebook_scores(grading: Path, assignment: str, notebook: str, students: list) -> dict:
    """Each student's score for the notebook in the instructors' gradebook (None when not graded)."""
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(f"sqlite:///{grading / 'gradebook.db'}") as gradebook:
        for student in students:
            try:
                scores[student] = gradebook.find_submission_notebook(notebook, assignment, student).score
            except MissingEntry:
                scores[student] = None
    return scores


def median_mb(memories, kind: str = "pss") -> float:
    return statistics.median(getattr(m, kind) for m in memories) / 2**20
