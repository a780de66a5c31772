"""grade-cohort's grader: nbgrader's own autograde for each submission, on kernels from a pool, several at once.

`PoolAutograde` is nbgrader's Autograde converter run with the course's configuration, so each
submission gets the same sanitising (the course's autograde guard included), overwritten cells,
timeout, late penalty and gradebook writes as under `nbgrader autograde`. Only its Execute step
differs: `PoolExecute` takes a fresh kernel from the `KernelPool` (started, and the course's grading
modules imported in it, while other kernels executed) instead of starting one, and discards it after
this one notebook.

`PoolGrader` grades `jobs` submissions at once, in threads. Whatever reads or writes the gradebook is
done for one submission at a time (a SQLite gradebook has one writer): a submission holds the
gradebook's turn from start to end, except while its kernel executes, which is when the others get on.

A submission graded completely (autograded, its feedback made if asked) is recorded in
`autograded/<student>/.grade-cohort-<assignment>.json`, written atomically after nbgrader's last
write. It counts as already graded while that record matches: same submitted files, same assignment
source, due date, extension and course configuration, and its autograded notebooks are still there.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import threading
import traceback
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from queue import Empty
from time import monotonic

from nbclient.util import ensure_async, run_hook, run_sync
from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.converters.base import BaseConverter
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from traitlets import Any
from traitlets.config import Config

from ketamine_course.instructor.kernel_pool import KernelPool, enter_folder_code
from ketamine_course.instructor.nbgrader_reuse import reused_by_nbgrader
from ketamine_course.runtime import nbgrader
from ketamine_course.storage.json_files import write_json_atomically

RECORD_NAME = ".grade-cohort-{assignment}.json"
RECORDED = ("assignment", "student", "submission", "rules", "notebooks")  # what must still match
IOPUB_CHECK_SECONDS = 0.05  # a new client's IOPub is connected once a message arrives; asked again if none
KERNELS_AHEAD = 2  # kernels started or starting per job: a short notebook ends before a kernel is up
LOG_FORMAT = "[%(levelname)s] %(message)s"  # as nbgrader's API captures its log
# What every graded notebook imports first, imported in each pool kernel before it gets its notebook.
PRELOAD_MODULES = ("ketamine_course.grading", "ketamine_course.ui")


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class GradebookTurn:
    """One submission at a time reads and writes the gradebook; a submission steps aside while its kernel runs."""

    def __init__(self):
        self._lock = threading.Lock()

    @contextmanager
    def held(self):
        with self._lock:
            yield

    @contextmanager
    def stepped_aside(self):
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()


class PoolExecute(Execute):
    """nbgrader's Execute, on a fresh kernel from the pool that runs this notebook only."""

    pool = Any(None, allow_none=True)
    turn = Any(None, allow_none=True)

    def preprocess(self, nb, resources=None, km=None):
        folder = Path((resources or {}).get("metadata", {}).get("path") or ".").resolve()
        kernel_name = self.kernel_name or nb.metadata.get("kernelspec", {}).get("name") or self.pool.kernel_name
        with self.turn.stepped_aside() if self.turn else nullcontext():
            kernel = self.pool.take(kernel_name, folder)
            self._enter = None if kernel.started_in == folder else folder
            try:
                return super().preprocess(nb, resources, km=kernel.manager)
            finally:
                if self.kc is not None:
                    self.kc.stop_channels()
                    self.kc = None
                self.km = None
                self.pool.discard(kernel)

    def start_new_kernel_client(self):
        """A client on the pool's kernel, its channels connected, the kernel moved into the notebook's folder."""
        return run_sync(self._async_connect)()

    async def _async_connect(self):
        """As nbclient connects (a kernel_info reply, then a message on IOPub shows that channel connected),
        without waiting a fifth of a second for IOPub to fall silent: the pool checked the kernel answers."""
        client = self.km.client()
        await ensure_async(client.start_channels())
        deadline = monotonic() + self.startup_timeout
        while True:
            client.kernel_info()
            try:
                reply = await ensure_async(client.shell_channel.get_msg(timeout=1))
                if reply["msg_type"] == "kernel_info_reply":
                    await ensure_async(client.iopub_channel.get_msg(timeout=IOPUB_CHECK_SECONDS))
                    break
            except Empty:
                pass
            if monotonic() > deadline:
                client.stop_channels()
                raise RuntimeError(f"The kernel did not answer in {self.startup_timeout} s")
        client._handle_kernel_info_reply(reply)
        client.allow_stdin = False
        self.kc = client
        if self._enter is not None:
            moved = await self.async_wait_for_reply(
                client.execute(enter_folder_code(self._enter), silent=True, store_history=False)
            )
            if not moved or moved["content"].get("status") != "ok":
                raise RuntimeError(f"The kernel could not work in {self._enter}: {moved and moved['content']}")
        await run_hook(self.on_notebook_start, notebook=self.nb)
        return client


