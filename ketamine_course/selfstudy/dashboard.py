"""The learner's dashboard: progress by module and objective, Grade my work, and the certificate.

Three panels, each one call from a notebook (course/my_progress.ipynb, and a short version in
Start here): `progress_panel()`, `grade_panel()`, `certificate_panel()`. Everything is a button,
a box or a chart; the work is done by storage/progress_record.py, progress_report, grade_my_work and
certificate.
"""

from __future__ import annotations

import base64
import html

import ipywidgets as w
from IPython.display import HTML, clear_output, display

from ketamine_course.content import assessments
from ketamine_course.core.errors import CourseError
from ketamine_course.selfstudy import certificate, grade_my_work, progress_report
from ketamine_course.storage import progress_record
from ketamine_course.storage.paths import assignment_names
from ketamine_course.widgets import theme
from ketamine_course.widgets.theme import CORRECT, INFO, WRONG, panel, status_html


def _download_link(path, label: str, mime: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f"<a download='{html.escape(path.name)}' href='data:{mime};base64,{data}' "
        f"style='font-weight:bold'>{html.escape(label)}</a>"
    )


def _frame(page_html: str, height: int, title: str) -> str:
    return (
        f"<iframe title='{html.escape(title)}' srcdoc=\"{html.escape(page_html, quote=True)}\" "
        f"style='width:100%;height:{height}px;border:1px solid #ccc;background:white'></iframe>"
    )


# --- progress ----------------------------------------------------------------------------------


def _module_table(report) -> str:
    rows = "".join(
        f"<tr><td style='text-align:left'>{html.escape(m.title)}</td><td>{m.answered} / {m.total}</td>"
        f"<td>{progress_report._percent(m.score)}</td></tr>"
        for m in report.modules
    )
    review = report.to_review()
    advice = (
        (
            "<p>Objectives to review: "
            + "; ".join(html.escape(o.objective_id) for o in review)
            + ". The dashboard links to the sections.</p>"
        )
        if review
        else ""
    )
    return (
        "<table class='kc-module-table'><thead><tr><th style='text-align:left'>Module</th><th>Answered</th>"
        f"<th>Score</th></tr></thead><tbody>{rows}</tbody></table>{advice}"
    )


def _button(description: str, tooltip: str, style: str = "", **extra) -> w.Button:
    """A dashboard button as wide as its words."""
    return theme.button(description, style, tooltip=tooltip, layout=w.Layout(width="auto"), **extra)


def progress_panel(compact: bool = False):
    """Progress by module and objective, with review links; reset and fresh start ask first."""
    from ketamine_course.widgets.figures import figure_html

    output = w.Output()
    notice = w.HTML()
    notice.add_class("kc-progress-notice")
    refresh = _button("Refresh my progress", "Read your latest answers from every module", "info", icon="refresh")
    reset = _button("Reset my progress…", "Start again (asks first)")
    fresh = theme.button(
        "Start fresh",
        "warning",
        layout=w.Layout(display="none", width="auto"),
        tooltip="Keep the unreadable file aside and start recording again",
    )
    confirm_text = w.HTML()
    confirm_yes = theme.button("Yes, reset", "danger")
    confirm_no = w.Button(description="Cancel")
    confirm = w.HBox([confirm_text, confirm_yes, confirm_no], layout=w.Layout(display="none"))
    confirm.add_class("kc-reset-confirm")

    def show(*_):
        report = progress_report.build()
        if report.unreadable:
            notice.value = status_html(
                " ".join(html.escape(p) for p in report.problems) + " Nothing has been "
                "deleted. Choose <b>Start fresh</b> to keep that file aside and record from now "
                "on; it is also kept aside automatically when you next answer a quick check.",
                WRONG,
            )
            fresh.layout.display = ""
        elif report.problems:
            notice.value = status_html(" ".join(html.escape(p) for p in report.problems), INFO)
            fresh.layout.display = "none"
        else:
            notice.value = status_html(
                f"You have answered {report.answered} of {report.total} quick checks. "
                "Answers are recorded on this computer only, in your own data folder."
            )
            fresh.layout.display = "none"
        with output:
            clear_output(wait=True)
            if compact:
                display(
                    HTML(
                        _module_table(report) + "<p>See <a href='my_progress.ipynb'>My progress</a> for "
                        "the chart, every objective, Grade my work and your certificate.</p>"
                    )
                )
            else:
                alt = (
                    f"Bar chart of progress by module: {report.answered} of {report.total} quick checks answered; "
                    + "; ".join(f"{m.title}: {m.answered} of {m.total} answered" for m in report.modules)
                )
                by_objective = "Bar chart by learning objective: " + "; ".join(
                    f"{o.objective_id} {o.status}" for m in report.modules for o in m.objectives
                )
                display(
                    HTML(
                        figure_html(progress_report.module_chart(report), "Your quick checks by module.", alt)
                        + figure_html(
                            progress_report.objective_chart(report),
                            "Your quick checks by learning objective; the table below names each "
                            "objective and links to the sections to review.",
                            by_objective,
                        )
                        + progress_report.table_html(report)
                    )
                )

    def ask(*_):
        count = progress_report.build().answered
        confirm_text.value = (
            f"<b>Clear {count} recorded answer(s) and start again?</b> The old record is kept aside, not deleted."
        )
        confirm.layout.display = ""

    def do_reset(*_):
        kept = progress_record.start_afresh("reset")
        confirm.layout.display = "none"
        show()
        if kept:
            notice.value = status_html(f"Progress reset. The old record was kept as {html.escape(str(kept))}.", CORRECT)

    def start_fresh(*_):
        kept = progress_record.start_afresh("unreadable")
        show()
        if kept:
            notice.value = status_html(
                f"Starting fresh. The unreadable file was kept as {html.escape(str(kept))}.", CORRECT
            )

    def cancel(*_):
        confirm.layout.display = "none"

    refresh.on_click(show)
    reset.on_click(ask)
    confirm_yes.on_click(do_reset)
    confirm_no.on_click(cancel)
    fresh.on_click(start_fresh)
    show()
    buttons = [refresh] if compact else [refresh, fresh, reset]
    box = panel([w.HBox(buttons), confirm, notice, output], "kc-progress")
    box.refresh_button, box.reset_button, box.fresh_button = refresh, reset, fresh
    box.confirm_yes, box.confirm_no, box.notice, box.output = confirm_yes, confirm_no, notice, output
    return box


