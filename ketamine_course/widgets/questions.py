"""Question widgets: one input per question type, in two modes.

Formative (course/): the learner answers and sees at once whether it is right, with the rationale
of what they chose and its reference. Graded (assignments/): each answer is saved to the answer
store as it is given; the learner sees "saved" and no key is present. During autograding (no
browser) a graded item prints the saved answer as text, so graders and feedback can read it.
"""

from __future__ import annotations

import html

import ipywidgets as w

from ketamine_course.content import graded_item, question
from ketamine_course.content.citations import inline_html
from ketamine_course.core import scoring
from ketamine_course.runtime import nbgrader
from ketamine_course.storage import answer_store, progress_record
from ketamine_course.widgets import theme
from ketamine_course.widgets.theme import CORRECT, INFO, LINK_STYLE, MUTED, PARTLY, WRONG, panel, status_html

# Long answer options wrap instead of overlapping (ipywidgets gives radio labels one fixed line).
STYLE = (
    LINK_STYLE + "<style>.kc-question .widget-radio-box label, .kc-question .widget-checkbox label"
    "{white-space:normal;height:auto;line-height:1.35;margin:3px 0;align-items:flex-start}"
    ".kc-question .widget-checkbox{height:auto}"
    ".kc-question .widget-radio-box input, .kc-question .widget-checkbox input{margin-top:3px}</style>"
)


def _box(*children, label: str):
    return panel([w.HTML(STYLE), *children], "kc-question", f"kc-{label}")


def _stem_html(item_id: str, stem: str, kind: str) -> w.HTML:
    hint = {
        "single": "Choose one answer.",
        "multiple": "Choose every answer that applies.",
        "numeric": "Type a number and choose its unit.",
        "ordering": "Put the steps in order: choose a step for each position.",
        "reflection": "Write a few sentences in the box.",
    }[kind]
    return w.HTML(
        f'<div class="kc-stem"><b>{html.escape(stem)}</b><br><small>{hint} '
        f'<span style="color:{MUTED}">[{html.escape(item_id)}]</span></small></div>'
    )


class AnswerInput:
    """The input part of a question: builds the controls, reads and sets the answer value."""

    def __init__(self, item_id, kind, options=(), units=(), steps=()):
        self.kind = kind
        self.item_id = item_id
        if kind == "single":
            self.control = w.RadioButtons(
                options=[(o.text, o.id) for o in options],
                value=None,
                description="Answer",
                layout=w.Layout(width="auto"),
            )
            self.controls = [self.control]
        elif kind == "multiple":
            self.checks = [
                w.Checkbox(value=False, description=o.text, indent=False, layout=w.Layout(width="auto"))
                for o in options
            ]
            self.option_ids = [o.id for o in options]
            self.controls = self.checks
        elif kind == "numeric":
            self.number = w.Text(value="", placeholder="a number", description="Answer", continuous_update=False)
            self.unit = w.Dropdown(options=list(units), value=units[0], description="Unit")
            self.controls = [w.HBox([self.number, self.unit])]
        elif kind == "ordering":
            choices = [("— choose a step —", None)] + [(s.text, s.id) for s in steps]
            self.positions = [
                w.Dropdown(options=choices, value=None, description=f"Step {n}", layout=w.Layout(width="95%"))
                for n in range(1, len(steps) + 1)
            ]
            self.controls = self.positions
        elif kind == "reflection":
            self.text = w.Textarea(
                value="",
                placeholder="Your answer",
                description="Answer",
                continuous_update=False,
                layout=w.Layout(width="95%", height="8em"),
            )
            self.controls = [self.text]
        else:  # pragma: no cover - the models allow no other type
            raise ValueError(kind)

    def value(self):
        """The answer in the form the scoring functions and the answer store use; None if empty."""
        if self.kind == "single":
            return self.control.value
        if self.kind == "multiple":
            picked = [oid for oid, box in zip(self.option_ids, self.checks) if box.value]
            return picked or None
        if self.kind == "numeric":
            text = self.number.value.strip().replace(",", ".")
            if not text:
                return None
            try:
                return {"value": float(text), "unit": self.unit.value}
            except ValueError:
                return {"value": text, "unit": self.unit.value}
        if self.kind == "ordering":
            chosen = [d.value for d in self.positions]
            return None if all(c is None for c in chosen) else chosen
        return self.text.value if self.text.value.strip() else None

    def set_value(self, value) -> None:
        """Show a previously saved answer; anything unusable is left blank."""
        try:
            if self.kind == "single":
                self.control.value = value
            elif self.kind == "multiple" and isinstance(value, list):
                for oid, box in zip(self.option_ids, self.checks):
                    box.value = oid in value
            elif self.kind == "numeric":
                self.number.value = str(value["value"])
                if value["unit"] in self.unit.options:
                    self.unit.value = value["unit"]
            elif self.kind == "ordering" and isinstance(value, list):
                for dropdown, step in zip(self.positions, value):
                    dropdown.value = step
            elif self.kind == "reflection":
                self.text.value = str(value)
        except Exception:  # a hand-edited store must never stop the notebook
            pass

    def observe(self, callback) -> None:
        widgets = {
            "single": lambda: [self.control],
            "multiple": lambda: self.checks,
            "numeric": lambda: [self.number, self.unit],
            "ordering": lambda: self.positions,
            "reflection": lambda: [self.text],
        }[self.kind]()
        for widget in widgets:
            widget.observe(lambda change: callback(), names="value")


