"""Reader mode: the course as clean web pages, with no code and with every widget working.

    ketamine-course reader [--port N] [--no-browser]

Voila serves the course/ folder on this computer only (127.0.0.1): its front page lists the
modules, and the browser opens on Start here. Each page runs its notebook in a fresh kernel of its
own, shows the prose, figures, patient cards and questions, and never the code. Nothing is saved
in the notebooks; quick-check answers still go to the learner's progress, which runs in the kernel.
Nothing is served while the course's credit facts (content/credit.yaml) are missing or invalid.
Cells tagged `lab-only` (instructions for JupyterLab, such as "press Run All") are left out, and
each page carries its module's title.

Why Voila, and not one of the other ways to hide code:
- JupyterLab's simple interface (one document at a time) still shows an editable notebook with
  menus and toolbars: the reader must choose Run All and can delete or change cells by mistake.
- Voici builds static pages whose kernel runs in the browser (Pyodide). It needs a separate build
  of the course and its dependencies for WebAssembly, and every visit downloads that environment;
  it suits public hosting later, not a reader on their own computer today.
- nbconvert's HTML is static: the widgets show their first state, but no question answers and the
  pharmacokinetic explorer does not redraw. That is what `ketamine-course handouts` is for: reading
  offline, or printing.
Voila runs the same Python callbacks as JupyterLab, so instant feedback, the explorer, the
screening checklist and the session simulator behave exactly as in the course.

Security: Voila 0.5 runs on Jupyter Server 2, whose login by token it supports. The reader makes
a fresh random token each time and prints the address with it; a request without it is refused
(sent to the login page). The token is handed to Voila in this process, never on a command line
that other users of the computer could read, and the browser is opened through a private file,
as Jupyter does. The server listens on the loopback address only, so other computers cannot reach
it at all. (Voila serves image files of course/ without the token, as JupyterLab serves its own
static files; nothing else is open.)
"""

from __future__ import annotations

import atexit
import html
import os
import secrets
import sys
import tempfile
import webbrowser
from pathlib import Path

from ketamine_course.content import course_facts, credit_facts
from ketamine_course.runtime import ports

DEFAULT_PORT = 8866
HOST = "127.0.0.1"
START_NOTEBOOK = "00_start_here.ipynb"
# Cells tagged so are instructions for JupyterLab only ("press Run All"): left out of reading pages
# and handouts. Tag only cells that no other cell needs.
LAB_ONLY_TAG = "lab-only"
# The slowest cell of the slowest module (the mechanism walk-through) takes about 3.5 s on a busy
# two-core machine, and a whole module under 10 s. A minute per cell leaves room for a first run
# (matplotlib builds its font cache) and a slow laptop, yet a stuck cell cannot hang a page for ever.
CELL_TIMEOUT_S = 60
KERNEL_STARTUP_TIMEOUT_S = 120
READING_EXTENSIONS = [
    "@jupyter-widgets/jupyterlab-manager",
    "@voila-dashboards/widgets-manager8",
    "jupyterlab_pygments",
]
CELL_ERROR_NOTE = (
    "This part of the page could not be shown. The rest of the module still works; "
    "please tell the course team which module and section this was."
)


def module_title(notebook) -> str:
    """The module's title: its first Markdown heading ('Module 0 · Start here'), or ''."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def reading_version(notebook, leave_out=(LAB_ONLY_TAG,)):
    """The notebook as a reader sees it: the module's title on the page, without cells tagged `leave_out`."""
    notebook.cells = [c for c in notebook.cells if not set(leave_out) & set(c.get("metadata", {}).get("tags", []))]
    title = module_title(notebook)
    notebook.metadata["title"] = f"{title} · {course_facts().title}" if title else course_facts().title
    return notebook


def _prelaunch_hook(request_handler, notebook, cwd):
    """Voila calls this before running a page's notebook."""
    return reading_version(notebook)


