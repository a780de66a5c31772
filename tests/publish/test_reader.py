"""Reader mode: the real command serves the course with Voila; a clinician reads and answers in Chromium."""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from lab_browser import axe_violations, wait_until_settled

from ketamine_course.publish import reader

from conftest import ARTIFACTS, REPO, copy_course, course_env

pytestmark = pytest.mark.xdist_group("reader")  # the reading server is shared by its tests; see conftest.py

START_LINE = re.compile(
    r"Start here:\s+(http://127\.0\.0\.1:(\d+))/voila/render/00_start_here\.ipynb\?token=([0-9a-f]+)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def reader_mode(root: Path, data_dir: Path, log_dir: Path, startup_timeout=90):
    """`ketamine-course reader --no-browser` as a learner runs it; yields the base address and the token."""
    out, err = log_dir / "reader.out", log_dir / "reader.log"
    command = [sys.executable, "-m", "ketamine_course.cli", "reader", "--port", str(free_port()), "--no-browser"]
    with open(out, "w") as stdout, open(err, "w") as stderr:
        process = subprocess.Popen(
            command,
            cwd=root,
            stdout=stdout,
            stderr=stderr,
            env=course_env(KETAMINE_COURSE_ROOT=str(root), KETAMINE_COURSE_DATA=str(data_dir)),
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            found = START_LINE.search(out.read_text())
            if found:
                base, token = found.group(1), found.group(3)
                try:
                    with urllib.request.urlopen(f"{base}/?token={token}", timeout=5) as reply:
                        if reply.status == 200:
                            break
                except OSError:
                    pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"reader mode did not start:\n{out.read_text()}\n{err.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base, token, out.read_text()
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if ARTIFACTS.is_dir():
            shutil.copy(err, ARTIFACTS / "reader.log")


def tag_cell(path: Path, starting_with: str, tag: str) -> None:
    """Tag the Markdown cell that starts with the given text, as an author would."""
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith(starting_with))
    cell.metadata.setdefault("tags", []).append(tag)
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("reader")
    root = copy_course(scratch / "course_root")
    tag_cell(root / "course" / "00_start_here.ipynb", "## Before you start", reader.LAB_ONLY_TAG)
    ARTIFACTS.mkdir(exist_ok=True)
    with reader_mode(root, scratch / "learner-data", scratch) as (base, token, printed):
        yield base, token, printed


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(90_000)
    yield page
    context.close()


def open_module(page, base, token, notebook, widget_css, expected):
    """Open a module's reading page; wait until Voila has run it and its widgets are drawn.

    Voila sends the page while the kernel runs the notebook, so a busy machine makes the page slow
    to finish: the caps are generous, and a screenshot shows where it stood if one is reached."""
    try:
        page.goto(f"{base}/voila/render/{notebook}?token={token}", wait_until="commit", timeout=180_000)
        page.wait_for_function(f"() => document.querySelectorAll('{widget_css}').length >= {expected}", timeout=240_000)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"reader_{Path(notebook).stem}_timeout.png"))
        raise


# --- without a browser -------------------------------------------------------------------------


def test_settings_are_those_of_a_private_reading_page(tmp_path):
    config = reader.voila_config(tmp_path, 8123, "secret-token")
    assert config.Voila.ip == "127.0.0.1" and config.Voila.token == "secret-token"
    assert config.Voila.config_file_paths == [], "a stray voila.json cannot change the address or the token"
    assert config.VoilaConfiguration.strip_sources is True
    assert config.VoilaConfiguration.show_tracebacks is False
    assert config.VoilaExecutor.timeout == reader.CELL_TIMEOUT_S
    assert config.VoilaExecutor.interrupt_on_timeout and config.VoilaExecutor.allow_errors


def test_reading_pages_leave_out_cells_tagged_lab_only_and_carry_the_module_title():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Module 7 · Aftercare\n\nWhat follows a course of treatment."),
            nbformat.v4.new_markdown_cell("Press Run All", metadata={"tags": [reader.LAB_ONLY_TAG]}),
            nbformat.v4.new_code_cell("ui.quiz('m0.q1')"),
        ]
    )
    reading = reader.reading_version(nb)
    assert [c.source[:9] for c in reading.cells] == ["# Module ", "ui.quiz('"]
    assert reading.metadata["title"] == "Module 7 · Aftercare · Ketamine Therapy for Clinicians"


