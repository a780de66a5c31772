"""IPython kernels forked from a process that imported the kernel's and the course's modules once.

A stock kernel is a new Python process, and most of the CPU it spends before its first cell goes on
imports: ipykernel, IPython, zmq, then the course's grading modules. A `KernelForkServer` is one
process, started the way a kernel is started (`<python> -m ...` in an empty folder, with the kernels'
environment), that does those imports and then only forks. Each kernel is a child forked from that
untouched process: it starts with the modules a fresh kernel would import already loaded, and with
nothing any other kernel did. No two kernels share a process, socket, thread or namespace; ipykernel
makes its sockets and threads after the fork, as usual.

    with KernelForkServer(modules=("ketamine_course.grading",), env=env, folder=empty) as server:
        manager = AsyncKernelManager(kernel_name="python3")
        server.prepare(manager)
        await manager.start_kernel(cwd=folder, env=env)   # forked when it can be, started as usual if not

A kernel is forked only when it would be the same kernel started the usual way: its command is
`<the server's Python> -m ipykernel_launcher ...` and the settings that decide what Python imports
(PYTHONPATH and the like) are the server's. Otherwise jupyter_client starts it as it always does. The
child becomes a session of its own (signals reach its process group, as for a stock kernel), works in
the kernel's folder with the kernel's environment, and stops if the server goes. The server stops when
its owner closes it or exits. POSIX only: elsewhere every kernel starts as usual.

The server's protocol, one JSON object a line: it reads {"id", "arguments", "folder", "env"}
on its stdin and answers {"id", "pid"} (or {"id", "error"}) on its stdout, then {"exited": pid,
"code": exit code} when a kernel ends.
"""

from __future__ import annotations

import importlib
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import traceback
import uuid
from pathlib import Path

from jupyter_client.provisioning import LocalProvisioner

from ketamine_course.core.errors import CourseError

KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "IPython")
# What decides which files Python imports: a kernel whose environment differs here starts as usual.
IMPORT_SETTINGS = ("PYTHONPATH", "PYTHONHOME", "PYTHONNOUSERSITE", "PYTHONSAFEPATH", "PYTHONUSERBASE")
START_SECONDS = 60  # the longest a fork may take to be answered (the server may still be importing)


class ForkServerGone(CourseError):
    """The fork server stopped or did not answer."""


class KernelForkServer:
    """A process that imports `modules` (ipykernel's too) once and forks a kernel for each request.

    `modules` must not import matplotlib: its backend is chosen when it is imported, before ipykernel
    sets the kernel's. `env` and `folder` are what the server starts with (the kernels' environment, an
    empty folder). The server's and its kernels' own output (not a notebook's) goes to `output`, an
    open file, or nowhere."""

    def __init__(self, modules=(), env: dict = None, folder: Path = None, output=None):
        self.modules = tuple(modules)
        self.env = dict(os.environ if env is None else env)
        self.folder = folder
        self.output = output
        self._process = None
        self._lock = threading.Lock()  # one request at a time
        self._answered = threading.Condition()
        self._answers = {}  # request id -> answer
        self._exit_codes = {}  # pid -> exit code
        self._reader = None

    def __enter__(self) -> KernelForkServer:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        if os.name != "posix":  # no fork: every kernel starts as usual
            return
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__, *self.modules],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.output if self.output is not None else subprocess.DEVNULL,
            cwd=self.folder,
            env=self.env,
            start_new_session=True,  # a Ctrl-C at the terminal reaches the grader, which stops the kernels
        )
        self._reader = threading.Thread(target=self._read_answers, name="kernel-fork-server", daemon=True)
        self._reader.start()

    def close(self) -> None:
        """Stop the server (its kernels stop with it)."""
        if self._process is None:
            return
        self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join(timeout=10)
        self._process.stdout.close()

    def prepare(self, manager) -> None:
        """Have `manager` (an AsyncKernelManager whose kernel is not started) fork its kernel when it can."""
        manager.kernel_id = manager.kernel_id or str(uuid.uuid4())
        manager.provisioner = ForkedKernelProvisioner(
            kernel_id=manager.kernel_id, kernel_spec=manager.kernel_spec, parent=manager
        )
        manager.provisioner.fork_server = self

    def can_fork(self, cmd: list, env: dict) -> bool:
        """The command is the server's Python's ipykernel, and the kernel would import what the server did."""
        return (
            self._process is not None
            and self._process.poll() is None
            and len(cmd) >= 3
            and list(cmd[1:3]) == ["-m", "ipykernel_launcher"]
            and os.path.abspath(cmd[0]) == os.path.abspath(sys.executable)  # a venv's python is a link
            and all(env.get(name) == self.env.get(name) for name in IMPORT_SETTINGS)
        )

    def fork(self, arguments: list, folder: str, env: dict) -> ForkedProcess:
        """A kernel, forked: `python -m ipykernel_launcher <arguments>` run in `folder` with `env`."""
        request = {"id": uuid.uuid4().hex, "arguments": arguments, "folder": folder, "env": env}
        with self._lock:
            try:
                self._process.stdin.write(json.dumps(request).encode() + b"\n")
                self._process.stdin.flush()
            except (OSError, ValueError) as exc:
                raise ForkServerGone(f"The kernel fork server has stopped: {exc}") from exc
        with self._answered:
            self._answered.wait_for(
                lambda: request["id"] in self._answers or self._reader is None or not self._reader.is_alive(),
                timeout=START_SECONDS,
            )
            answer = self._answers.pop(request["id"], None)
        if answer is None or "pid" not in answer:
            raise ForkServerGone((answer or {}).get("error") or "The kernel fork server did not answer.")
        return ForkedProcess(answer["pid"], self)

    def exit_code(self, pid: int, timeout: float = 0):
        """The kernel's exit code once the server has reaped it; None while it runs."""
        with self._answered:
            self._answered.wait_for(lambda: pid in self._exit_codes or not self._reader.is_alive(), timeout)
            if pid not in self._exit_codes and not self._reader.is_alive():
                return -signal.SIGKILL  # the server is gone, and its kernels with it
            return self._exit_codes.get(pid)

    def _read_answers(self) -> None:
        for line in self._process.stdout:
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            with self._answered:
                if "exited" in answer:
                    self._exit_codes[answer["exited"]] = answer["code"]
                else:
                    self._answers[answer.get("id")] = answer
                self._answered.notify_all()
        with self._answered:
            self._answered.notify_all()


