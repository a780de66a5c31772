"""Handouts: the real command exports every module as a page without code, and survives a broken one."""

from __future__ import annotations

import html
import re

import nbformat
import pytest
from lab_browser import file_violations

from ketamine_course.content.citations import evidence_date
from ketamine_course.publish import handouts, widget_snapshot

from conftest import REPO, copy_course, run_handouts

pytestmark = pytest.mark.xdist_group("handouts")  # one worker: the handouts are exported once (conftest.py)

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


@pytest.fixture(scope="module")
def exported(exported_handouts):
    return exported_handouts  # conftest.py: test_key_secrecy.py reads the same pages


@pytest.mark.kernel
def test_every_module_is_exported_with_a_summary_and_a_progress_bar(exported):
    root, scratch, _, result = exported
    modules = handouts.module_notebooks(root / "course")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Exported {len(modules)} of {len(modules)} module handouts" in result.stdout
    assert f"Exporting handouts: {len(modules)}/{len(modules)}" in result.stderr
    assert "left" in result.stderr, "the bar says how long is left"
    assert "Traceback" not in result.stderr


@pytest.mark.kernel
@pytest.mark.parametrize("name", [p.name for p in handouts.module_notebooks(REPO / "course")])
def test_each_page_reads_without_code_and_carries_title_references_and_widget_state(exported, name):
    root, scratch, _, _ = exported
    page = (scratch / "pages" / name).with_suffix(".html").read_text(encoding="utf-8")
    notebook = nbformat.read(root / "course" / name, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for line in cell.source.splitlines():
                assert line.strip() not in page, f"code is on the page: {line}"
    assert "ui.quiz(" not in page and "import ui" not in page
    title = handouts.module_title(notebook)
    assert f"<title>{html.escape(title)}" in page
    assert re.search(r"<h1[^>]*>" + re.escape(html.escape(title)), page), "the module's heading"
    assert "<h3>References</h3>" in page and 'id="ref-' in page
    cited = set(re.findall(r'href="#ref-([a-z0-9_]+)"', page))
    assert cited and all(f'id="ref-{key}"' in page for key in cited), "every citation link has its entry"
    assert f"current to <strong>{evidence_date()}</strong>" in page
    assert "Education, not medical advice." in page
    assert f'<script type="{WIDGET_STATE}">' in page, "the widgets' state is stored in the page"
    assert 'class="kc-snapshot"><div class="kc-s-box' in page, "and drawn as a snapshot for offline reading"


@pytest.mark.kernel
def test_quick_checks_show_their_question_and_options_offline(exported):
    _, scratch, _, _ = exported
    page = (scratch / "pages" / "00_start_here.html").read_text(encoding="utf-8")
    snapshot = page.split("[m0.q1]", 1)[1][:3000]
    assert "○ Esketamine nasal spray, given in a certified healthcare setting" in snapshot
    assert "◉" not in snapshot, "nothing is chosen in a fresh handout"


@pytest.mark.kernel
def test_index_lists_every_module_and_the_export_touches_nothing_of_the_learner(exported):
    root, scratch, before, _ = exported
    index = (scratch / "pages" / "index.html").read_text(encoding="utf-8")
    for path in handouts.module_notebooks(root / "course"):
        assert f'href="{path.stem}.html"' in index
    assert "Education, not medical advice." in index and evidence_date() in index
    assert sorted(p.name for p in (root / "course").iterdir()) == before, "nothing written into course/"
    learner_data = scratch / "learner-data"
    assert not learner_data.exists() or not any(learner_data.iterdir()), "no progress recorded or read"


@pytest.mark.kernel
def test_a_module_that_fails_is_reported_and_the_others_still_export(tmp_path):
    root = copy_course(tmp_path / "course_root")
    course = root / "course"
    for path in handouts.module_notebooks(course)[1:]:  # Start here, plus two broken modules, keeps it quick
        path.unlink()
    start_here = nbformat.read(course / "00_start_here.ipynb", as_version=4)
    left_out = {"## Before you start": handouts.LAB_ONLY_TAG, "## How this course works": handouts.NO_HANDOUT_TAG}
    for cell in start_here.cells:
        for heading, tag in left_out.items():
            if cell.source.startswith(heading):
                cell.metadata["tags"] = [tag]
    nbformat.write(start_here, course / "00_start_here.ipynb")
    broken = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Module 8 · Broken"),
            nbformat.v4.new_code_cell("from ketamine_course import ui"),
            nbformat.v4.new_code_cell('ui.quiz("m8.no_such_question")'),
        ]
    )
    broken.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(broken, course / "08_broken.ipynb")
    (course / "09_damaged.ipynb").write_text("{ this is not a notebook", encoding="utf-8")
    out = tmp_path / "pages"
    out.mkdir()
    (out / "08_broken.html").write_text("an older export", encoding="utf-8")

    result = run_handouts(root, tmp_path / "learner-data", "--out", str(out))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        '✘ 08_broken.ipynb was not exported: it stopped at cell 3 (ui.quiz("m8.no_such_question")) with ContentError'
        in result.stderr
    )
    assert "✘ 09_damaged.ipynb was not exported: the notebook could not be read" in result.stderr
    assert "Exported 1 of 3 module handouts" in result.stdout
    assert "Not exported: 08_broken.ipynb, 09_damaged.ipynb" in result.stdout
    start_page = (out / "00_start_here.html").read_text(encoding="utf-8")
    assert "[m0.q1]" in start_page
    assert "Module 0 · Start here" in start_page
    for heading in left_out:  # cells tagged lab-only or no-handout are not in the handout
        assert heading.lstrip("# ") not in start_page, heading
    assert (out / "08_broken.html").read_text() == "an older export", "an earlier page is never deleted"
    assert not (out / "09_damaged.html").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="00_start_here.html"' in index
    assert 'href="08_broken.html">Module 8 · Broken</a> <em>(an older copy' in index
    assert "09_damaged" in index and "not exported: the notebook could not be read" in index


