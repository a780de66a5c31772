"""One-line calls for the notebooks: quizzes, graded items, patient cards and reference lists.

Everything a notebook shows comes through here, so notebooks stay thin:
`ui.quiz("m0.q1")`, `ui.item("ps0.q1")`, `ui.vignette("ps0.v1")`, `ui.references("00_start_here.ipynb")`,
and the dashboard's `ui.my_progress()`, `ui.grade_my_work()`, `ui.certificate()`.
"""
from __future__ import annotations

import html

from IPython.display import HTML

from . import answer_store, widgets
from .citations import inline_html, keys_cited_in_notebook, reference_list_html
from .content import question_banks, vignette as find_vignette


def quiz(question_id: str):
    """A formative question with instant feedback."""
    return widgets.formative(question_id)


def item(item_id: str):
    """A graded item whose answer is saved beside the notebook."""
    return widgets.graded(item_id)


def record(item_id: str, value) -> None:
    """Save an answer as the widget would: used by the instructor's solution notebooks."""
    answer_store.save_answer(item_id, value)


def vignette(vignette_id: str):
    """A patient card for a case vignette."""
    v = find_vignette(vignette_id)
    rows = "".join(f"<tr><th style='text-align:left;vertical-align:top;padding-right:1em'>{html.escape(k)}</th>"
                   f"<td style='text-align:left'>{html.escape(val)}</td></tr>" for k, val in v.facts.items())
    cite = f"<p><small>Sources for the clinical details: {inline_html(v.refs)}</small></p>" if v.refs else ""
    return HTML(f"<div class='kc-vignette' role='region' aria-label='Patient card: {html.escape(v.title)}' "
                f"style='border:2px solid #0072B2;border-radius:6px;padding:10px 14px;margin:8px 0'>"
                f"<h4 style='margin-top:0'>🩺 {html.escape(v.title)}</h4>"
                f"<p><b>{html.escape(v.patient)}</b><br><i>{html.escape(v.setting)}</i></p>"
                f"<table>{rows}</table>{cite}<p><small>A teaching case: the patient is fictional.</small></p></div>")


def references(notebook_file: str, module: str | None = None):
    """The module's reference list: every source its text cites, plus those its quiz options cite."""
    keys = keys_cited_in_notebook(notebook_file)
    if module is not None:
        bank = question_banks()[module]
        for q in bank.questions:
            keys += list(q.refs) + [r for o in getattr(q, "options", []) for r in o.refs]
    return HTML("<h3>References</h3>" + reference_list_html(keys))



def my_progress():
    """The learner's progress by module and objective, with review links (the dashboard)."""
    from .dashboard import progress_panel

    return progress_panel()


def progress_overview():
    """A short progress table by module, for Start here, linking to the dashboard."""
    from .dashboard import progress_panel

    return progress_panel(compact=True)


def grade_my_work():
    """Grade your own copy of an assignment with nbgrader and see the feedback."""
    from .dashboard import grade_panel

    return grade_panel()


def certificate():
    """The certificate of completion, made only from real grades at or above the pass mark."""
    from .dashboard import certificate_panel

    return certificate_panel()


def us_eu_table():
    """Esketamine's US and EU rules side by side, filterable by topic and by jurisdiction."""
    from .regulatory_table import show

    return show()
