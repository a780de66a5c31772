"""Fresh Jupyter kernels started ahead of need: each runs one notebook, then it is discarded.

Starting a kernel and waiting until it answers takes about half a second. A `KernelPool` does that
in a thread of its own while other kernels execute, so a grader finds a kernel ready when it needs one:

    with KernelPool(size=2, env=environment) as pool:
        kernel = pool.take()          # started and answering; kernel.manager is a jupyter_client manager
        ...                           # one notebook runs on it, after `enter_folder_code(folder)`
        pool.discard(kernel)          # stopped; a fresh kernel is already starting in its place

A pooled kernel starts in an empty folder of its own (nothing from a learner's folder can load when
it starts) and is moved into the notebook's folder by `enter_folder_code`, a silent command that
leaves nothing in the kernel's namespace or history. A pool may also have modules imported in each
kernel before it is handed out (the grader's are the course's grading modules: the same for every
learner). On POSIX the pool's kernels are forked from a `KernelForkServer` that imported ipykernel and
those modules once, which saves most of a kernel's start-up CPU; elsewhere each kernel imports them
silently once started. No kernel runs two notebooks, so nothing one notebook does (globals, imports,
environment variables, open files) can reach the next.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from ketamine_course.core.errors import CourseError
from ketamine_course.instructor.forked_kernels import ForkedProcess, KernelForkServer

LOG = logging.getLogger(__name__)
STOP_SECONDS = 10  # the longest close() waits for a kernel to stop (a start may take startup_timeout more)
START_ATTEMPTS = 3  # a kernel that dies while starting (a port taken meanwhile on a busy machine) is started again


class KernelStartFailed(CourseError):
    """A kernel did not start or did not answer."""


@dataclass
class PooledKernel:
    manager: object  # jupyter_client.manager.AsyncKernelManager, its kernel started and answering
    started_in: Path  # the folder the kernel process started in


def enter_folder_code(folder: Path) -> str:
    """Python for an IPython kernel: work in `folder`, as if the kernel had started there.

    Binds no name; IPython's directory history (`_dh`) starts again from the new folder.
    """
    return (
        f"__import__('os').chdir({str(folder)!r})\n"
        "get_ipython().history_manager.dir_hist[:] = [__import__('pathlib').Path.cwd()]\n"
    )


class KernelPool:
    """Keeps `size` kernels of `kernel_name` started or starting; any other kernel starts on demand.

    With `limit`, it starts at most that many kernels of `kernel_name` in all (the notebooks to run).
    `env` is the kernels' environment (default: this process's at creation); `extra_arguments`,
    `ipython_hist_file` and `startup_timeout` mean what they mean for nbclient; the kernels' own
    output (not a notebook's) goes to `output`, an open file, or nowhere. `preload_modules` are
    imported in each kernel of `kernel_name` before it is handed out, binding no name: by the fork
    server its kernels are forked from, or silently in the kernel's start-up folder when a kernel
    cannot be forked. If an import fails, the kernel is handed out all the same and the failure
    logged: the notebook meets the same failure itself.
    """

    def __init__(
        self,
        size: int = 1,
        kernel_name: str = "python3",
        env: dict = None,
        extra_arguments=(),
        ipython_hist_file: str = ":memory:",
        startup_timeout: float = 60,
        output=None,
        config=None,
        log: logging.Logger = None,
        limit: int = None,
        preload_modules=(),
    ):
        self.size = max(1, int(size))
        self.preload_modules = tuple(preload_modules)
        self.limit = limit
        self.kernel_name = kernel_name
        self.env = dict(os.environ if env is None else env)
        self.extra_arguments = list(extra_arguments)
        self.ipython_hist_file = ipython_hist_file
        self.startup_timeout = startup_timeout
        self.output = output
        self.config = config
        self.log = log or LOG
        self.started = 0  # kernels started so far
        self._ordered = 0  # kernels of kernel_name the pool has set out to start
        self._taken = 0  # and handed out
        self._ready = queue.Queue()  # PooledKernel, or the exception a start ended with
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kernel-pool", daemon=True)
        self._folder = None
        self._fork_server = None
        self._busy = set()  # futures of starts and stops under way
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> KernelPool:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        """Start the pool's thread and its first kernels."""
        self._folder = Path(tempfile.mkdtemp(prefix="kernel-pool-"))
        self._fork_server = KernelForkServer(
            self.preload_modules, env=self.env, folder=self._folder, output=self.output
        )
        self._fork_server.open()
        self._thread.start()
        for _ in range(self.size):
            self._start_for_pool()

    def take(self, kernel_name: str = None, folder: Path = None) -> PooledKernel:
        """A started, answering kernel for one notebook (wait for it if none is ready yet).

        A kernel of another name than the pool's starts now, in `folder` if given."""
        if kernel_name not in (None, self.kernel_name):
            return self._call(self._start(kernel_name, folder))
        with self._lock:
            self._taken += 1
            beyond_limit = self.limit is not None and self._taken > self.limit
            if beyond_limit:
                self.limit = self._taken  # more notebooks than the limit said: one more kernel
        if beyond_limit:
            self._start_for_pool()
        found = self._ready.get()
        self._start_for_pool()  # its successor starts while this one works
        if isinstance(found, BaseException):
            raise KernelStartFailed(f"A {self.kernel_name} kernel did not start: {found}") from found
        return found

    def discard(self, kernel: PooledKernel) -> None:
        """Stop the kernel (its notebook is done) and remove its start-up folder, in the background."""
        self._schedule(self._stop, kernel)

    def close(self) -> None:
        """Stop every kernel of the pool, those still starting included, and the pool's thread."""
        with self._lock:
            if self._closed or not self._thread.is_alive():
                self._closed = True
                return
            self._closed = True
            busy = list(self._busy)
        for future in busy:
            try:
                future.result(timeout=self.startup_timeout + STOP_SECONDS)
            except Exception:  # a start that failed: nothing to stop
                pass
        while not self._ready.empty():
            found = self._ready.get()
            if isinstance(found, PooledKernel):
                self._call(self._stop(found))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=STOP_SECONDS)
        if not self._thread.is_alive():
            self._loop.close()
        self._fork_server.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    # --- in the pool's thread ---------------------------------------------------------------------

    def _start_for_pool(self) -> None:
        self._schedule(self._start_into_queue, for_pool=True)

    def _schedule(self, coroutine_function, *args, for_pool: bool = False) -> None:
        with self._lock:
            if for_pool:
                if self._closed or (self.limit is not None and self._ordered >= self.limit):
                    return
                self._ordered += 1
            future = asyncio.run_coroutine_threadsafe(coroutine_function(*args), self._loop)
            self._busy.add(future)
        future.add_done_callback(self._done)

    def _done(self, future) -> None:
        with self._lock:
            self._busy.discard(future)
        if not future.cancelled() and future.exception() is not None:
            self.log.warning("Kernel pool: %s", future.exception())

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _start_into_queue(self) -> None:
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                kernel = await self._start(self.kernel_name, for_pool=True)
                break
            except Exception as exc:
                if attempt == START_ATTEMPTS or self._closed:
                    self._ready.put(exc)
                    return
                self.log.warning("Kernel pool: a kernel did not start (%s); starting another", exc)
        if self._closed:
            await self._stop(kernel)
        else:
            self._ready.put(kernel)

    async def _start(self, kernel_name: str, folder: Path = None, for_pool: bool = False) -> PooledKernel:
        from jupyter_client.manager import AsyncKernelManager

        folder = Path(folder) if folder else Path(tempfile.mkdtemp(dir=self._folder))
        manager = AsyncKernelManager(kernel_name=kernel_name, config=self.config, log=self.log)
        if for_pool:
            self._fork_server.prepare(manager)
        arguments = list(self.extra_arguments)
        if (
            manager.ipykernel
            and self.ipython_hist_file
            and not any(a.startswith("--HistoryManager.hist_file") for a in arguments)
        ):
            arguments.append(f"--HistoryManager.hist_file={self.ipython_hist_file}")  # as nbclient does
        output = self.output if self.output is not None else subprocess.DEVNULL
        kernel = PooledKernel(manager, folder)
        try:
            await manager.start_kernel(
                extra_arguments=arguments, cwd=str(folder), env=self.env, stdout=output, stderr=output
            )
            self.started += 1
            client = manager.client()
            client.start_channels()
            try:
                await client.wait_for_ready(timeout=self.startup_timeout)
                forked = isinstance(getattr(manager.provisioner, "process", None), ForkedProcess)
                if for_pool and self.preload_modules and not forked:
                    await self._preload(client, "; ".join(f"__import__({m!r})" for m in self.preload_modules))
            finally:
                client.stop_channels()
        except BaseException:
            await self._stop(kernel)
            raise
        return kernel

    async def _preload(self, client, code: str) -> None:
        reply = await client.execute(
            code, silent=True, store_history=False, allow_stdin=False, reply=True, timeout=self.startup_timeout
        )
        if reply["content"].get("status") != "ok":
            content = reply["content"]
            self.log.warning("Kernel pool: preloading failed: %s: %s", content.get("ename"), content.get("evalue"))

    async def _stop(self, kernel: PooledKernel) -> None:
        manager = kernel.manager
        try:
            if manager.has_kernel:
                await manager.shutdown_kernel(now=True)
            else:
                await manager.cleanup_resources()
        except Exception as exc:  # already gone: nothing left to stop
            self.log.debug("Kernel pool: stopping a kernel: %s", exc)
        finally:
            if self._folder in kernel.started_in.parents:
                shutil.rmtree(kernel.started_in, ignore_errors=True)
