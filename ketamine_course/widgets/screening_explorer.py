"""The screening checklist widget: enter a patient, read a verdict card with every reason cited.

The verdict comes from the rules engine of `core/screening.py` (`evaluate`, reading the rules table);
this module only draws the form and the card. It teaches; it does not decide for a real patient.
"""

from __future__ import annotations

import html

import ipywidgets as w

from ketamine_course.content import regulatory_comparison, screening_rules
from ketamine_course.content.citations import inline_html
from ketamine_course.content.models import JURISDICTION_COLUMNS
from ketamine_course.core.screening import (
    BASIS_LABELS,
    DIAGNOSIS_LABELS,
    JURISDICTION_LABELS,
    Patient,
    Verdict,
    evaluate,
)
from ketamine_course.widgets import theme
from ketamine_course.widgets.theme import CORRECT, PALETTE, STOP, TEXT, WARNING, card_html, panel

DISCLAIMER = (
    "This checklist is a teaching tool. It does not decide for a real patient: the decision to treat "
    "needs a full assessment by a qualified clinician, the current product label and your local protocol."
)

_HUES = {"contraindication": "vermillion", "caution": "orange", "candidate": "green", "note": "sky"}
_COLOURS = {level: PALETTE[hue] for level, hue in _HUES.items()}  # the verdict card's border
_TEXT = {level: TEXT[hue] for level, hue in _HUES.items()}  # words in the level's colour, readable on white
_WORDS = {"contraindication": "Contraindication", "caution": "Caution", "note": "Note"}
_SYMBOLS = {"contraindication": STOP, "caution": WARNING, "candidate": CORRECT}


def verdict_html(verdict: Verdict) -> str:
    """The verdict card: headline, then each finding with its reason, action, jurisdiction, basis and sources."""
    items = []
    for rule in verdict.findings:
        basis = ", ".join(BASIS_LABELS[b] for b in rule.basis)
        action = f"<br><b>Action:</b> {html.escape(rule.action)}" if rule.action else ""
        outside = ""
        if rule.label_level is not None:
            article = "An" if rule.jurisdiction == "EU" else "A"
            outside = (
                f"<br><i>{article} {html.escape(rule.jurisdiction)} {_WORDS[rule.label_level].lower()}; under the "
                f"{html.escape(JURISDICTION_LABELS[verdict.jurisdiction])}: {html.escape(rule.outside_reason or '')}</i>"
            )
        items.append(
            f"<li style='margin-bottom:6px'><b style='color:{_TEXT[rule.level]}'>{_WORDS[rule.level]}:</b> "
            f"<b>{html.escape(rule.title)}</b><br>{html.escape(rule.reason)}{outside}{action}"
            f"<br><small>Jurisdiction: {html.escape(rule.jurisdiction)}. Basis: {html.escape(basis)}. "
            f"Sources: {inline_html(rule.refs)}</small></li>"
        )
    findings = f"<ul>{''.join(items)}</ul>" if items else ""
    body = (
        f"<p><small>Rules applied: {html.escape(JURISDICTION_LABELS[verdict.jurisdiction])}"
        f"{' (the stricter wherever they differ)' if verdict.jurisdiction == 'both' else ''}.</small></p>{findings}"
        f"{label_summary_html(verdict.jurisdiction)}"
        f"<p><small><i>{html.escape(DISCLAIMER)}</i></small></p>"
    )
    return card_html(
        "kc-verdict",
        f"{_SYMBOLS[verdict.level]} {html.escape(verdict.headline)}",
        body,
        colour=_COLOURS[verdict.level],
        border_px=3,
    )


# Rows of the US/EU table shown under every verdict, for the jurisdiction chosen.
SUMMARY_TOPICS = ("contraindications", "setting", "observation")


def label_summary_html(jurisdiction: str) -> str:
    """What the chosen label(s) say about contraindications, setting and observation (the US/EU table's rows)."""
    table = regulatory_comparison()
    sides = JURISDICTION_COLUMNS[jurisdiction]
    names = {"us": "US", "eu": "EU"}
    lines = []
    for topic in SUMMARY_TOPICS:
        row = table.row(topic)
        text = " ".join(f"<b>{names[side]}:</b> {html.escape(getattr(row, side))}" for side in sides)
        lines.append(f"<li><b>{html.escape(row.topic)}.</b> {text} <small>{inline_html(row.refs)}</small></li>")
    return (
        "<details class='kc-label-summary'><summary><small>What the label says (from the US/EU table)</small>"
        f"</summary><ul style='font-size:0.9em'>{''.join(lines)}</ul></details>"
    )