def test_a_busy_port_gives_way_to_a_free_one(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        chosen = reader.choose_port(busy)
    assert chosen != busy
    assert f"Port {busy} is in use" in capsys.readouterr().out


def test_the_browser_is_sent_to_the_page_through_a_private_file(monkeypatch):
    opened = []
    monkeypatch.setattr(reader.webbrowser, "open", opened.append)
    address = "http://127.0.0.1:8866/voila/render/00_start_here.ipynb?token=0123abcd"
    reader.open_in_browser(address)
    assert len(opened) == 1 and "0123abcd" not in opened[0], "the token is not on the browser's command line"
    redirect = Path(urllib.parse.urlparse(opened[0]).path)
    assert redirect.stat().st_mode & 0o077 == 0, "only the learner can read the file"
    assert f'content="0;url={address}"' in redirect.read_text(encoding="utf-8")
    redirect.unlink()


def test_the_command_is_offered_with_its_options():
    parser = argparse.ArgumentParser()
    reader.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["reader", "--port", "9001", "--no-browser"])
    assert (args.port, args.no_browser, args.run) == (9001, True, reader.cmd_reader)
    assert parser.parse_args(["reader"]).port == reader.DEFAULT_PORT


# --- the real server ----------------------------------------------------------------------------


def test_pages_need_the_token_and_only_this_computer_can_connect(served):
    base, token, printed = served
    assert "keep them to yourself" in printed
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.build_opener(NoRedirect).open(f"{base}/voila/render/00_start_here.ipynb", timeout=30)
    assert refused.value.code == 302 and "/login" in refused.value.headers["Location"]
    with pytest.raises(urllib.error.HTTPError) as wrong:
        urllib.request.build_opener(NoRedirect).open(f"{base}/voila/api/contents/?token=not-the-token", timeout=30)
    assert wrong.value.code in (302, 403)
    with urllib.request.urlopen(f"{base}/?token={token}", timeout=30) as reply:  # the front page lists the modules
        front = reply.read().decode()
    for module in ("00_start_here", "01_mechanism", "04_risks"):
        assert f"/voila/render/{module}.ipynb" in front
    port = int(base.rsplit(":", 1)[1])
    listening = listening_addresses(port)
    if listening is not None:  # Linux: read the kernel's own table of listening sockets
        assert listening == {"127.0.0.1"}, f"reader mode listens on {listening}"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def listening_addresses(port: int):
    """The local addresses listening on a TCP port, from /proc/net/tcp{,6}; None where there is no /proc."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        return None
    found = set()
    for table in tables:
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                if len(address) == 8:
                    found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
                else:
                    found.add("ipv6:" + address)
    return found


@pytest.mark.browser
@pytest.mark.kernel
def test_start_here_reads_without_code_and_its_quick_check_answers(served, page):
    base, token, _ = served
    open_module(page, base, token, "00_start_here.ipynb", ".kc-formative", 5)
    # No code: every code cell is shown without its input, and no call of the course's code is on the page.
    code_cells = page.locator(".jp-CodeCell")
    assert code_cells.count() > 5
    assert page.locator(".jp-CodeCell:not(.jp-mod-noInput)").count() == 0
    assert page.locator(".jp-CodeCell .jp-InputArea, .cm-editor, .CodeMirror").count() == 0
    text = page.locator("body").inner_text()
    assert "ui.quiz(" not in text and "from ketamine_course" not in text
    assert "@jupyter/nbgrader" not in page.content(), "only the widget extensions are loaded on reading pages"
    assert "Before you start" not in text, "a cell tagged lab-only is left out"
    assert page.title().startswith("Module 0 · Start here")

    box = page.locator(".kc-question", has=page.locator(".kc-stem", has_text="[m0.q1]"))
    box.scroll_into_view_if_needed()
    box.get_by_text("Racemic ketamine by intravenous infusion").click()
    feedback = box.locator(".kc-feedback")
    feedback.get_by_text("Not the best answer").wait_for()
    assert "off-label" in feedback.inner_text()
    box.get_by_text("Esketamine nasal spray, given in a certified healthcare setting").click()
    feedback.get_by_text("Correct.").wait_for()
    page.screenshot(path=str(ARTIFACTS / "reader_start_here.png"))

    # A citation in the prose leads to its entry in the reference list at the end of the page.
    page.locator('a[href="#ref-zarate2006"]').first.click()
    page.wait_for_function("() => location.hash === '#ref-zarate2006'")
    entry = page.locator("li#ref-zarate2006")
    assert "Zarate" in entry.inner_text()
    page.wait_for_function("""() => { const r = document.getElementById('ref-zarate2006').getBoundingClientRect();
                                      return r.top >= 0 && r.top < window.innerHeight; }""")
    page.screenshot(path=str(ARTIFACTS / "reader_reference_list.png"))


@pytest.mark.browser
@pytest.mark.kernel
def test_mechanism_figure_is_drawn_and_redrawn_by_its_controls(served, page):
    base, token, _ = served
    open_module(page, base, token, "01_mechanism.ipynb", ".kc-figure img", 1)
    figure = page.locator(".kc-figure img").first
    figure.scroll_into_view_if_needed()
    page.wait_for_function("""() => { const img = document.querySelector('.kc-figure img');
                                      return img && img.complete && img.naturalWidth > 200; }""")
    before = figure.get_attribute("src")
    caption = page.locator(".kc-figure figcaption").first.inner_text()
    assert "intravenous" in caption.lower()
    explorer = page.locator(".widget-vbox", has=page.locator(".kc-figure")).last
    route = explorer.locator(".widget-dropdown select").first
    esketamine = next(o for o in route.locator("option").all_inner_texts() if "esketamine" in o.lower())
    route.select_option(label=esketamine)
    page.wait_for_function("(old) => document.querySelector('.kc-figure img').getAttribute('src') !== old", arg=before)
    assert page.locator(".kc-figure figcaption").first.inner_text() != caption
    page.screenshot(path=str(ARTIFACTS / "reader_mechanism_explorer.png"))


@pytest.mark.browser
@pytest.mark.kernel
def test_quick_checks_answered_in_reader_mode_show_on_the_progress_dashboard(served, page):
    base, token, _ = served
    open_module(page, base, token, "my_progress.ipynb", ".kc-progress", 1)
    before = int(re.search(r"You have answered (\d+) of", page.locator(".kc-progress").inner_text()).group(1))
    open_module(page, base, token, "00_start_here.ipynb", ".kc-formative", 5)
    box = page.locator(".kc-question", has=page.locator(".kc-stem", has_text="[m0.q2]"))
    box.scroll_into_view_if_needed()
    box.locator(".widget-radio-box label").first.click()
    box.locator(".kc-feedback [role=status]").filter(has_not_text="Answer to see feedback").wait_for()
    open_module(page, base, token, "my_progress.ipynb", ".kc-progress", 1)
    dashboard = page.locator(".kc-progress")
    dashboard.get_by_text(f"You have answered {before + 1} of", exact=False).wait_for()
    assert page.locator(".kc-progress-table tr[data-objective='m0.o2'] td").nth(1).inner_text().startswith("1 /")
    assert dashboard.locator("img[alt^='Bar chart']").count() == 2
    assert "ui.my_progress" not in page.locator("body").inner_text()
    page.screenshot(path=str(ARTIFACTS / "reader_dashboard.png"))


# Instructions that hold only in JupyterLab (a reader page runs by itself and has no menus or toolbar).
LAB_ONLY_WORDS = re.compile(r"Run All|Run →|Kernel →|File → Save|toolbar|change (any )?code", re.IGNORECASE)


@pytest.mark.parametrize("notebook", sorted((REPO / "course").glob("*.ipynb")), ids=lambda p: p.name)
def test_a_reader_page_asks_for_nothing_that_only_jupyterlab_has(notebook):
    """What reader mode shows of a module says nothing true only in JupyterLab ("choose Run All"), unless it
    says that it is about JupyterLab; the JupyterLab-only instructions are in cells tagged lab-only."""
    page = reader.reading_version(nbformat.read(notebook, as_version=4))
    for cell in page.cells:
        for paragraph in cell.source.split("\n\n"):
            if LAB_ONLY_WORDS.search(paragraph):
                assert "JupyterLab" in paragraph, f"{notebook.name}: {paragraph!r}"


def wait_until_drawn(page, base, token, notebook):
    """Open a module's reading page; wait until Voila has run it, every call of the course has shown something
    and every widget is drawn (the first code cell imports and shows nothing)."""
    nb = nbformat.read(REPO / "course" / notebook, as_version=4)
    calls = sum(c.cell_type == "code" for c in nb.cells) - 1
    try:
        page.goto(f"{base}/voila/render/{notebook}?token={token}", wait_until="load", timeout=300_000)
        page.wait_for_function(
            """(calls) => {
                 const cells = [...document.querySelectorAll('.jp-CodeCell')];
                 const views = [...document.querySelectorAll('[data-mime-type$="widget-view+json"]')];
                 return !document.getElementById('loading')  // Voila's spinner, removed once the page has run
                        && cells.filter(c => c.querySelector('.jp-OutputArea-output')).length >= calls
                        && views.every(view => view.querySelector('.jupyter-widgets'));
               }""",
            arg=calls,
            timeout=240_000,
        )
        wait_until_settled(page)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"reader_{Path(notebook).stem}_timeout.png"))
        raise


@pytest.mark.browser
@pytest.mark.kernel
@pytest.mark.parametrize("notebook", sorted(p.name for p in (REPO / "course").glob("*.ipynb")))
def test_every_reading_page_has_no_serious_accessibility_violations(served, page, notebook):
    base, token, _ = served
    wait_until_drawn(page, base, token, notebook)
    found = axe_violations(page)
    assert not found, "\n".join(found)
