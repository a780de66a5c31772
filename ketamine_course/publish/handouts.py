"""Handouts: each module of the course as one static HTML page, for reading offline or printing.

    ketamine-course handouts [--out DIR]        (default: handouts/ in the course folder)

Every module notebook in course/ (`00_start_here.ipynb`, `01_mechanism.ipynb`, ...) is run top to
bottom in a fresh kernel, in a scratch copy of the folder and with an empty progress folder, so
neither the course nor the learner's progress is touched and no one's answers end up in a handout.
The page has no code; it starts with the course's name, the date the evidence is current to and the
reminder that this is education, not medical advice, and ends with the module's reference list.
Cells tagged `lab-only` (instructions for JupyterLab, such as "press Run All") or `no-handout`
(parts that only make sense live, such as the learner's progress table) are left out.

Questions and tools appear as they first open. With an internet connection the page draws them
with Jupyter's widget library (the widget state is stored in the page); offline, a plain snapshot
of the same state is shown instead (question, options, settings, figure). Answering and instant
feedback need the course itself: `ketamine-course open` or `ketamine-course reader`.

A module that cannot be run is reported with the cell and the error, and the others still export;
`index.html` lists every module, with a link or with the reason it is missing.
"""

from __future__ import annotations

import html
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ketamine_course.content import course_facts, credit_facts
from ketamine_course.content.citations import evidence_date
from ketamine_course.core.errors import CourseError
from ketamine_course.publish.reader import LAB_ONLY_TAG, module_title, reading_version
from ketamine_course.publish.widget_snapshot import snapshot_html
from ketamine_course.runtime import console_progress, course_copy
from ketamine_course.storage.json_files import write_atomically

# Cells tagged so only make sense live (the learner's progress table): left out of handouts.
NO_HANDOUT_TAG = "no-handout"
MODULE_PATTERN = "[0-9][0-9]_*.ipynb"  # the teaching modules; other notebooks (the progress page) are not handouts
CELL_TIMEOUT_S = 120  # the slowest cell takes a few seconds; this only stops a cell that hangs
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class HandoutError(CourseError):
    """A module that could not be run or written, with the reason in plain words."""


@dataclass
class Handout:
    notebook: Path
    title: str
    page: Path | None = None
    problem: str | None = None
    previous_page: Path | None = None  # left from an earlier export when this one failed; never deleted


# --- running a module ---------------------------------------------------------------------------


def module_notebooks(course_folder: Path) -> list:
    return sorted(course_folder.glob(MODULE_PATTERN))


