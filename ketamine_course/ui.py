"""One-line calls for the notebooks: quizzes, graded items, patient cards, explorers and reference lists.

Everything a notebook shows comes through here, and notebooks import nothing else from the course
(hidden tests import `grading`): `ui.quiz("m0.q1")`, `ui.item("ps0.q1")`, `ui.vignette("ps0.v1")`,
`ui.pk_explorer()`, `ui.references("00_start_here.ipynb")`, the dashboard's `ui.my_progress()` and so
on. Explorers load their plotting libraries only when called.
"""

from __future__ import annotations

import html

from IPython.display import HTML

from ketamine_course.content import question_banks
from ketamine_course.content import vignette as find_vignette
from ketamine_course.content.citations import inline_html, keys_cited_in_notebook, reference_list_html
from ketamine_course.storage import answer_store
from ketamine_course.widgets import questions, theme


def quiz(question_id: str):
    """A formative question with instant feedback."""
    return questions.formative(question_id)


def item(item_id: str):
    """A graded item whose answer is saved beside the notebook."""
    return questions.graded(item_id)


def record(item_id: str, value) -> None:
    """Save an answer as the widget would: used by the instructor's solution notebooks."""
    answer_store.save_answer(item_id, value)


def vignette(vignette_id: str):
    """A patient card for a case vignette."""
    v = find_vignette(vignette_id)
    rows = "".join(
        f"<tr><th style='text-align:left;vertical-align:top;padding-right:1em'>{html.escape(k)}</th>"
        f"<td style='text-align:left'>{html.escape(val)}</td></tr>"
        for k, val in v.facts.items()
    )
    cite = f"<p><small>Sources for the clinical details: {inline_html(v.refs)}</small></p>" if v.refs else ""
    body = (
        f"<p><b>{html.escape(v.patient)}</b><br><i>{html.escape(v.setting)}</i></p>"
        f"<table>{rows}</table>{cite}<p><small>A teaching case: the patient is fictional.</small></p>"
    )
    return HTML(theme.card_html("kc-vignette", f"🩺 {html.escape(v.title)}", body, label=f"Patient card: {v.title}"))


def references(notebook_file: str, module: str | None = None):
    """The module's reference list: every source its text cites, plus those its quiz options cite."""
    keys = keys_cited_in_notebook(notebook_file)
    if module is not None:
        bank = question_banks()[module]
        for q in bank.questions:
            keys += list(q.refs) + [r for o in getattr(q, "options", []) for r in o.refs]
    return HTML(theme.LINK_STYLE + "<h3>References</h3>" + reference_list_html(keys))


def my_progress():
    """The learner's progress by module and objective, with review links (the dashboard)."""
    from ketamine_course.selfstudy.dashboard import progress_panel

    return progress_panel()


def progress_overview():
    """A short progress table by module, for Start here, linking to the dashboard."""
    from ketamine_course.selfstudy.dashboard import progress_panel

    return progress_panel(compact=True)


def grade_my_work():
    """Grade your own copy of an assignment with nbgrader and see the feedback."""
    from ketamine_course.selfstudy.dashboard import grade_panel

    return grade_panel()


def certificate():
    """The certificate of completion, made only from real grades at or above the pass mark."""
    from ketamine_course.selfstudy.dashboard import certificate_panel

    return certificate_panel()


def course_card():
    """The course's facts for credit: objectives, time, dates, team and disclosures, off-label use, pass mark."""
    from ketamine_course.widgets.course_card import card_html

    return HTML(card_html())


def evaluation(beside_notebook: bool = False):
    """The learner's evaluation of the course (beside_notebook: saved with the assignment, to be submitted)."""
    from ketamine_course.widgets.evaluation_form import show

    return show(beside_notebook)


def us_eu_table():
    """Esketamine's US and EU rules side by side, filterable by topic and by jurisdiction."""
    from ketamine_course.widgets import regulatory_table

    return regulatory_table.show()


# --- Module 1: mechanism -----------------------------------------------------------------------


def receptor_diagram():
    """The NMDA-receptor mechanism diagram, with its description for screen readers."""
    from ketamine_course.widgets import mechanism_diagram

    return mechanism_diagram.show()


def pk_explorer():
    """Concentration-time curves by route and dose, with the dissociation band."""
    from ketamine_course.widgets import pk_explorer as explorer

    return explorer.show()


# --- Module 2: candidacy -----------------------------------------------------------------------


def evidence_map():
    """Where the evidence is strong, weak or absent, by patient group."""
    from ketamine_course.widgets import evidence_map as explorer

    return explorer.show()


def screening_explorer():
    """The screening checklist: a fictional patient's answers in, the rules that apply out (US, EU or both)."""
    from ketamine_course.widgets import screening_explorer as explorer

    return explorer.show()


def screening_rules():
    """Every rule the screening checklist applies, with its source and jurisdiction."""
    from ketamine_course.widgets import screening_explorer as explorer

    return explorer.show_rules()


# --- Module 3: benefits ------------------------------------------------------------------------


def evidence_explorer():
    """Trial results as effect sizes, with intervals and NNTs."""
    from ketamine_course.widgets import evidence_explorer as explorer

    return explorer.show()


def harms_explorer():
    """Harms from the label's trials as numbers needed to harm, beside the benefits."""
    from ketamine_course.widgets import evidence_explorer as explorer

    return explorer.show_harms()


def response_time_course():
    """How response and remission develop over the weeks of the trials."""
    from ketamine_course.widgets import evidence_explorer as explorer

    return explorer.show_time_course()


# --- Module 4: risks ---------------------------------------------------------------------------


def adverse_effect_profile():
    """How often each adverse effect occurred, with and without treatment."""
    from ketamine_course.widgets import adverse_effect_charts

    return adverse_effect_charts.show_profile()


def adverse_effect_time_course():
    """When after a dose the adverse effects come and go."""
    from ketamine_course.widgets import adverse_effect_charts

    return adverse_effect_charts.show_time_course()


def unplotted_harms():
    """Harms the figures leave out, in a table with their sources."""
    from ketamine_course.widgets import adverse_effect_charts

    return adverse_effect_charts.show_unplotted()


def long_term_harms():
    """What is known of harms with long-term and recreational use."""
    from ketamine_course.widgets import adverse_effect_charts

    return adverse_effect_charts.show_long_term()


def session_simulator(scenario_id: str | None = None):
    """The treatment-session simulator: the learner decides, the fictional patient's vital signs follow."""
    from ketamine_course.widgets import monitoring_explorer

    return monitoring_explorer.show(scenario_id)


def simulator_step(scenario_id: str, phase: str, branch: str | None = None):
    """One moment of a simulated session, as a card (for a graded item about it)."""
    from ketamine_course.widgets import monitoring_explorer

    return monitoring_explorer.step_card(scenario_id, phase, branch)


def protocol_card(jurisdiction: str | None = None):
    """The session protocol, with a US/EU switch."""
    from ketamine_course.widgets import monitoring_explorer

    return monitoring_explorer.protocol_card(jurisdiction)
