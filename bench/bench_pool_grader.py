"""grade-cohort on a kernel pool against stock `nbgrader autograde`: the same cohort, in the same run.

    .venv/bin/python bench/bench_pool_grader.py [--students 8] [--assignments 2] [--jobs N]
    .venv/bin/python bench/bench_pool_grader.py --students 200 --assignments 6     # the class of issue 17
    .venv/bin/python bench/bench_pool_grader.py --students 200 --assignments 6 --stock-sample 20

Builds a scratch course in which every student submits each chosen assignment with the right answers
(saved as the widgets save them), plus a baseline assignment whose notebook is one `assert True`
grade cell (the one-cell floor), and copies it, submissions and gradebook, to a second course.
Assignment by assignment, taking turns so that both meet the same load, it grades one course with
`nbgrader autograde ASSIGNMENT --force` and the other with `ketamine-course grade-cohort ASSIGNMENT
--jobs N`, each a process of its own as an instructor runs them; then checks that both gave every
submission the same score. Prints seconds per notebook (medians over the assignments), totals, the
speed-up and the machine's load, and the CPU seconds per notebook of each grader with its kernels
(start-up included), which other work on the machine changes much less than the wall-clock time.
With `--stock-sample N`, stock nbgrader grades only the first N students of the same cohort (the
whole class would take it most of an hour) and grade-cohort grades everyone, so grade-cohort's total is
measured and stock's is extrapolated. Stock's start-up (a few seconds a call) is then shared by fewer
notebooks, which raises its per-notebook time a little: with N=40, by about 0.1 s. Nothing is asserted
about time: machines differ, and a shared machine slows every figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from bench_autograde import baseline_assignment  # noqa: E402
from bench_cohort_autograde import submit_cohort  # noqa: E402

from ketamine_course.instructor.pool_grader import default_jobs  # noqa: E402
from ketamine_course.runtime import console_progress  # noqa: E402

from conftest import FIXTURES, copy_course, course_env, nbgrader  # noqa: E402

FULL_CLASS = (200, 6)  # students, assignments: the class the issue asks about


def children_cpu() -> float:
    """CPU seconds used so far by the commands this process ran and their kernels (all waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stock_seconds(course: Path, assignment: str) -> tuple:
    """(wall seconds, CPU seconds) of `nbgrader autograde ASSIGNMENT --force`."""
    start, cpu = time.perf_counter(), children_cpu()
    nbgrader(course, "autograde", assignment, "--force", timeout=24 * 3600)
    return time.perf_counter() - start, children_cpu() - cpu


def pool_seconds(course: Path, assignment: str, jobs: int) -> tuple:
    """(wall seconds, CPU seconds) of `ketamine-course grade-cohort ASSIGNMENT --force --jobs N`."""
    start, cpu = time.perf_counter(), children_cpu()
    result = subprocess.run(
        [sys.executable, "-m", "ketamine_course.cli", "grade-cohort", assignment, "--force", "--jobs", str(jobs)],
        cwd=course,
        env=course_env(KETAMINE_COURSE_ROOT=str(course)),
        capture_output=True,
        text=True,
        timeout=24 * 3600,
    )
    seconds, cpu = time.perf_counter() - start, children_cpu() - cpu
    if result.returncode != 0:
        raise SystemExit(f"grade-cohort {assignment} failed:\n{result.stdout}\n{result.stderr[-2000:]}")
    return seconds, cpu


def scores(course: Path) -> dict:
    from nbgrader.api import Gradebook

    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")
        return {(a.name, s.student.id): s.score for a in gb.assignments for s in a.submissions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--assignments", type=int, default=2, help="how many of the course's assignments (at most 6)")
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="grade-cohort's --jobs (default: the cores)")
    parser.add_argument("--stock-sample", type=int, default=None, help="stock nbgrader grades only this many students")
    args = parser.parse_args()
    students = [f"s{n:03d}" for n in range(args.students)]
    sampled = students[: args.stock_sample] if args.stock_sample else students
    assignments = sorted(FIXTURES)[: args.assignments]
    load_before = os.getloadavg()
    timer = console_progress.Timer()
    with tempfile.TemporaryDirectory() as tmp:
        stock = copy_course(Path(tmp) / "stock")
        baseline_assignment(stock)
        submit_cohort(stock, "baseline", "baseline", students, {})
        for name in assignments:
            submit_cohort(stock, name, FIXTURES[name]["notebook"], students, FIXTURES[name]["right"])
        pool = Path(shutil.copytree(stock, Path(tmp) / "pool", symlinks=True))
        for student in set(students) - set(sampled):
            shutil.rmtree(stock / "submitted" / student)
        times, cpu = {}, {}
        for turn, name in enumerate(["baseline", *assignments]):
            print(
                f"grading {name}: {len(sampled)} students with stock nbgrader, {len(students)} with grade-cohort "
                f"--jobs {args.jobs}",
                file=sys.stderr,
                flush=True,
            )
            if turn % 2:
                pooled, plain = pool_seconds(pool, name, args.jobs), stock_seconds(stock, name)
            else:
                plain, pooled = stock_seconds(stock, name), pool_seconds(pool, name, args.jobs)
            (plain, plain_cpu), (pooled, pooled_cpu) = plain, pooled
            times[name] = (plain / len(sampled), pooled / len(students))
            cpu[name] = (plain_cpu / len(sampled), pooled_cpu / len(students))
            print(
                f"  {name}: stock {plain:.1f} s ({plain_cpu:.1f} s CPU), grade-cohort {pooled:.1f} s "
                f"({pooled_cpu:.1f} s CPU); load {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
                flush=True,
            )
        stock_scores, pool_scores = scores(stock), scores(pool)
    load_after = os.getloadavg()

    differ = sorted(k for k in stock_scores if stock_scores[k] != pool_scores.get(k))
    pool_scores = {k: v for k, v in pool_scores.items() if k[1] in sampled}
    course_times = {name: times[name] for name in assignments}
    stock_median = statistics.median(t[0] for t in course_times.values())
    pool_median = statistics.median(t[1] for t in course_times.values())
    notebooks = len(students) * len(assignments)
    stock_total = sum(t[0] for t in course_times.values()) * len(students)
    pool_total = sum(t[1] for t in course_times.values()) * len(students)
    print(
        f"cohort: {len(students)} students x {len(assignments)} assignments ({', '.join(assignments)}), "
        f"{notebooks} notebooks; {os.cpu_count()} cores, grade-cohort --jobs {args.jobs}"
    )
    if sampled != students:
        print(
            f"stock nbgrader graded the first {len(sampled)} students of the cohort; its totals below are its "
            f"per-notebook time times {len(students)} students (extrapolated), grade-cohort's are measured"
        )
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (a shared machine slows every figure)")
    base_stock, base_pool = times["baseline"]
    print(
        f"one-cell floor ('assert True'): stock {base_stock:.2f} s per notebook, grade-cohort {base_pool:.2f} s "
        f"(x{base_stock / base_pool:.1f})"
    )
    for name, (plain, pooled) in course_times.items():
        print(
            f"{name}: stock {plain:.2f} s per notebook ({plain / base_stock:.1f} x its floor), grade-cohort "
            f"{pooled:.2f} s ({pooled / base_pool:.1f} x its floor): x{plain / pooled:.1f}"
        )
    print(
        f"median over the assignments: stock nbgrader autograde {stock_median:.2f} s per notebook, grade-cohort "
        f"{pool_median:.2f} s per notebook; speed-up x{stock_median / pool_median:.1f}"
    )
    stock_cpu = statistics.median(cpu[name][0] for name in assignments)
    pool_cpu = statistics.median(cpu[name][1] for name in assignments)
    print(
        f"CPU per notebook (the grader, nbgrader and their kernels; what a busy machine does not change much), "
        f"median over the assignments: stock {stock_cpu:.2f} s, grade-cohort {pool_cpu:.2f} s "
        f"(x{stock_cpu / pool_cpu:.1f}); at grade-cohort's rate, {FULL_CLASS[0]} x {FULL_CLASS[1]} notebooks keep "
        f"{os.cpu_count()} idle cores busy for "
        f"{console_progress.duration(pool_cpu * FULL_CLASS[0] * FULL_CLASS[1] / os.cpu_count())} "
        "(start-up included, which a larger cohort shares among more notebooks)"
    )
    print(
        f"total for the course's notebooks: stock {console_progress.duration(stock_total)}, grade-cohort "
        f"{console_progress.duration(pool_total)} (x{stock_total / pool_total:.1f})"
    )
    if (len(students), len(assignments)) != FULL_CLASS:
        scale = FULL_CLASS[0] * FULL_CLASS[1] / notebooks
        print(
            f"extrapolated, not measured: {FULL_CLASS[0]} students x {FULL_CLASS[1]} assignments at these rates: "
            f"stock {console_progress.duration(stock_total * scale)}, grade-cohort "
            f"{console_progress.duration(pool_total * scale)} (start-up included per assignment, so a little high)"
        )
    print(
        "same score for every submission both graded: "
        + (
            f"yes ({len(stock_scores)} submissions)"
            if not differ and len(pool_scores) == len(stock_scores)
            else f"NO, they differ for {differ[:10]}"
        )
    )
    print(f"whole benchmark (set-up included): {console_progress.duration(timer.elapsed)}")


if __name__ == "__main__":
    main()
