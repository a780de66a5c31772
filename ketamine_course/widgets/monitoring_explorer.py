"""The session-monitoring simulator as a widget, and its read-only step cards: the face of `core/monitoring.py`.

`show()` lets a learner play the scenarios of `content/monitoring_scenarios.yaml`
step by step (vitals card, six action buttons, feedback with sources, next step, restart, score).
`step_card("bp_rise", "dosing")` shows one step as a card without buttons, for the
graded assignment. What follows a step can depend on the learner's first choice there (a branch).
`protocol_card()` shows the decision lines with a US/EU switch for the observation and
monitoring rules, read from the shared US/EU table. The scenarios' models and the scoring live in the engine.
"""

from __future__ import annotations

import html

from IPython.display import HTML

from ketamine_course.content import monitoring_scenarios, regulatory_comparison
from ketamine_course.content.citations import inline_html
from ketamine_course.core import monitoring
from ketamine_course.widgets import theme
from ketamine_course.widgets.theme import CORRECT, PALETTE, PANEL_CSS, WRONG, card_html, panel, status_html


def _bp_flag(vitals, protocol, phase: str) -> str:
    category = monitoring.bp_category(vitals.systolic, vitals.diastolic, protocol)
    c = protocol.pre_dose_caution
    caution = (
        " (above the US label's pre-dose guide)" if phase == "baseline" else f" (above {c.systolic}/{c.diastolic})"
    )
    return {"hold": " <b>(at or over the course's example hold line)</b>", "caution": caution, "usual": ""}[category]


def step_html(scenario_id: str, phase: str, branch: str | None = None) -> str:
    """One step of a scenario (of its main path, or of a named branch) as an HTML card."""
    library = monitoring_scenarios()
    scenario = library.scenario(scenario_id)
    return _step_card(scenario, scenario.step(phase, branch), library.protocol)


def _step_card(scenario, step, protocol) -> str:
    """The card of one step: patient, time, vitals, dissociation, symptoms."""
    v = step.vitals
    rr = f"<tr><th>Breathing rate</th><td>{v.resp_rate} per minute</td></tr>" if v.resp_rate else ""
    rows = (
        f"<tr><th>Blood pressure</th><td>{v.bp}{_bp_flag(v, protocol, step.phase)}</td></tr>"
        f"<tr><th>Heart rate</th><td>{v.heart_rate} per minute</td></tr>"
        f"<tr><th>Oxygen saturation (SpO2)</th><td>{v.spo2}%</td></tr>{rr}"
        f"<tr><th>Dissociation</th><td>{html.escape(step.dissociation)}</td></tr>"
        f"<tr><th>Symptoms and signs</th><td>{html.escape(step.symptoms)}</td></tr>"
    )
    body = (
        f"<p><b>{html.escape(scenario.patient)}</b><br><i>{html.escape(scenario.product)}</i><br>"
        f"{html.escape(scenario.background)}</p>"
        f"<p><b>{monitoring.PHASE_LABELS[step.phase]}</b> (minute {step.minute})</p>"
        f"<table style='text-align:left'>{rows}</table>"
        f"<p><small>A teaching case: the patient is fictional. Lines used: {html.escape(_protocol_line(protocol))}"
        f"</small></p>"
    )
    title = f"Session monitor: {scenario.title}"
    return card_html("kc-monitor", html.escape(title), body, label=title, colour=PALETTE["green"])


def _protocol_line(protocol) -> str:
    c, h = protocol.pre_dose_caution, protocol.hold
    return (
        f"US label pre-dose guide above {c.systolic}/{c.diastolic} mmHg; the course's example hold line "
        f"{h.systolic}/{h.diastolic} mmHg or higher (Course advice, not a label rule); US label: monitoring at least "
        f"{protocol.observation_min // 60} hours, blood pressure again at about {protocol.bp_recheck_min} minutes, "
        f"respiratory status with pulse oximetry at every session."
    )


def step_card(scenario_id: str, phase: str, branch: str | None = None):
    """A read-only step card, for vignettes in graded work."""
    return HTML(step_html(scenario_id, phase, branch))


JURISDICTIONS = {"US": "United States (US label and REMS)", "EU": "European Union (EU SmPC)"}
REGULATORY_ROWS = ("observation", "setting", "blood_pressure")  # rows of the US/EU table shown on the card


def regulatory_rows(jurisdiction: str) -> list[tuple[str, str, list]]:
    """(topic, rule, refs) of the observation and monitoring rows for one jurisdiction, from the shared
    US/EU table (`content.regulatory_comparison`)."""
    if jurisdiction not in JURISDICTIONS:
        raise ValueError(f"Unknown jurisdiction {jurisdiction!r}; choose one of {sorted(JURISDICTIONS)}")
    table = regulatory_comparison()
    return [(row.topic, getattr(row, jurisdiction.lower()), list(row.refs)) for row in map(table.row, REGULATORY_ROWS)]