class PoolAutograde(Autograde):
    """nbgrader's Autograde, its Execute step on the pool's kernels."""

    pool = Any(None, allow_none=True)
    turn = Any(None, allow_none=True)

    def convert_single_notebook(self, notebook_filename: str) -> None:
        """nbgrader's two steps (sanitize, then autograde the sanitized copy), without its NBGRADER_EXECUTION.

        nbgrader sets and deletes that variable in this process's environment around the autograde
        step, which the grader's threads share; the pool's kernels have it in their own environment.
        """
        self.log.info("Sanitizing %s", notebook_filename)
        self._sanitizing = True
        self._init_preprocessors()
        BaseConverter.convert_single_notebook(self, notebook_filename)
        notebook_filename = os.path.join(self.writer.build_directory, os.path.basename(notebook_filename))
        self.log.info("Autograding %s", notebook_filename)
        self._sanitizing = False
        self._init_preprocessors()
        try:
            BaseConverter.convert_single_notebook(self, notebook_filename)
        finally:
            self._sanitizing = True

    def _init_preprocessors(self) -> None:
        super()._init_preprocessors()
        if not self._sanitizing:
            self.exporter._preprocessors = [
                PoolExecute(parent=self.exporter, pool=self.pool, turn=self.turn) if type(p) is Execute else p
                for p in self.exporter._preprocessors
            ]