def test_an_output_folder_that_cannot_be_used_gets_a_clear_message(tmp_path):
    root = copy_course(tmp_path / "course_root")
    not_a_folder = tmp_path / "handouts.txt"
    not_a_folder.write_text("notes", encoding="utf-8")
    result = run_handouts(root, tmp_path / "data", "--out", str(not_a_folder))
    assert result.returncode == 2
    assert "is a file, not a folder" in result.stderr and "Traceback" not in result.stderr
    assert not_a_folder.read_text() == "notes"


def test_snapshot_draws_the_stored_state_and_leaves_out_hidden_widgets():
    layout = {"model_name": "LayoutModel", "state": {}}
    hidden = {"model_name": "LayoutModel", "state": {"display": "none"}}
    state = {
        "box": {
            "model_name": "VBoxModel",
            "state": {
                "children": ["IPY_MODEL_q", "IPY_MODEL_dose", "IPY_MODEL_unit"],
                "layout": "IPY_MODEL_l",
                "_dom_classes": ["kc-question"],
            },
        },
        "q": {
            "model_name": "RadioButtonsModel",
            "state": {
                "_options_labels": ["Yes", "No <sure>"],
                "index": 1,
                "description": "Answer",
                "layout": "IPY_MODEL_l",
            },
        },
        "dose": {
            "model_name": "FloatSliderModel",
            "state": {"value": 0.5, "description": "Dose", "layout": "IPY_MODEL_h"},
        },
        "unit": {
            "model_name": "DropdownModel",
            "state": {"_options_labels": ["mg", "mg/kg"], "index": 1, "description": "Unit", "layout": "IPY_MODEL_l"},
        },
        "l": layout,
        "h": hidden,
    }
    drawn = widget_snapshot.snapshot_html(state, "box")
    assert 'class="kc-s-box kc-question"' in drawn
    assert "○ Yes" in drawn and "◉ No &lt;sure&gt;" in drawn
    assert "Dose" not in drawn, "a widget hidden by its layout is not drawn"
    assert "<option selected>mg/kg</option>" in drawn
    assert widget_snapshot.snapshot_html(state, "missing") == ""


@pytest.mark.browser
@pytest.mark.kernel
@pytest.mark.parametrize("name", ["index", *(p.stem for p in handouts.module_notebooks(REPO / "course"))])
def test_every_handout_has_no_serious_accessibility_violations(exported, browser, name):
    root, scratch, _, _ = exported
    found = file_violations(browser, scratch / "pages" / f"{name}.html")
    assert not found, "\n".join(found)