# --- grade my work -----------------------------------------------------------------------------


def grade_panel():
    """Choose an assignment and grade your own copy with nbgrader; the feedback page opens below."""
    titles = {name: a.title for name, a in assessments().items()}
    names = assignment_names()
    choice = w.Dropdown(
        options=[(titles.get(n, n), n) for n in names],
        value=names[0] if names else None,
        description="Assignment",
        layout=w.Layout(width="auto"),
    )
    button = _button("Grade my work", "Grade your answers with nbgrader and show the feedback", "primary", icon="check")
    status = w.HTML(status_html("Answer an assignment (in the assignments folder), then grade it here."))
    status.add_class("kc-grade-status")
    result = w.HTML()
    result.add_class("kc-grade-result")

    def run(*_):
        name = choice.value
        button.disabled = True
        status.value = status_html(f"Grading {html.escape(titles.get(name, name))} with nbgrader… about half a minute.")
        result.value = ""
        try:
            grade = grade_my_work.grade_my_work(name)
        except CourseError as problem:  # the message says what to do
            status.value = status_html(html.escape(str(problem)).replace("\n", "<br>"), WRONG)
            return
        finally:
            button.disabled = False
        status.value = status_html(html.escape(grade_my_work.summary_line(grade)), CORRECT)
        pages = "".join(
            _download_link(p, f"Download the feedback page ({p.name})", "text/html")
            + "<br>"
            + _frame(p.read_text(encoding="utf-8"), 520, "Feedback")
            for p in grade.feedback
        )
        result.value = f"<p>Your feedback (grading again replaces it):</p>{pages}"

    button.on_click(run)
    box = panel([w.HBox([choice, button]), status, result], "kc-grade-my-work")
    box.choice, box.button, box.status, box.result = choice, button, status, result
    return box


# --- certificate -------------------------------------------------------------------------------


def _standing_html(standing) -> str:
    rows = []
    for name, title, grade, passed in standing.rows:
        result = "not graded yet" if grade is None else f"{grade.percent:.0f}%"
        mark = CORRECT if passed else WRONG if grade is not None else INFO
        rows.append(f"<tr><td style='text-align:left'>{html.escape(title)}</td><td>{result}</td><td>{mark}</td></tr>")
    return (
        f"<table class='kc-standing'><thead><tr><th style='text-align:left'>Assessment</th><th>Score</th>"
        f"<th>Pass ({standing.pass_mark:g}%)</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def certificate_panel():
    """Your name and a button: the certificate, made only when every assessment is passed."""
    name = w.Text(placeholder="Your name as it should appear", description="Name", layout=w.Layout(width="28em"))
    button = _button("Make my certificate", "", "success", icon="certificate")
    table = w.HTML(_standing_html(certificate.standing()))
    status = w.HTML()
    status.add_class("kc-certificate-status")
    result = w.HTML()
    result.add_class("kc-certificate")

    def make(*_):
        table.value = _standing_html(certificate.standing())
        result.value = ""
        try:
            written = certificate.make_certificate(name.value)
        except certificate.NotEligible as reason:
            lines = str(reason).splitlines()
            items = "".join(f"<li>{html.escape(line.lstrip('- '))}</li>" for line in lines[1:])
            status.value = status_html(f"<b>Not yet.</b> {html.escape(lines[0])}<ul>{items}</ul>", WRONG)
            return
        page = written[0]
        links = " · ".join(
            _download_link(
                p, f"Download ({p.suffix[1:].upper()})", "application/pdf" if p.suffix == ".pdf" else "text/html"
            )
            for p in written
        )
        pdf_note = "" if len(written) > 1 else " No PDF could be made here: open the HTML page and print it to PDF."
        status.value = status_html(
            "Your certificate is ready, made from your recorded grades. It is unsigned, because it was made on "
            f"this computer; a signed certificate for credit comes from the course owner.{pdf_note}",
            CORRECT,
        )
        result.value = f"<p>{links}</p>{_frame(page.read_text(encoding='utf-8'), 560, 'Certificate')}"

    button.on_click(make)
    box = panel([table, w.HBox([name, button]), status, result], "kc-certificate-panel")
    box.name, box.button, box.status, box.result, box.table = name, button, status, result, table
    return box