# --- formative -------------------------------------------------------------------------------


def formative_outcome(q, answer) -> scoring.Outcome:
    """How a formative answer scores, with the key the question bank holds."""
    keys = {
        "single": lambda: next(o.id for o in q.options if o.correct),
        "multiple": lambda: [o.id for o in q.options if o.correct],
        "numeric": lambda: {"value": q.answer.value, "unit": q.answer.unit, "tolerance": q.answer.tolerance},
        "ordering": lambda: q.order,
        "reflection": lambda: None,
    }
    return scoring.score_item(q.type, answer, keys[q.type](), [o.id for o in getattr(q, "options", [])])


def formative_feedback(q, answer) -> str:
    """Instant feedback HTML for a formative question: verdict, rationale, reference."""
    outcome = formative_outcome(q, answer)
    if q.type == "single":
        if not outcome.answered:
            return status_html(outcome.verdict)
        chosen = next(o for o in q.options if o.id == answer)
        symbol = CORRECT if outcome.correct else WRONG
        return status_html(
            f"<b>{outcome.verdict}</b> {html.escape(chosen.rationale)} {inline_html(chosen.refs)}", symbol
        )
    if q.type == "multiple":
        if not outcome.answered:
            return status_html(outcome.verdict)
        lines = []
        for o in q.options:
            mark = CORRECT if o.correct else WRONG
            picked = " (you chose this)" if o.id in answer else ""
            lines.append(
                f"<li>{mark} <i>{html.escape(o.text)}</i>{picked}: {html.escape(o.rationale)} "
                f"{inline_html(o.refs)}</li>"
            )
        symbol = CORRECT if outcome.correct else PARTLY if outcome.fraction > 0 else WRONG
        return status_html(f"<b>{outcome.verdict}</b><ul>{''.join(lines)}</ul>", symbol)
    if q.type == "numeric":
        if not outcome.answered:
            return status_html(outcome.verdict)
        symbol = CORRECT if outcome.correct else WRONG
        expected = f"{q.answer.value:g} {q.answer.unit}"
        return status_html(
            f"<b>{outcome.verdict}</b> Expected about {expected}. {html.escape(q.rationale)} {inline_html(q.refs)}",
            symbol,
        )
    if q.type == "ordering":
        if not outcome.answered:
            return status_html(outcome.verdict)
        steps = {s.id: s.text for s in q.steps}
        right = "".join(f"<li>{html.escape(steps[s])}</li>" for s in q.order)
        symbol = CORRECT if outcome.correct else PARTLY if outcome.fraction > 0 else WRONG
        return status_html(
            f"<b>{outcome.verdict}</b> The order is:<ol>{right}</ol>{html.escape(q.rationale)} {inline_html(q.refs)}",
            symbol,
        )
    if not outcome.answered:
        return status_html(outcome.verdict)
    return status_html(f"<b>Compare your answer with these points.</b> {html.escape(q.guidance)} {inline_html(q.refs)}")