class ScreeningForm:
    """One input per patient field, a 'Check' button and the verdict card."""

    def __init__(self):
        wide = w.Layout(width="auto")
        style = {"description_width": "initial"}
        self.diagnosis = w.Dropdown(
            options=[(v, k) for k, v in DIAGNOSIS_LABELS.items()],
            value="major_depression",
            description="Diagnosis",
            style=style,
            layout=w.Layout(width="95%"),
        )
        self.trials = w.BoundedIntText(
            value=0, min=0, max=30, description="Adequate antidepressant trials in this episode", style=style
        )
        self.systolic = w.BoundedIntText(value=120, min=50, max=300, description="Systolic BP (mmHg)", style=style)
        self.diastolic = w.BoundedIntText(value=80, min=20, max=200, description="Diastolic BP (mmHg)", style=style)
        self.age = w.BoundedIntText(value=40, min=0, max=120, description="Age (years)", style=style)
        self.jurisdiction = w.ToggleButtons(
            options=[(label, j) for j, label in JURISDICTION_LABELS.items()],
            value="both",
            description="Apply the rules of",
            style=style,
            tooltips=["Both labels: the stricter wherever they differ", "US label and REMS only", "EU label only"],
        )
        self.flags = {
            "aneurysmal_vascular_disease": "Aneurysmal vascular disease (aorta, intracranial or peripheral arteries)",
            "arteriovenous_malformation": "Arteriovenous malformation",
            "intracerebral_haemorrhage": "History of intracerebral haemorrhage",
            "raised_intracranial_pressure": (
                "Raised intracranial pressure, or a condition in which a rise in it would be "
                "dangerous (e.g. brain injury, shunt, space-occupying lesion)"
            ),
            "hypertensive_encephalopathy_history": "History of hypertensive encephalopathy",
            "significant_respiratory_disease": (
                "Significant respiratory disease (e.g. COPD with pulmonary insufficiency, "
                "sleep apnoea with BMI 35 or more)"
            ),
            "cardiovascular_disease": (
                "Other cardiovascular disease (e.g. uncontrolled arrhythmia, significant "
                "valvular disease, heart failure NYHA III-IV)"
            ),
            "uncontrolled_hyperthyroidism": "Hyperthyroidism that is not adequately treated",
            "cerebrovascular_disease": "Cerebrovascular disease (e.g. past ischaemic stroke)",
            "hypersensitivity": "Hypersensitivity to esketamine, ketamine or an excipient",
            "pregnant": "Pregnant",
            "breastfeeding": "Breastfeeding",
            "active_substance_use_disorder": "Active substance use disorder (including alcohol)",
            "psychosis_history": "History of psychosis",
            "mania_history": "History of mania or hypomania",
            "takes_cns_depressants": "Takes CNS depressants (benzodiazepines, opioids, alcohol)",
            "takes_psychostimulants": "Takes psychostimulants (amphetamines, methylphenidate, modafinil)",
            "takes_maoi": "Takes a monoamine oxidase inhibitor",
        }
        self.checks = {
            k: w.Checkbox(value=False, description=text, indent=False, layout=wide) for k, text in self.flags.items()
        }
        self.cv_event = w.Checkbox(
            value=False, description="Cardiovascular event such as a myocardial infarction", indent=False, layout=wide
        )
        self.cv_weeks = w.BoundedIntText(value=4, min=0, max=2000, description="weeks ago", style=style, disabled=True)
        self.cv_event.observe(lambda change: setattr(self.cv_weeks, "disabled", not change["new"]), names="value")
        liver = {
            "none": "No hepatic impairment",
            "A": "Child-Pugh A (mild)",
            "B": "Child-Pugh B (moderate)",
            "C": "Child-Pugh C (severe)",
        }
        kidneys = {
            "normal": "Normal",
            "mild": "Mild impairment",
            "moderate": "Moderate impairment",
            "severe": "Severe impairment",
            "dialysis": "On dialysis",
        }
        self.child_pugh = self._choice(liver, "Liver", style)
        self.renal = self._choice(kidneys, "Kidneys", style)
        self.button = theme.button(
            "Check this patient",
            "info",
            tooltip="Apply the screening rules and show the verdict with its reasons",
        )
        self.card = w.HTML()
        self.card.add_class("kc-screening-verdict")
        self.button.on_click(lambda _: self.check())

    @staticmethod
    def _choice(labels: dict, description: str, style: dict) -> w.Dropdown:
        """A drop-down of plain-language labels for a field's values; the first is the default."""
        return w.Dropdown(
            options=[(label, value) for value, label in labels.items()],
            value=next(iter(labels)),
            description=description,
            style=style,
        )

    def patient(self) -> Patient:
        """The patient as entered."""
        values = {k: box.value for k, box in self.checks.items()}
        return Patient(
            diagnosis=self.diagnosis.value,
            adequate_antidepressant_trials=self.trials.value,
            systolic_bp=self.systolic.value,
            diastolic_bp=self.diastolic.value,
            age=self.age.value,
            weeks_since_cardiovascular_event=self.cv_weeks.value if self.cv_event.value else None,
            child_pugh=self.child_pugh.value,
            renal_function=self.renal.value,
            **values,
        )

    def check(self) -> Verdict:
        verdict = evaluate(self.patient(), screening_rules(), jurisdiction=self.jurisdiction.value)
        self.card.value = verdict_html(verdict)
        return verdict

    def widget(self):
        section = lambda title: w.HTML(f"<b>{html.escape(title)}</b>")  # noqa: E731
        c = self.checks
        return panel(
            [
                w.HTML(f"<p><i>{html.escape(DISCLAIMER)}</i></p>"),
                self.jurisdiction,
                section("Diagnosis and treatment history"),
                self.diagnosis,
                self.trials,
                section("Vital signs and age"),
                w.HBox([self.systolic, self.diastolic]),
                self.age,
                section("Cardiovascular and cerebrovascular history"),
                *[
                    c[k]
                    for k in (
                        "aneurysmal_vascular_disease",
                        "arteriovenous_malformation",
                        "intracerebral_haemorrhage",
                        "raised_intracranial_pressure",
                        "hypertensive_encephalopathy_history",
                    )
                ],
                w.HBox([self.cv_event, self.cv_weeks]),
                c["cardiovascular_disease"],
                c["cerebrovascular_disease"],
                section("Breathing and thyroid"),
                c["significant_respiratory_disease"],
                c["uncontrolled_hyperthyroidism"],
                section("Pregnancy, substance use and psychiatric history"),
                *[
                    c[k]
                    for k in (
                        "pregnant",
                        "breastfeeding",
                        "active_substance_use_disorder",
                        "psychosis_history",
                        "mania_history",
                        "hypersensitivity",
                    )
                ],
                section("Liver and kidneys"),
                self.child_pugh,
                self.renal,
                section("Current medicines"),
                *[c[k] for k in ("takes_cns_depressants", "takes_psychostimulants", "takes_maoi")],
                self.button,
                self.card,
            ],
            "kc-screening",
        )


