"""Autograding a cohort: seconds per notebook across every assignment, and the share that is kernel start-up.

    .venv/bin/python bench/bench_cohort_autograde.py [--students 200] [--kernel-every 10]

Builds a scratch course. For every assignment in solutions/, and for a baseline assignment whose
notebook is one `assert True` grade cell, it submits N students whose answer files hold the right
answers (written as the widgets write them), then autogrades them one by one with nbgrader's API in
this process (a kernel started and stopped for every notebook, as grade-cohort did before its kernel
pool; bench_pool_grader.py measures the pool), timing every notebook.
Separately, in the same process and interleaved with the grading (one after every K notebooks, so
both meet the same load), it starts a python3 kernel, waits until it answers and shuts it down
(jupyter_client), to show how much of a notebook's time is kernel start-up.
Prints medians, totals and ratios; with fewer than 200 students it also extrapolates to 200, and
says so. No assertion on time: machines differ, and a shared machine slows every figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from bench_autograde import baseline_assignment  # noqa: E402

from ketamine_course.instructor import cohort  # noqa: E402
from ketamine_course.runtime import console_progress, nbgrader  # noqa: E402
from ketamine_course.storage import answer_store  # noqa: E402

from conftest import copy_course  # noqa: E402
from conftest import nbgrader as run_nbgrader  # noqa: E402

FULL_COHORT = 200


def submit_cohort(course: Path, assignment: str, notebook: str, students: list, answers: dict) -> None:
    run_nbgrader(course, "generate_assignment", assignment, "--force")
    released = course / "assignments" / assignment / f"{notebook}.ipynb"
    for student in students:
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        folder.joinpath(f"{notebook}.ipynb").write_bytes(released.read_bytes())
        for item_id, value in answers.items():
            answer_store.save_answer(item_id, value, folder)


def kernel_start_stop() -> float:
    """Seconds to start a python3 kernel, wait until it answers, and shut it down gracefully (as nbclient does)."""
    from jupyter_client.manager import start_new_kernel

    start = time.perf_counter()
    manager, client = start_new_kernel(kernel_name="python3")
    client.stop_channels()
    manager.shutdown_kernel(now=False)
    return time.perf_counter() - start


def autograde_times(api, assignment: str, students: list, kernel_every: int, kernel: list) -> list:
    """Seconds per notebook, one student at a time as grade-cohort does; a kernel timing every few notebooks."""
    seconds = []
    with console_progress.bar(total=len(students), unit="student", desc=f"Autograding {assignment}") as bar:
        for n, student in enumerate(students):
            start = time.perf_counter()
            failure = cohort.autograde_student(api, assignment, student)
            seconds.append(time.perf_counter() - start)
            if failure:
                raise SystemExit(f"{assignment}/{student} failed to autograde: {failure[0]}")
            if n % kernel_every == 0:
                kernel.append(kernel_start_stop())
            bar.update(1)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=FULL_COHORT)
    parser.add_argument("--kernel-every", type=int, default=10, help="one kernel timing after every K notebooks")
    args = parser.parse_args()
    students = [f"s{n:03d}" for n in range(args.students)]
    fixtures = {
        f["assignment"]: f
        for f in (yaml.safe_load(p.read_text()) for p in sorted((REPO / "tests/fixtures/assignments").glob("*.yaml")))
    }
    assignments = sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir() and p.name in fixtures)
    missing = sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir() and p.name not in fixtures)
    timer = console_progress.Timer()
    with tempfile.TemporaryDirectory() as tmp:
        course = copy_course(Path(tmp) / "course")
        baseline_assignment(course)
        submit_cohort(course, "baseline", "baseline", students, {})
        for name in assignments:
            submit_cohort(course, name, fixtures[name]["notebook"], students, fixtures[name]["right"])
        with nbgrader.in_course(course):
            api = nbgrader.api(course)
            kernel_start_stop()  # warm-up: the first start reads the kernelspec and fills caches
            kernel = []
            baseline = autograde_times(api, "baseline", students, args.kernel_every, kernel)
            per_assignment = {
                name: autograde_times(api, name, students, args.kernel_every, kernel) for name in assignments
            }
    every = [s for times in per_assignment.values() for s in times]
    kernel_median, baseline_median, course_median = (
        statistics.median(kernel),
        statistics.median(baseline),
        statistics.median(every),
    )
    total = sum(every)

    print(
        f"students per assignment: {args.students}; assignments: {', '.join(assignments)}"
        + (f" (no fixture students, skipped: {', '.join(missing)})" if missing else "")
    )
    print(
        f"kernel start + shutdown (jupyter_client, median of {len(kernel)}, interleaved with the grading): "
        f"{kernel_median:.2f} s"
    )
    print(
        f"baseline notebook (one 'assert True' cell): median {baseline_median:.2f} s per notebook; "
        f"kernel start-up is {kernel_median / baseline_median:.0%} of it"
    )
    for name, times in per_assignment.items():
        median = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1] if len(times) > 1 else times[0]
        print(
            f"{name}: median {median:.2f} s per notebook (p90 {p90:.2f} s), "
            f"total {console_progress.duration(sum(times))}, ratio to baseline {median / baseline_median:.2f}, "
            f"kernel start-up {kernel_median / median:.0%}"
        )
    print(
        f"course notebooks: median {course_median:.2f} s per notebook; ratio to baseline "
        f"{course_median / baseline_median:.2f}; kernel start-up {kernel_median / course_median:.0%} of a notebook, "
        f"the course's own cells {max(0.0, course_median - baseline_median) / course_median:.0%}"
    )
    print(
        f"autograding {args.students} students x {len(assignments)} assignments: {len(every)} notebooks in "
        f"{console_progress.duration(total)} ({console_progress.duration(total / len(assignments))} per assignment)"
    )
    if args.students != FULL_COHORT:
        scale = FULL_COHORT / args.students
        print(
            f"extrapolated, not measured: {FULL_COHORT} students x {len(assignments)} assignments would take about "
            f"{console_progress.duration(total * scale)} at this rate"
        )
    print(f"whole benchmark (set-up included): {console_progress.duration(timer.elapsed)}")


if __name__ == "__main__":
    main()
