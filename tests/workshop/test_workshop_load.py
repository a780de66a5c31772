"""The workshop server under load, small: four participants sign in at the same moment and nothing is lost.

The class of bench/bench_workshop_load.py (tests/load_client.py), with four participants: the workshop
server started with real Unix accounts, every participant signing in at once through the hub's login
page, their server spawning, Start here's kernel starting, the assignment fetched from the Assignment
List, every graded item answered through its widget in the running kernel, and submitted; the
instructor collects and runs `ketamine-course grade-cohort`. Every submission arrives, is collected and
graded, and scores the fixture's automatic points; the participants' kernels talk to their servers over
IPC sockets, never TCP ports. Times and memory are printed, not asserted. Accounts (random prefix),
their processes, homes and groups are removed at the end, also when the test fails. Needs Linux, root,
useradd and Node.js; skipped otherwise.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from pathlib import Path

import pytest
from load_client import Workshop, fixture, median_mb, run_class
from workshop_server import machine_problem

from ketamine_course.workshop.people import account

pytestmark = [pytest.mark.kernel, pytest.mark.nbgrader]

ASSIGNMENT = "ps0_start_here"
PARTICIPANTS = 4


@pytest.fixture
def scratch():
    if problem := machine_problem():
        pytest.skip(problem)
    root = Path(tempfile.mkdtemp(prefix="kc-load-"))
    root.chmod(0o711)  # accounts pass through to their homes and the course copy, never list it
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_class_signing_in_at_once_loses_no_submission_and_no_grade(scratch):
    workshop = Workshop(scratch, PARTICIPANTS)
    with workshop:
        run = run_class(workshop, ASSIGNMENT, timeout=300, release_first=False)
    assert [name for name in workshop.names if account(name) is not None] == [], "accounts are removed"

    assert run.failed == {}, f"{run.failed}; the hub's log: {run.hub_log}"
    assert run.inbound == PARTICIPANTS, "every submission reached the exchange"
    assert run.collected == sorted(workshop.participants), "the instructor collected every submission"
    assert run.scores == {name: fixture(ASSIGNMENT)["auto_points"] for name in workshop.participants}
    assert run.lost() == []
    assert f"Autograded {PARTICIPANTS} of {PARTICIPANTS} students" in run.grade_summary
    assert run.kernel_transports == {"ipc"}, "kernels on IPC sockets: no TCP port to collide on"

    usable = [p.seconds["usable"] for p in run.participants]
    print(
        f"\n{PARTICIPANTS} participants at once: usable server after median {statistics.median(usable):.1f} s "
        f"(max {max(usable):.1f} s); memory per participant {median_mb(run.memory.values()):.0f} MB PSS; "
        f"hub CPU {run.hub_cpu_arrival:.1f} s while they arrived; collect {run.collect_seconds:.1f} s, "
        f"grade-cohort {run.grade_seconds:.1f} s"
    )
