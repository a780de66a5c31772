"""The workshop server under load: a class of real accounts logging in at once on this machine.

    sudo .venv/bin/python bench/bench_workshop_load.py [--participants 30] [--assignment ps0_start_here]
                                                       [--class-size N]

Starts the workshop server (`ketamine-course workshop start`) on free ports with N participant
accounts and one instructor (random prefix), from the course and its environment, or a copy of them
that every account can read (tests/shared_course.py). The instructor releases the assignment; then every participant signs in at the
same moment through the hub's login page (HTTP, no browser), their server spawns, and each opens
Start here (a kernel), fetches the assignment from nbgrader's Assignment List in their own server,
runs every cell, answers every graded item through its widget in the running kernel (so the widget
saves it to the answer store as a click does), and submits. The instructor collects and grades the
class (`nbgrader collect`, `ketamine-course grade-cohort`), and the bench checks that nothing was
lost: N submissions, N grades, each the fixture's automatic points.

Prints the time to a usable server (median and p95), memory per participant, the hub's CPU, and
from these the class size a 2-core, 24 GB machine holds and what a bigger machine or the
Kubernetes recipe (workshop/kubernetes/config.yaml) changes. Nothing about time is asserted: a
shared machine slows every figure. `--class-size` starts the hub for another class size than the
number of participants (`workshop start --class-size`: servers spawning at once, and how long the hub
waits for each).
Accounts, groups, the hub and the scratch folder are removed at the end, also after a failure or
Ctrl-C. Needs Linux, root, useradd and Node.js.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from load_client import KERNEL_PATIENCE, Workshop, median_mb, run_class  # noqa: E402
from workshop_server import machine_problem  # noqa: E402

MACHINE_GB = 24  # the machine the class size is worked out for
MACHINE_CORES = 2
KEPT_FOR_SYSTEM_GB = 2
WAIT_SECONDS = 120  # a class that logs in together should all be working within this


def spread(values, unit="s") -> str:
    return (
        f"median {statistics.median(values):.1f} {unit}, p95 {percentile(values, 0.95):.1f} {unit}, "
        f"max {max(values):.1f} {unit}"
    )


def step_seconds(participants, start: str, end: str) -> list:
    return [p.seconds[end] - p.seconds[start] for p in participants if end in p.seconds and start in p.seconds]


def kubernetes_resources() -> dict:
    values = yaml.safe_load((REPO / "workshop" / "kubernetes" / "config.yaml").read_text())
    return values["singleuser"]


def megabytes(quantity: str) -> float:
    """A Kubernetes memory quantity ('384M', '1G', '512Mi') in MiB."""
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "K": 1e3 / 2**20, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    for suffix in sorted(units, key=len, reverse=True):
        if quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * units[suffix]
    return float(quantity) / 2**20


def percentile(values, share: float) -> float:
    """The value below which `share` (0..1) of `values` lie, interpolated; the value itself for one."""
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def report(run, participants: int, limit: int, load_before: tuple, load_after: tuple) -> None:
    ok = [p for p in run.participants if not p.error]
    import psutil

    print(
        f"\nWorkshop server under load: {participants} participants signing in at once "
        f"(this machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GB; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after; measured, not asserted)"
    )
    print(
        f"  hub started in {run.hub_start_seconds:.1f} s; the instructor released {run.assignment} in "
        f"{run.release_seconds:.1f} s (generate_assignment and release_assignment)"
    )
    if ok:
        print(f"  Sign in to the server ready:                     {spread([p.seconds['server ready'] for p in ok])}")
        print(f"  Sign in to a usable server (Start here's kernel): {spread([p.seconds['usable'] for p in ok])}")
        refused = [p for p in run.participants if p.spawn_refusals]
        if refused:
            print(
                f"  the hub's concurrent-spawn limit ({limit} servers starting at a time) turned away "
                f"{len(refused)} of {participants} ({sum(p.spawn_refusals for p in refused)} refusals in all); they "
                f"waited as told (Retry-After) and tried again: {spread([p.spawn_wait for p in refused])} of waiting"
            )
        else:
            print(f"  the hub's concurrent-spawn limit ({limit} servers starting at a time) turned nobody away")
        print(
            f"  all {len(ok)} usable {run.arrival_seconds:.0f} s after the first Sign in; all submitted after "
            f"{run.session_seconds:.0f} s"
        )
        print(
            f"  per participant: fetch {statistics.median(step_seconds(ok, 'usable', 'fetched')):.1f} s, "
            f"Run All {statistics.median(step_seconds(ok, 'fetched', 'ran all cells')):.1f} s, answer every item "
            f"{statistics.median(step_seconds(ok, 'ran all cells', 'answered')):.1f} s, submit "
            f"{statistics.median(step_seconds(ok, 'answered', 'submitted')):.1f} s (medians)"
        )
    memories = [memory for memory in run.memory.values() if memory.processes]  # those who got a server
    if not memories:
        print("  no participant got a server: see the hub's log")
        return
    pss, rss = median_mb(memories), median_mb(memories, "rss")
    print(
        f"  memory per participant, every server running, Start here and the assignment open: PSS {pss:.0f} MB, "
        f"RSS {rss:.0f} MB, {statistics.median(m.processes for m in memories):.0f} processes (medians); "
        f"the class: {sum(m.pss for m in memories) / 2**30:.1f} GB PSS"
    )
    login_cpu = statistics.median(p.cpu_at_usable for p in ok) if ok else 0.0
    session_cpu = statistics.median(run.account_cpu.values())
    print(
        f"  CPU per participant: {login_cpu:.1f} s to a usable server, {session_cpu:.1f} s for the whole session "
        f"(medians, their own processes)"
    )
    hub_per_login = run.hub_cpu_arrival / participants
    print(
        f"  the hub, proxy and culler: PSS {run.hub_pss / 2**20:.0f} MB; CPU {run.hub_cpu_arrival:.1f} s while the "
        f"class arrived ({100 * run.hub_cpu_arrival / run.arrival_seconds:.0f}% of one core; {hub_per_login:.2f} s a "
        f"login), {run.hub_cpu_session:.1f} s for the whole session"
    )
    available = run.arrival_seconds * os.cpu_count()
    own = sum(p.cpu_at_usable for p in ok) + run.hub_cpu_arrival
    others = max(0.0, run.machine_busy_arrival - own)
    print(
        f"  while the class arrived the machine's cores were {100 * run.machine_busy_arrival / available:.0f}% busy: "
        f"the class and the hub {100 * own / available:.0f}%, other programs {100 * others / available:.0f}%"
    )
    print(
        f"  instructor: collect {run.collect_seconds:.1f} s, grade-cohort {run.grade_seconds:.1f} s "
        f"({run.grade_summary})"
    )
    lost = run.lost()
    scored = sum(1 for score in run.scores.values() if score == run.expected_score)
    print(
        f"  nothing lost: {run.inbound} submissions in the exchange, {len(run.collected)} collected, "
        f"{sum(s is not None for s in run.scores.values())} graded, {scored} of {participants} scored "
        f"{run.expected_score:g} of {run.expected_score:g}" + ("" if not lost else "; LOST: " + "; ".join(lost))
    )
    print(f"  kernels talked to their servers over: {', '.join(sorted(run.kernel_transports)) or 'none seen'}")
    if run.reconnects or run.restarts or run.reopened:
        print(
            f"  kernels: {run.restarts} restarted by their server (dead, or their ports taken) and {run.reconnects} "
            f"websocket(s) dropped, each connected again as JupyterLab does; {run.reopened} notebook(s) whose kernel "
            f"never answered closed and opened again after {KERNEL_PATIENCE} s, as a participant would"
        )
    if run.hub_log:
        print(f"  the hub's log, with the servers': {run.hub_log}")

    # What one machine holds, from these figures
    hub_gb = run.hub_pss / 2**30
    by_memory = int((MACHINE_GB - KEPT_FOR_SYSTEM_GB - hub_gb) * 1024 // pss)
    per_login = login_cpu + hub_per_login
    in_step = int(WAIT_SECONDS * MACHINE_CORES // per_login) if per_login else 0
    logins_per_minute = 60 * MACHINE_CORES / per_login if per_login else 0
    hub_ceiling = 60 / hub_per_login if hub_per_login else float("inf")
    print(f"\nOne {MACHINE_CORES}-core, {MACHINE_GB} GB machine, from these figures:")
    print(
        f"  memory: ({MACHINE_GB} GB - {KEPT_FOR_SYSTEM_GB} GB for the system - the hub) / {pss:.0f} MB = about "
        f"{by_memory} participants with two notebooks open (each further open notebook adds a kernel)"
    )
    measured_rate = 60 * len(ok) / run.arrival_seconds
    print(
        f"  CPU: a login costs {per_login:.1f} CPU-seconds (server, Start here's kernel, the hub's share), so "
        f"{MACHINE_CORES} cores alone start about {logins_per_minute:.0f} people a minute: {in_step} within "
        f"{WAIT_SECONDS // 60} minutes of a class logging in together"
    )
    print(
        f"  measured here: {len(ok)} logging in together were all working after {run.arrival_seconds:.0f} s "
        f"({measured_rate:.0f} a minute, other programs sharing the cores and the spawn limit's waits included): "
        f"{int(measured_rate * WAIT_SECONDS / 60)} within {WAIT_SECONDS // 60} minutes at that pace"
    )
    print(
        f"  so: a class of {min(int(measured_rate * WAIT_SECONDS / 60), by_memory)} to {min(in_step, by_memory)} "
        f"arriving together is working within {WAIT_SECONDS // 60} minutes; up to about {by_memory} if they arrive "
        "over time (a staggered start, or logged in beforehand)"
    )
    print(
        "A bigger machine: each further core starts about "
        f"{60 / per_login:.0f} more people a minute ({int(WAIT_SECONDS / per_login)} more in the "
        f"{WAIT_SECONDS // 60} minutes); each further GB holds about {1024 / pss:.1f} more participants. The hub is "
        f"one process on one core: at {hub_per_login:.2f} CPU-seconds a login it handles at most about "
        f"{hub_ceiling:.0f} logins a minute, whatever the machine."
    )
    pod = kubernetes_resources()
    guarantee = megabytes(str(pod["memory"]["guarantee"]))
    print(
        f"Kubernetes (workshop/kubernetes/config.yaml): each participant's server is a pod guaranteed "
        f"{pod['memory']['guarantee']} (measured {pss:.0f} MB PSS, {rss:.0f} MB RSS) and limited to "
        f"{pod['memory']['limit']} and {pod['cpu']['limit']} core, so a {MACHINE_GB} GB node takes about "
        f"{int((MACHINE_GB - KEPT_FOR_SYSTEM_GB) * 1024 // guarantee)} by its guarantee and the cluster adds nodes "
        "as the class grows; logins are then limited by the one hub (as above) and by how fast pods start "
        "(not measured here: no cluster), not by the cores of one machine."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=30)
    parser.add_argument("--assignment", default="ps0_start_here", help="one of tests/fixtures/assignments/")
    parser.add_argument("--timeout", type=float, default=900, help="seconds each participant may take")
    parser.add_argument("--class-size", type=int, help="the hub's class size (default: the participants)")
    args = parser.parse_args()
    problem = machine_problem()
    if problem:
        print(f"Cannot run: {problem}.", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up as after Ctrl-C
    scratch = Path(tempfile.mkdtemp(prefix="kc-load-"))
    scratch.chmod(0o711)  # the accounts pass through to their homes and the course copy, never list it
    try:
        limit = args.class_size or args.participants  # the hub's concurrent-spawn limit
        load_before = os.getloadavg()
        with Workshop(scratch, args.participants, "--class-size", str(limit)) as workshop:
            print(f"{args.participants} participants and an instructor ({workshop.prefix}*) on {workshop.url}")
            run = run_class(workshop, args.assignment, timeout=args.timeout)
            load_after = os.getloadavg()
        print("Hub stopped; accounts, homes and groups removed.")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report(run, args.participants, limit, load_before, load_after)
    return 1 if run.lost() else 0


if __name__ == "__main__":
    sys.exit(main())