class ForkedProcess:
    """The part of subprocess.Popen that jupyter_client uses, for a kernel the fork server started."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, server: KernelForkServer):
        self.pid = pid
        self._server = server

    def poll(self):
        return self._server.exit_code(self.pid)

    def wait(self, timeout=None):
        return self._server.exit_code(self.pid, timeout=timeout)

    def send_signal(self, signum: int) -> None:
        """To the kernel's process group once the kernel has made it (its first step), else to the kernel."""
        if self.poll() is not None:
            return  # reaped: the pid may belong to someone else now
        try:
            own_group = os.getpgid(self.pid) == self.pid
            (os.killpg if own_group else os.kill)(self.pid, signum)
        except ProcessLookupError:
            pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkedKernelProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, asking the fork server for the kernel when it can."""

    fork_server = None

    async def launch_kernel(self, cmd: list, **kwargs):
        env = dict(kwargs.get("env") or os.environ)
        if self.fork_server is None or not self.fork_server.can_fork(cmd, env):
            return await super().launch_kernel(cmd, **kwargs)
        folder = str(kwargs.get("cwd") or os.getcwd())
        try:
            self.process = self.fork_server.fork(list(cmd[3:]), folder, env)
        except ForkServerGone as gone:  # it stopped (killed, out of memory): start kernels as usual
            self.log.warning("%s Starting the kernel as usual.", gone)
            return await super().launch_kernel(cmd, **kwargs)
        self.pid = self.process.pid
        self.pgid = None  # signals go through ForkedProcess, which finds the kernel's own group
        self.cwd = folder
        return self.connection_info


# --- the server process -----------------------------------------------------------------------------


def serve(modules: list) -> None:
    """Import ipykernel and `modules`, then fork a kernel for each request on stdin until it closes."""
    if sys.path and Path(sys.path[0] or ".").resolve() == Path.cwd().resolve():
        del sys.path[0]  # as ipykernel_launcher does: nothing in the start-up folder can be imported
    for name in (*KERNEL_MODULES, *modules):
        try:
            importlib.import_module(name)
        except Exception:  # each kernel meets the same failure when its notebook imports the module
            traceback.print_exc()
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    pending = b""
    while True:
        for key, _ in selector.select():
            if key.fd == wake_r:
                os.read(wake_r, 512)
                continue
            chunk = os.read(0, 65536)
            if not chunk:
                return  # the owner closed the server or exited: kernels see their parent go and stop
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                if _fork_for(json.loads(line), answers) == 0:  # in the child, which has become the kernel
                    selector.close()
                    signal.set_wakeup_fd(-1)
                    for fd in (wake_r, wake_w, answers.fileno()):
                        os.close(fd)
                    _become_kernel(json.loads(line))
        _report_exits(answers)


def _fork_for(request: dict, answers) -> int:
    """Fork; the parent answers the request with the child's pid. 0 in the child."""
    try:
        pid = os.fork()
    except OSError as exc:
        answers.write(json.dumps({"id": request["id"], "error": f"fork failed: {exc}"}) + "\n")
        return -1
    if pid:
        answers.write(json.dumps({"id": request["id"], "pid": pid}) + "\n")
    return pid


def _report_exits(answers) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        answers.write(json.dumps({"exited": pid, "code": os.waitstatus_to_exitcode(status)}) + "\n")


def _become_kernel(request: dict) -> None:
    """In the forked child: be the ipykernel that `python -m ipykernel_launcher <arguments>` would be."""
    code = 1
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        with open(os.devnull, "rb") as nothing:
            os.dup2(nothing.fileno(), 0)
        os.dup2(2, 1)  # the kernel's own output goes where the server's goes
        os.chdir(request["folder"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["JPY_PARENT_PID"] = str(os.getppid())
        sys.argv = ["ipykernel_launcher", *request["arguments"]]
        from ipykernel import kernelapp

        # ipykernel read JPY_PARENT_PID when the server imported it: the kernel is told its parent here,
        # and stops if the server goes, as a stock kernel stops if the process that started it goes.
        kernelapp.launch_new_instance(argv=list(request["arguments"]), parent_handle=os.getppid())
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            import atexit

            atexit._run_exitfuncs()  # what a kernel process does at exit; os._exit below would skip it
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


if __name__ == "__main__":
    serve(sys.argv[1:])