def voila_config(course_folder: Path, port: int, token: str):
    """Voila's settings for reading: loopback, a token, no code, a reading layout, time-outs."""
    from traitlets.config import Config

    return Config(
        {
            "Voila": {
                "ip": HOST,
                "port": port,
                "port_retries": 0,  # the printed address must be the real one
                "root_dir": str(course_folder),
                "token": token,
                "open_browser": False,  # opened by us, with the token, once the server answers
                "config_file_paths": [],  # a stray voila.json must not change address or security
            },
            "VoilaConfiguration": {
                "strip_sources": True,
                "template": "lab",
                "theme": "light",
                "show_margins": True,  # a centred column of text, as on a printed page
                "classic_tree": True,  # the module list as a plain page, drawn by the server
                "show_tracebacks": False,
                "prelaunch_hook": _prelaunch_hook,
                # Only what a reading page draws with: the widgets (and code colouring). JupyterLab's own
                # add-ons (nbgrader's menus, the notebook switcher) have nothing to do on these pages.
                "extension_allowlist": READING_EXTENSIONS,
            },
            "VoilaExecutor": {
                "timeout": CELL_TIMEOUT_S,
                "interrupt_on_timeout": True,  # a stuck cell is stopped and the page goes on
                "allow_errors": True,  # one failing cell shows a note; the rest of the page still renders
                "startup_timeout": KERNEL_STARTUP_TIMEOUT_S,
                "cell_error_instruction": CELL_ERROR_NOTE,
                "cell_timeout_instruction": CELL_ERROR_NOTE,
            },
        }
    )


def choose_port(requested: int) -> int:
    """The requested port, or a free one (with a note) when something else is using it."""
    if not ports.port_in_use(HOST, requested):
        return requested
    port = ports.free_port(HOST)
    print(f"Port {requested} is in use (is reader mode already running?); using port {port} instead.", flush=True)
    return port


def open_in_browser(url: str) -> None:
    """Open the address through a private redirect file, so the token is not on a command line."""
    handle, path = tempfile.mkstemp(prefix="ketamine-course-reader-", suffix=".html")
    with os.fdopen(handle, "w", encoding="utf-8") as page:
        address = html.escape(url, quote=True)
        page.write(
            f'<!DOCTYPE html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={address}">'
            f'<title>{course_facts().title}</title><p><a href="{address}">Open the course</a></p>'
        )
    atexit.register(lambda: Path(path).unlink(missing_ok=True))
    try:
        webbrowser.open(Path(path).as_uri())
    except webbrowser.Error:
        print("No web browser found here: open the address above yourself.", flush=True)


def serve(course_folder: Path, port: int, open_browser: bool) -> int:
    """Run Voila on the course folder until Ctrl+C (or SIGTERM); refused while credit.yaml is missing or invalid."""
    credit_facts()
    from tornado.ioloop import IOLoop
    from voila.app import Voila

    token = secrets.token_hex(24)
    app = Voila.instance(config=voila_config(course_folder, port, token))
    app.initialize([])
    base = f"http://{HOST}:{port}"
    start_url = f"{base}/voila/render/{START_NOTEBOOK}?token={token}"
    print(
        "Reader mode: the course as pages without code. Stop with Ctrl+C.\n"
        f"  Start here:      {start_url}\n"
        f"  All the modules: {base}/?token={token}\n"
        "These addresses hold a private key: keep them to yourself. The server answers only this computer.",
        flush=True,
    )
    if open_browser:
        IOLoop.current().add_callback(open_in_browser, start_url)
    app.start()
    return 0


def cmd_reader(args) -> int:
    from ketamine_course.storage.paths import course_root

    course_folder = course_root() / "course"
    if not (course_folder / START_NOTEBOOK).is_file():
        print(
            f"Cannot find {START_NOTEBOOK} in {course_folder}: run this command from the course folder.",
            file=sys.stderr,
        )
        return 1
    return serve(course_folder, choose_port(args.port), not args.no_browser)


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser(
        "reader", help="read the course as web pages without code (Voila, 127.0.0.1, with a token)"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port on this computer (default {DEFAULT_PORT})"
    )
    parser.add_argument("--no-browser", action="store_true", help="print the address instead of opening a browser")
    parser.set_defaults(run=cmd_reader)