def run_notebook(notebook, work_dir: Path, data_dir: Path) -> None:
    """Execute in a fresh kernel, keeping the widgets' state; HandoutError says which cell failed."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    current = {}
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(work_dir)}},
        on_cell_execute=lambda cell, cell_index: current.update(cell=cell, index=cell_index),
    )

    def where() -> str:
        if "cell" not in current:
            return "before its first cell"
        first_line = (current["cell"].source.strip().splitlines() or [""])[0]
        return f"at cell {current['index'] + 1} ({first_line[:60]})"

    try:
        client.execute(env={**os.environ, "KETAMINE_COURSE_DATA": str(data_dir)})
    except CellTimeoutError:
        raise HandoutError(f"it stopped {where()}: the cell ran for more than {CELL_TIMEOUT_S} s") from None
    except CellExecutionError as error:
        raise HandoutError(f"it stopped {where()} with {error.ename}: {error.evalue}") from None
    except DeadKernelError:
        raise HandoutError(f"its Python kernel died {where()} (out of memory?)") from None
    except Exception as error:  # kernel could not start, and the like
        raise HandoutError(f"it could not be run: {type(error).__name__}: {error}") from None


def prepare_for_reading(notebook, today: date) -> None:
    """Title, the line on evidence and advice at the top, no warnings, and snapshots of the widgets."""
    reading_version(notebook, leave_out=(LAB_ONLY_TAG, NO_HANDOUT_TAG))
    notebook.cells.insert(0, _banner_cell(today))
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view:
                output.setdefault("metadata", {})["kc_snapshot"] = snapshot_html(state, view.get("model_id", ""))


def _banner_cell(today: date):
    import nbformat

    return nbformat.v4.new_markdown_cell(
        f'<div class="kc-handout-banner">\n\n**{course_facts().title}** · a handout for reading offline, '
        f"exported on {today.day} {today:%B %Y}.\n\n"
        f"**{course_facts().disclaimer}** The evidence is current to **{evidence_date()}**. Product labels "
        "and regulations change: check the current label and your local protocol before treating anyone.\n\n"
        "Questions and tools are shown as they first open. To answer them and see the feedback, take this "
        "module in the course itself.\n\n</div>"
    )


# --- HTML pages -----------------------------------------------------------------------------------

PAGE_CSS = """
.kc-handout-banner { border: 2px solid #0072B2; border-radius: 6px; padding: 2px 14px; margin: 8px 0 16px; }
.kc-snapshot { margin: 4px 0; font-family: var(--jp-ui-font-family); font-size: var(--jp-content-font-size1);
               line-height: 1.4; }
.jupyter-widgets:has(.widget-subarea) > .kc-snapshot,
.jupyter-widgets:has(.lm-Widget) > .kc-snapshot { display: none; }
.kc-s-box { display: flex; flex-direction: column; gap: 4px; }
.kc-s-row { flex-direction: row; flex-wrap: wrap; gap: 1.5em; align-items: baseline; }
.kc-s-options { list-style: none; padding-left: 0.5em; margin: 4px 0; }
.kc-s-options li { margin: 3px 0; }
.kc-s-label { color: #444; margin-right: 0.4em; }
.kc-s-field { display: inline-block; min-width: 6em; border: 1px solid #999; border-radius: 3px; padding: 1px 6px; }
.kc-s-placeholder { color: #666; font-style: italic; }
.kc-s-tall { min-width: 60%; min-height: 4em; vertical-align: top; }
.kc-s-button { align-self: flex-start; border: 1px solid #777; border-radius: 3px; padding: 2px 10px;
               background: #eee; color: #222; }
.kc-s-row > .kc-s-button { align-self: auto; }
@media print { .kc-handout-banner { border-color: #000; } a { color: inherit; } }
"""

PAGE_TEMPLATE = (
    """{%- extends 'index.html.j2' -%}
{% block extra_css %}<style type="text/css">"""
    + PAGE_CSS
    + """</style>{% endblock extra_css %}
{%- block data_widget_view scoped %}
{% set div_id = uuid4() %}
{% set datatype_list = output.data | filter_data_type %}
{% set datatype = datatype_list[0] %}
<div id="{{ div_id }}" class="jupyter-widgets jp-OutputArea-output {{ extra_class }}">
<div class="kc-snapshot">{{ output.metadata.get('kc_snapshot', '') }}</div>
<script type="text/javascript">
var element = document.getElementById('{{ div_id }}');
</script>
<script type="{{ datatype }}">
{{ output.data[datatype] | json_dumps | escape_html_script }}
</script>
</div>
{%- endblock data_widget_view -%}
"""
)


def notebook_html(notebook) -> str:
    """The page: JupyterLab's look, no code and no prompts, the widget state and its snapshots."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({"handout.html.j2": PAGE_TEMPLATE})],
        template_file="handout.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(notebook)
    return body


def index_html(handouts: list, today: date) -> str:
    """The list of handouts, with the modules that could not be exported and why."""
    rows = []
    for h in handouts:
        name = html.escape(h.title or h.notebook.stem)
        if h.page:
            rows.append(f'<li><a href="{html.escape(h.page.name)}">{name}</a></li>')
        elif h.previous_page:
            rows.append(
                f'<li><a href="{html.escape(h.previous_page.name)}">{name}</a> <em>(an older copy: it could not '
                f"be exported this time, because {html.escape(h.problem or '')})</em></li>"
            )
        else:
            rows.append(f"<li>{name} <em>(not exported: {html.escape(h.problem or '')})</em></li>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{course_facts().title}: handouts</title>
<style>body {{ font-family: system-ui, sans-serif; max-width: 46em; margin: 2em auto; padding: 0 1em;
line-height: 1.5; color: #222; }} li {{ margin: 0.4em 0; }} a {{ color: #0072B2; }}
.banner {{ border: 2px solid #0072B2; border-radius: 6px; padding: 4px 14px; }}</style></head>
<body><h1>{course_facts().title}</h1>
<p>Handouts of the course modules, for reading offline or printing, exported on {today.day} {today:%B %Y}.</p>
<div class="banner"><p><strong>{course_facts().disclaimer}</strong> The evidence is current to
<strong>{evidence_date()}</strong>. Product labels and regulations change: check the current label and your
local protocol before treating anyone.</p></div>
<ol>
{chr(10).join(rows)}
</ol>
<p>Questions and tools appear as they first open. To answer them and see the feedback, take the course itself.</p>
</body></html>
"""


# --- the whole export -----------------------------------------------------------------------------


def export_module(notebook_path: Path, work_dir: Path, data_dir: Path, out_dir: Path, today: date) -> Handout:
    import nbformat

    handout = Handout(notebook=notebook_path, title=notebook_path.stem)
    try:
        try:
            notebook = nbformat.read(work_dir / notebook_path.name, as_version=4)
        except Exception as error:
            raise HandoutError(f"the notebook could not be read ({type(error).__name__}: {error})") from None
        handout.title = module_title(notebook) or notebook_path.stem
        run_notebook(notebook, work_dir, data_dir)
        prepare_for_reading(notebook, today)
        page = out_dir / f"{notebook_path.stem}.html"
        try:
            write_atomically(page, notebook_html(notebook), mode=0o644)
        except OSError as error:
            raise HandoutError(f"the page could not be written ({error})") from None
        handout.page = page
    except HandoutError as problem:
        handout.problem = str(problem)
        earlier = out_dir / f"{notebook_path.stem}.html"
        handout.previous_page = earlier if earlier.is_file() else None
    return handout


def export_handouts(course_folder: Path, out_dir: Path, stream=None) -> list:
    """Export every module; a module that fails is reported and the others still export.

    Nothing is exported while the course's credit facts (content/credit.yaml) are missing or invalid."""
    credit_facts()
    stream = stream or sys.stderr
    notebooks = module_notebooks(course_folder)
    today = date.today()
    handouts = []
    with tempfile.TemporaryDirectory(prefix="ketamine-course-handouts-") as scratch:
        work_dir, data_dir = Path(scratch) / "course", Path(scratch) / "progress"
        course_copy.copy_course_folder(course_folder, work_dir)
        data_dir.mkdir()
        with console_progress.bar(total=len(notebooks), unit="module", desc="Exporting handouts", stream=stream) as bar:
            for path in notebooks:
                handout = export_module(path, work_dir, data_dir, out_dir, today)
                if handout.problem:
                    bar.write(f"✘ {path.name} was not exported: {handout.problem}", file=stream)
                handouts.append(handout)
                bar.update(1)
    write_atomically(out_dir / "index.html", index_html(handouts, today), mode=0o644)
    return handouts


def cmd_handouts(args) -> int:
    from ketamine_course.storage.paths import course_root

    root = course_root()
    course_folder = root / "course"
    out_dir = Path(args.out).expanduser() if args.out else root / "handouts"
    if not module_notebooks(course_folder):
        print(f"No module notebooks (like 00_start_here.ipynb) in {course_folder}: nothing to export.", file=sys.stderr)
        return 1
    if out_dir.exists() and not out_dir.is_dir():
        print(f"{out_dir} is a file, not a folder: choose another place with --out.", file=sys.stderr)
        return 2
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".write-test"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as error:
        print(
            f"Cannot write handouts to {out_dir} ({error.strerror or error}): choose another place with --out.",
            file=sys.stderr,
        )
        return 2
    timer = console_progress.Timer()
    handouts = export_handouts(course_folder, out_dir)
    done = [h for h in handouts if h.page]
    failed = [h for h in handouts if not h.page]
    line = (
        f"Exported {len(done)} of {len(handouts)} module handouts to {out_dir} in "
        f"{console_progress.duration(timer.elapsed)}; open {out_dir / 'index.html'}."
    )
    if failed:
        line += f" Not exported: {', '.join(h.notebook.name for h in failed)} (reasons above)."
    console_progress.summary(line)
    return 1 if failed else 0


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser(
        "handouts", help="export every module as an HTML page without code, for reading offline"
    )
    parser.add_argument("--out", help="folder for the pages (default: handouts/ in the course folder)")
    parser.set_defaults(run=cmd_handouts)