def protocol_html(jurisdiction: str = "US") -> str:
    """The decision lines the simulator uses, each with its source and whose rule it is, and the
    observation and monitoring rules of the chosen jurisdiction."""
    p = monitoring_scenarios().protocol
    items = []
    for name, t in (("Before dosing", p.pre_dose_caution), ("Hold line", p.hold)):
        kind = "COURSE ADVICE: an example local protocol, not a label rule" if t.local_protocol else "US label"
        items.append(
            f"<li><b>{name}: {t.systolic}/{t.diastolic} mmHg</b> ({kind}). {html.escape(t.meaning)} "
            f"{inline_html(t.refs)}</li>"
        )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in p.notes)
    juris = "".join(
        f"<li><b>{html.escape(topic)} ({jurisdiction}):</b> {html.escape(rule)} {inline_html(refs)}</li>"
        for topic, rule, refs in regulatory_rows(jurisdiction)
    )
    juris = f"<h5>Observation and monitoring: {html.escape(JURISDICTIONS[jurisdiction])}</h5><ul>{juris}</ul>"
    return (
        f"<div class='kc-protocol' style='{PANEL_CSS}'>"
        f"<h4 style='margin-top:0'>Decision lines used by the simulator</h4><ul>{''.join(items)}{notes}</ul>"
        f"{juris}<p><small>Sources: {inline_html(p.refs)}</small></p></div>"
    )


def protocol_card(jurisdiction: str | None = None):
    """The protocol card. With a jurisdiction ('US' or 'EU') a static card; without, a card with a
    switch between the US and the EU observation and monitoring rules."""
    if jurisdiction is not None:
        return HTML(protocol_html(jurisdiction))
    import ipywidgets as w

    toggle = w.ToggleButtons(
        options=[(label, key) for key, label in JURISDICTIONS.items()],
        value="US",
        description="Rules of",
        tooltips=list(JURISDICTIONS.values()),
    )
    card = w.HTML(protocol_html("US"))
    toggle.observe(lambda change: setattr(card, "value", protocol_html(change["new"])), names="value")
    box = w.VBox([toggle, card])
    box.add_class("kc-protocol-card")
    return box


CHOOSE = status_html("Choose what to do at this step.", symbol="")


def show(scenario_id: str | None = None):
    """The interactive simulator: pick a scenario, choose an action at each step, read the feedback."""
    import ipywidgets as w

    library = monitoring_scenarios()
    playable = [s for s in library.scenarios if s.in_simulator]
    picker = w.Dropdown(
        options=[(s.title, s.id) for s in playable],
        value=scenario_id or playable[0].id,
        description="Scenario",
        layout=w.Layout(width="95%"),
    )
    card, feedback, score = w.HTML(), w.HTML(), w.HTML()
    feedback.add_class("kc-feedback")
    buttons = [
        w.Button(
            description=monitoring.ACTION_LABELS[a], tooltip=monitoring.ACTION_LABELS[a], layout=w.Layout(width="auto")
        )
        for a in monitoring.ACTIONS
    ]
    next_button = theme.button("Next step ▶", "info", disabled=True)
    restart = w.Button(description="Restart scenario", tooltip="Start this scenario again from baseline")
    state = {"session": monitoring.Session(library.scenario(picker.value))}

    def render():
        session = state["session"]
        card.value = _step_card(session.scenario, session.step, library.protocol)
        next_button.disabled = not session.answered or session.finished
        done = len(session.results)
        s = session.summary()
        score.value = status_html(
            f"Score so far: {s.score:g} of {done} step(s) answered "
            f"({len(session.steps)} on the path your choices have taken).",
            symbol="",
        )
        if session.finished:
            score.value += status_html(
                f"<b>Scenario complete: {s.score:g} of {s.out_of:g}.</b> "
                f"{html.escape(session.scenario.teaching_point)} "
                f"{inline_html(session.scenario.refs)}",
                symbol="",
            )

    def on_action(action):
        def handler(_):
            session = state["session"]
            first = not session.answered
            result = session.choose(action)
            symbol = CORRECT if result.correct else WRONG
            best = ", ".join(monitoring.ACTION_LABELS[b] for b in result.best)
            note = (
                ""
                if first
                else " <i>(Only your first choice at each step counts toward the score and decides what happens next.)</i>"
            )
            branch_id = session.step.branch_on.get(action) if first else None
            if branch_id:
                note += (
                    f"<br><small><b>What happens next follows your choice:</b> "
                    f"{html.escape(session.scenario.branch(branch_id).description)}</small>"
                )
            feedback.value = status_html(
                f"<b>{monitoring.ACTION_LABELS[action]}.</b> "
                f"{html.escape(result.feedback)} {inline_html(result.refs)}"
                f"<br><small>Best action here: {best}.</small>{note}",
                symbol,
            )
            render()

        return handler

    for action, button in zip(monitoring.ACTIONS, buttons):
        button.on_click(on_action(action))

    def on_next(_):
        if state["session"].advance():
            feedback.value = CHOOSE
        render()

    def on_restart(_=None):
        state["session"] = monitoring.Session(library.scenario(picker.value))
        feedback.value = CHOOSE
        render()

    next_button.on_click(on_next)
    restart.on_click(on_restart)
    picker.observe(lambda change: on_restart(), names="value")
    on_restart()
    return panel(
        [
            picker,
            card,
            w.HTML("<b>What do you do now?</b>"),
            w.HBox(buttons[:3]),
            w.HBox(buttons[3:]),
            feedback,
            w.HBox([next_button, restart]),
            score,
        ],
        "kc-simulator",
    )