def _record_progress(q, answer) -> str:
    """Record an answered quick check in the learner's progress; a note only if something went wrong."""
    outcome = formative_outcome(q, answer)
    if not outcome.answered:
        return ""
    try:
        saved = progress_record.record(q.id, answer, None if q.type == "reflection" else outcome.fraction)
    except OSError as exc:
        return status_html(
            f"<small>Your progress could not be saved ({html.escape(str(exc))}); the answer still "
            "counts here. Check that your data folder is writable.</small>",
            WRONG,
        )
    if saved.problems:
        return status_html("<small>" + " ".join(html.escape(p) for p in saved.problems) + "</small>", INFO)
    return ""


def formative(question_id: str):
    """A formative question with instant feedback (single: on click; others: on 'Check')."""
    q = question(question_id)
    answer_input = AnswerInput(
        q.id, q.type, getattr(q, "options", ()), getattr(q, "units", ()), getattr(q, "steps", ())
    )
    feedback = w.HTML(status_html("Answer to see feedback."))
    feedback.add_class("kc-feedback")

    def show_feedback(*_):
        answer = answer_input.value()
        feedback.value = formative_feedback(q, answer) + _record_progress(q, answer)

    children = [_stem_html(q.id, q.stem, q.type), *answer_input.controls]
    check = None
    if q.type == "single":
        answer_input.observe(show_feedback)
    else:
        check = theme.button("Check my answer", "info", tooltip="Show whether your answer is right, and why")
        check.on_click(show_feedback)
        children.append(check)
    children.append(feedback)
    box = _box(*children, label="formative")
    box.answer_input, box.feedback, box.check_button = answer_input, feedback, check
    return box


# --- graded ----------------------------------------------------------------------------------


class SavedAnswer:
    """What a graded item shows when no browser is present: the saved answer, as Markdown."""

    def __init__(self, item, value, problems=()):
        self.item, self.value, self.problems = item, value, list(problems)

    def _repr_markdown_(self):
        text = scoring.describe_answer(self.item, self.value)
        quoted = "\n".join(f"> {line}" for line in f"Saved answer: {text}".splitlines())
        notes = "".join(f"\n\n_{p}_" for p in self.problems)
        return f"**{self.item.id}**: {self.item.stem}\n\n{quoted}{notes}"


def graded(item_id: str):
    """A graded item: answers are saved as given; no key, no verdict."""
    item = graded_item(item_id)
    stored = answer_store.read_store()
    saved_value = stored.answers.get(item.id)
    if nbgrader.autograding():
        return SavedAnswer(item, saved_value, stored.problems)
    answer_input = AnswerInput(item.id, item.type, item.options, item.units, item.steps)
    status = w.HTML()
    status.add_class("kc-status")
    if stored.problems:
        status.value = status_html(" ".join(html.escape(p) for p in stored.problems), WRONG)
    elif saved_value is not None:
        status.value = status_html("Saved earlier. You can change it until you submit.", CORRECT)
    else:
        status.value = status_html("Not answered yet. Your answer is saved as soon as you give it.")
    if saved_value is not None:
        answer_input.set_value(saved_value)

    def save(*_):
        value = answer_input.value()
        try:
            result = answer_store.save_answer(item.id, value)
        except OSError as exc:
            status.value = status_html(
                f"Could not save ({html.escape(str(exc))}). Your answer is still on screen; "
                "check the folder is writable and try again.",
                WRONG,
            )
            return
        kept = " ".join(html.escape(p) for p in result.problems)
        status.value = status_html(f"Saved. You can change it until you submit. {kept}", CORRECT)

    answer_input.observe(save)
    box = _box(_stem_html(item.id, item.stem, item.type), *answer_input.controls, status, label="graded")
    box.answer_input, box.status = answer_input, status
    return box