def show():
    """The screening checklist, ready to use."""
    return ScreeningForm().widget()


def rules_table_html() -> str:
    """The rule table as the checklist applies it: what each rule reads, its level, basis and sources."""
    rows = []
    for rule in screening_rules().rules:
        condition = "; ".join(f"{c.field} {_OP_WORDS[c.op]} {_value_words(c.value)}" for c in rule.when)
        joiner = "all of" if rule.match == "all" else "any of"
        when = condition if len(rule.when) == 1 else f"{joiner}: {condition}"
        rows.append(
            f"<tr>{_TD}{html.escape(rule.title)}</td>{_TD}<code>{html.escape(when)}</code></td>"
            f"<td style='text-align:left;vertical-align:top;color:{_TEXT[rule.level]}'>"
            f"<b>{_WORDS[rule.level]}</b></td>"
            f"{_TD}{html.escape(rule.jurisdiction)}"
            f"{html.escape(_outside_words(rule))}</td>"
            f"{_TD}{html.escape(', '.join(BASIS_LABELS[b] for b in rule.basis))}</td>"
            f"{_TD}{inline_html(rule.refs)}</td></tr>"
        )
    return (
        "<table class='kc-rules' style='font-size:0.9em'><caption style='text-align:left'><b>The screening "
        "rules as data.</b> Each row is one rule; the checklist applies every row to the patient.</caption>"
        "<tr>"
        + "".join(
            f"<th style='text-align:left'>{h}</th>"
            for h in ("Rule", "Reads", "Level", "Jurisdiction", "Basis", "Sources")
        )
        + "</tr>"
        f"{''.join(rows)}</table>"
    )


def _outside_words(rule) -> str:
    if rule.outside_level is None:
        return ""
    return f" (elsewhere: {_WORDS[rule.outside_level].lower()})"


def _value_words(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


_TD = "<td style='text-align:left;vertical-align:top'>"
_OP_WORDS = {"eq": "is", "ne": "is not", "lt": "<", "le": "≤", "gt": ">", "ge": "≥", "in": "is one of"}


def show_rules():
    """Display the rule table."""
    from IPython.display import HTML

    return HTML(rules_table_html())
