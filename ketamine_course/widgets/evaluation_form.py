"""The learner's evaluation of the course: a short form at the end, saved with the learner's data.

The questions are those of content/credit.yaml (`evaluation`): agreement scales, a choice, hours taken
and free text, with an optional name and professional id for the certificate and credit reporting.
In my_progress the form saves to the learner's data folder; with the last assignment
(`beside_notebook=True`) it saves beside the notebook, so that nbgrader submits it with the answers.
"""

from __future__ import annotations

import html
import os

import ipywidgets as w

from ketamine_course.content import credit_facts
from ketamine_course.runtime.nbgrader import autograding
from ketamine_course.storage import evaluation_record
from ketamine_course.storage.answer_store import is_source_folder
from ketamine_course.widgets.theme import CORRECT, WARNING, panel, status_html

SCALE_LABELS = ["1 · strongly disagree", "2 · disagree", "3 · neither", "4 · agree", "5 · strongly agree"]
WIDE = w.Layout(width="95%")


def _control(question, saved):
    """The control for one question, showing the saved answer."""
    if question.type == "scale":
        options = [(label, i + 1) for i, label in enumerate(SCALE_LABELS)]
        return w.RadioButtons(options=options, value=saved, description="Answer", layout=w.Layout(width="auto"))
    if question.type == "choice":
        return w.RadioButtons(
            options=question.options, value=saved, description="Answer", layout=w.Layout(width="auto")
        )
    if question.type == "hours":
        return w.BoundedFloatText(
            value=saved or 0, min=0, max=evaluation_record.MAX_HOURS, step=0.5, description="hours"
        )
    if question.id in ("certificate_name", "professional_id"):
        return w.Text(value=saved or "", description="Answer", layout=WIDE)
    return w.Textarea(value=saved or "", description="Answer", layout=WIDE, rows=3)


def target_folder(beside_notebook: bool):
    """Where the form saves: the learner's data folder, or the notebook's folder (None: nowhere, instructor's copy)."""
    if not beside_notebook:
        return evaluation_record.data_dir()
    return None if is_source_folder() else os.getcwd()


def show(beside_notebook: bool = False):
    """The evaluation form with its Save button."""
    if autograding():
        return w.HTML("<p>The course evaluation is not graded.</p>")
    folder = target_folder(beside_notebook)
    saved = (
        evaluation_record.read(evaluation_record.evaluation_path(folder)) if folder else evaluation_record.Evaluation()
    )
    rows, controls = [], {}
    for question in credit_facts().evaluation:
        control = _control(question, saved.answers.get(question.id))
        control.add_class(f"kc-evaluation-{question.id}")
        label = w.HTML(f"<b>{html.escape(question.text)}</b>")
        control.tooltip = question.text
        controls[question.id] = control
        rows.append(w.VBox([label, control]))
    status = w.HTML(status_html(" ".join(saved.problems), WARNING) if saved.problems else "")
    button = w.Button(description="Save my evaluation", button_style="success", icon="check")

    def save(*_):
        answers = {qid: (c.value or None) for qid, c in controls.items()}
        if folder is None:
            status.value = status_html("The instructor's copy keeps no evaluation.", WARNING)
            return
        result = evaluation_record.save(answers, folder)
        where = evaluation_record.evaluation_path(folder)
        note = (
            "It is submitted with this assignment."
            if beside_notebook
            else f"To send it to the course owner, attach the file {where}."
        )
        status.value = status_html(f"Thank you: your evaluation is saved. {note} " + " ".join(result.problems), CORRECT)

    button.on_click(save)
    intro = w.HTML(
        "<p>Your evaluation helps the course team, and accrediting bodies ask for it. Every question is "
        "optional; you can change your answers and save again.</p>"
    )
    return panel([intro, *rows, button, status], "kc-evaluation")
