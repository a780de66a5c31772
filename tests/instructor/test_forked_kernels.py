"""Kernels forked from the fork server are the kernels a stock start gives, one process each."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import psutil
import pytest
from jupyter_client.manager import AsyncKernelManager

from ketamine_course.instructor.forked_kernels import ForkedProcess, KernelForkServer
from ketamine_course.instructor.kernel_pool import KernelPool

pytestmark = [pytest.mark.kernel, pytest.mark.skipif(os.name != "posix", reason="kernels fork on POSIX only")]

PRELOADED = ("ketamine_course.grading",)
# What a kernel's process looks like from inside, as JSON: everything a notebook could notice.
PROBE = """\
import json as _json, os as _os, sys as _sys, threading as _threading
print(_json.dumps({
    "cwd": _os.getcwd(), "path": _sys.path, "argv": _sys.argv[1:],
    "env": {k: v for k, v in _os.environ.items() if k != "JPY_PARENT_PID"},
    "own_group": _os.getpgid(0) == _os.getpid(), "names": sorted(k for k in globals() if not k.startswith("_")),
    "threads": sorted(t.name for t in _threading.enumerate()), "modules": sorted(_sys.modules),
    "parent_pid": _os.getppid(), "pid": _os.getpid(), "stdin_tty": _sys.__stdin__.isatty(),
}))
"""


def run(coroutine):
    return asyncio.run(coroutine)


async def started(server, folder, env, forked=True):
    manager = AsyncKernelManager(kernel_name="python3")
    if forked:
        server.prepare(manager)
    await manager.start_kernel(cwd=str(folder), env=env)
    client = manager.client()
    client.start_channels()
    await client.wait_for_ready(timeout=60)
    return manager, client


async def execute(client, code, timeout=60):
    streams = []
    reply = await client.execute_interactive(
        code,
        timeout=timeout,
        output_hook=lambda m: streams.append(m["content"]["text"]) if m["msg_type"] == "stream" else None,
    )
    return reply["content"], "".join(streams)


async def stopped(manager, client):
    client.stop_channels()
    await manager.shutdown_kernel(now=False)


@pytest.fixture
def server(tmp_path):
    start_folder = tmp_path / "server"
    start_folder.mkdir()
    with KernelForkServer(PRELOADED, env=dict(os.environ), folder=start_folder) as server:
        yield server


def probe_of(server, folder, env, forked, first=""):
    async def go():
        manager, client = await started(server, folder, env, forked)
        try:
            if first:
                await execute(client, first)
            reply, text = await execute(client, PROBE)
            assert reply["status"] == "ok", reply
            return manager.provisioner.process, json.loads(text)
        finally:
            await stopped(manager, client)

    return run(go())


def test_a_forked_kernel_is_what_a_stock_start_gives_with_the_modules_already_imported(server, tmp_path):
    folder = tmp_path / "learner"
    folder.mkdir()
    env = dict(os.environ, KC_ONLY_THIS_KERNEL="yes")
    imports = "; ".join(f"__import__({m!r})" for m in PRELOADED)
    stock_process, stock = probe_of(server, folder, env, forked=False, first=imports)
    forked_process, forked = probe_of(server, folder, env, forked=True)
    assert not isinstance(stock_process, ForkedProcess) and isinstance(forked_process, ForkedProcess)
    for what in ("cwd", "path", "env", "own_group", "names", "threads", "stdin_tty"):
        assert forked[what] == stock[what], what
    assert forked["cwd"] == str(folder) and forked["env"]["KC_ONLY_THIS_KERNEL"] == "yes"
    assert forked["argv"][0] == stock["argv"][0] == "-f"
    assert forked["own_group"] and forked["parent_pid"] == server._process.pid
    # The same modules, but for the server's own package (an empty one) and the modules a stock kernel
    # imports only when its first cell asks for them.
    extra = set(forked["modules"]) - set(stock["modules"])
    assert extra <= {"ketamine_course.instructor"}, extra
    assert set(PRELOADED) <= set(forked["modules"])


def test_nothing_one_forked_kernel_does_reaches_the_next(server, tmp_path):
    leak = (
        "import os, sys, ketamine_course.grading as g\n"
        "g.LEAKED = True; os.environ['KC_LEAKED'] = '1'; sys.modules['kc_leaked'] = sys; LEAKED = 1\n"
        "open('kc_pid', 'w').write(str(os.getpid()))"
    )
    check = (
        "import os, sys, ketamine_course.grading as g\n"
        "print([hasattr(g, 'LEAKED'), 'KC_LEAKED' in os.environ, 'kc_leaked' in sys.modules, 'LEAKED' in dir()])"
    )

    async def go():
        first, first_client = await started(server, tmp_path, dict(os.environ))
        await execute(first_client, leak)
        second, second_client = await started(server, tmp_path, dict(os.environ))  # the first still runs
        _, seen = await execute(second_client, check)
        await stopped(first, first_client)
        await stopped(second, second_client)
        return seen, first.provisioner, second.provisioner

    seen, first, second = run(go())
    assert seen.strip() == "[False, False, False, False]"
    assert first.pid != second.pid and (tmp_path / "kc_pid").read_text() == str(first.pid)


def test_an_interrupt_and_a_kill_reach_the_forked_kernel_and_what_it_started(server, tmp_path):
    async def go():
        manager, client = await started(server, tmp_path, dict(os.environ))
        busy = asyncio.ensure_future(execute(client, "import time\ntime.sleep(60)", timeout=90))
        await asyncio.sleep(1)
        await manager.interrupt_kernel()
        interrupted, _ = await busy
        _, child = await execute(
            client,
            "import subprocess, sys\nprint(subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']).pid)",
        )
        process = manager.provisioner.process
        client.stop_channels()
        await manager.shutdown_kernel(now=True)  # SIGKILL to the kernel's process group
        return interrupted, int(child), process

    interrupted, child, process = run(go())
    assert interrupted["ename"] == "KeyboardInterrupt"
    assert process.poll() == -signal.SIGKILL
    assert wait_until(lambda: not alive(child)), "the kernel's own child outlived it"


def test_closing_the_server_stops_kernels_nobody_shut_down(tmp_path):
    with KernelForkServer(env=dict(os.environ), folder=tmp_path) as server:
        manager, client = run(started(server, tmp_path, dict(os.environ)))
        client.stop_channels()
        pid = manager.provisioner.pid
        assert alive(pid)
    assert wait_until(lambda: not alive(pid)), "a kernel outlived its fork server"


def test_a_kernel_that_would_import_other_files_starts_as_usual(server, tmp_path):
    on_path, elsewhere = tmp_path / "on_path", tmp_path / "elsewhere"
    on_path.mkdir()
    elsewhere.mkdir()
    (on_path / "kc_only_on_this_path.py").write_text("FOUND = True\n")
    other = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(on_path), os.environ.get("PYTHONPATH")])))

    async def go():
        manager, client = await started(server, elsewhere, other)
        reply, text = await execute(client, "import kc_only_on_this_path; print(kc_only_on_this_path.FOUND)")
        process = manager.provisioner.process
        await stopped(manager, client)
        return reply, text, process

    reply, text, process = run(go())
    assert reply["status"] == "ok" and text.strip() == "True"
    assert not isinstance(process, ForkedProcess)


def test_a_module_the_server_cannot_import_fails_in_the_notebook_not_in_the_server(tmp_path):
    with KernelForkServer(("kc_no_such_module",), env=dict(os.environ), folder=tmp_path) as server:

        async def go():
            manager, client = await started(server, tmp_path, dict(os.environ))
            reply, _ = await execute(client, "import kc_no_such_module")
            process = manager.provisioner.process
            await stopped(manager, client)
            return reply, process

        reply, process = run(go())
    assert isinstance(process, ForkedProcess) and reply["ename"] == "ModuleNotFoundError"


def test_kernels_start_as_usual_once_the_server_is_gone(server, tmp_path):
    server._process.kill()
    server._process.wait()
    reply, text = run(execute_once(server, tmp_path, "print(6 * 7)"))
    assert reply["status"] == "ok" and text.strip() == "42"


async def execute_once(server, folder, code):
    manager, client = await started(server, folder, dict(os.environ))
    try:
        return await execute(client, code)
    finally:
        assert not isinstance(manager.provisioner.process, ForkedProcess)
        await stopped(manager, client)


def test_the_pool_hands_out_forked_kernels_with_its_modules_imported():
    with KernelPool(size=1, limit=1, preload_modules=PRELOADED) as pool:
        kernel = pool.take()
        try:
            assert isinstance(kernel.manager.provisioner.process, ForkedProcess)
        finally:
            pool.discard(kernel)


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_until(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()