class PoolGrader:
    """Autograde submissions of one assignment, `jobs` at a time, each on a kernel of its own."""

    def __init__(self, root: Path, assignment: str, feedback: bool = False, jobs: int = None, output=None):
        self.root = Path(root).resolve()
        self.assignment = assignment
        self.feedback = feedback
        self.jobs = max(1, jobs or default_jobs())
        self.output = output  # open file for the kernels' own output and the pool's messages
        self.config = nbgrader.course_config(self.root)
        self.coursedir = CourseDirectory(config=self.config)
        self.turn = GradebookTurn()
        self._rules = None

    # --- what is graded already --------------------------------------------------------------------

    def graded_before(self, students: list) -> list:
        """The students whose submission is graded already and has not changed since."""
        return [s for s in students if self._is_graded(s)]

    def _is_graded(self, student: str) -> bool:
        record = self._read_record(student)
        if not record or (self.feedback and not record.get("feedback")):
            return False
        now = self._record(student)
        if any(record.get(key) != now[key] for key in RECORDED):
            return False
        autograded = self._folder(self.coursedir.autograded_directory, student)
        feedback = self._folder(self.coursedir.feedback_directory, student)
        return all(
            (autograded / f"{n}.ipynb").is_file() and (not self.feedback or (feedback / f"{n}.html").is_file())
            for n in now["notebooks"]
        )

    def _folder(self, directory: str, student: str) -> Path:
        return Path(self.coursedir.format_path(directory, student, self.assignment))

    def _record_path(self, student: str) -> Path:
        return self._folder(self.coursedir.autograded_directory, student).parent / RECORD_NAME.format(
            assignment=self.assignment
        )

    def _read_record(self, student: str) -> dict:
        try:
            found = json.loads(self._record_path(student).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def _record(self, student: str) -> dict:
        """What the record of a submission graded now says."""
        submitted = self._folder(self.coursedir.submitted_directory, student)
        return {
            "assignment": self.assignment,
            "student": student,
            "submission": _digest(submitted),
            "rules": self._rules_digest(student),
            "notebooks": sorted(p.stem for p in submitted.glob("*.ipynb")),
            "feedback": self.feedback,
            "graded_at": datetime.now(timezone.utc).isoformat(),
        }

    def _rules_digest(self, student: str) -> str:
        """The assignment's source, its due date, the student's extension and the course's configuration."""
        if self._rules is None:
            from nbgrader.api import Gradebook

            with warnings.catch_warnings(), Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
                warnings.simplefilter("ignore")
                assignment = gb.find_assignment(self.assignment)
                extensions = {s.student_id: str(s.extension) for s in assignment.submissions if s.extension}
                self._rules = (
                    str(assignment.duedate),
                    extensions,
                    _digest(Path(self.coursedir.format_path(self.coursedir.source_directory, ".", self.assignment))),
                    _digest(self.root / "nbgrader_config.py"),
                )
        duedate, extensions, source, config = self._rules
        return hashlib.sha256(repr((duedate, extensions.get(student), source, config)).encode()).hexdigest()

    # --- grading -----------------------------------------------------------------------------------

    def grade(self, students: list):
        """Autograde each student's submission (and make feedback); yields (student, result) as each ends.

        A result is nbgrader's API's: {"success": bool, "log": text, "error": traceback if it failed}.
        """
        if not students:
            return
        self._enrol(students)
        template = Execute(config=self.config)  # the course's Execute settings, for the pool's kernels
        env = dict(os.environ, NBGRADER_EXECUTION="autograde")  # as nbgrader's Autograde sets it
        log = _file_logger(self.output)
        jobs = min(self.jobs, len(students))
        notebooks = sum(
            len(list(self._folder(self.coursedir.submitted_directory, s).glob("*.ipynb"))) for s in students
        )
        with (
            reused_by_nbgrader(),
            KernelPool(
                size=KERNELS_AHEAD * jobs,
                limit=notebooks,
                env=env,
                extra_arguments=template.extra_arguments,
                ipython_hist_file=template.ipython_hist_file,
                startup_timeout=template.startup_timeout,
                output=self.output,
                config=self.config,
                log=log,
                preload_modules=PRELOAD_MODULES,
            ) as pool,
            ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grader") as workers,
        ):
            futures = {workers.submit(self._grade_one, pool, student): student for student in students}
            try:
                for future in as_completed(futures):
                    yield futures[future], future.result()
            finally:
                for future in futures:
                    future.cancel()

    def _enrol(self, students: list) -> None:
        """Every student in the gradebook before grading starts, as nbgrader's Autograde would add them.

        Another grader working on the same gradebook (PostgreSQL) may add a student at the same moment:
        then that one's row is used."""
        from nbgrader.api import Gradebook, InvalidEntry

        with self.turn.held(), Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            for student in students:
                try:
                    gb.update_or_create_student(student)
                except InvalidEntry:
                    gb.find_student(student)

    def _grade_one(self, pool: KernelPool, student: str) -> dict:
        logger, text = _submission_logger(student)
        with self.turn.held():
            self._record_path(student).unlink(missing_ok=True)
            error = self._convert(PoolAutograde, student, logger, pool=pool, turn=self.turn)
            if error is None and self.feedback:
                feedback_config = Config()
                feedback_config.HTMLExporter.template_name = "feedback"  # as nbgrader's API makes feedback
                error = self._convert(GenerateFeedback, student, logger, extra_config=feedback_config)
            if error is None:
                write_json_atomically(self._record_path(student), self._record(student))
        result = {"success": error is None, "log": text.getvalue()}
        if error is not None:
            result["error"] = error
        return result

    def _convert(self, converter_class, student: str, logger, extra_config=None, **traits):
        """Run one nbgrader converter on one submission; None, or the traceback it failed with."""
        coursedir = CourseDirectory(config=self.config, assignment_id=self.assignment, student_id=student)
        converter = converter_class(coursedir=coursedir, config=self.config, **traits)
        if extra_config is not None:
            converter.update_config(extra_config)
        converter.force = True
        converter.log = logger
        try:
            converter.start()
        except Exception:  # whatever happens to one submission, the others are still graded
            return traceback.format_exc()
        return None


def _digest(path: Path) -> str:
    """sha256 of a file, or of every file in a folder with its relative path; '' if there is none."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(path) if file != path else file.name).encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest() if files else ""


def _submission_logger(student: str):
    """A logger of its own for one submission's nbgrader run, and the text it collects."""
    text = io.StringIO()
    handler = logging.StreamHandler(text)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger = logging.Logger(f"autograde {student}", level=logging.WARNING)
    logger.addHandler(handler)
    return logger, text


def _file_logger(output) -> logging.Logger:
    """The pool's messages, into the run's log when there is one."""
    logger = logging.Logger("kernel pool", level=logging.WARNING)
    if output is not None:
        handler = logging.StreamHandler(output)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
    return logger
