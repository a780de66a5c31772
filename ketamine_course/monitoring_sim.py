"""The session-monitoring simulator as a widget, and its read-only step cards.

`monitoring_sim.show()` lets a learner play the scenarios of `content/monitoring_scenarios.yaml`
step by step (vitals card, six action buttons, feedback with sources, next step, restart, score).
`monitoring_sim.step_card("bp_rise", "dosing")` shows one step as a card without buttons, for the
graded assignment. The scoring itself lives in `monitoring.py`.
"""
from __future__ import annotations

import html
from functools import lru_cache

from IPython.display import HTML

from . import monitoring
from .citations import inline_html
from .content import CONTENT_DIR, _read_yaml

SCENARIO_FILE = CONTENT_DIR / "monitoring_scenarios.yaml"


@lru_cache(maxsize=None)
def scenario_library() -> monitoring.ScenarioLibrary:
    return monitoring.library_from_data(_read_yaml(SCENARIO_FILE))


def _bp_flag(vitals, protocol, phase: str) -> str:
    category = monitoring.bp_category(vitals.systolic, vitals.diastolic, protocol)
    c = protocol.pre_dose_caution
    caution = (" (above the label's pre-dose guide)" if phase == "baseline"
               else f" (above {c.systolic}/{c.diastolic})")
    return {"hold": " <b>(at or over the local hold line)</b>", "caution": caution, "usual": ""}[category]


def step_html(scenario_id: str, phase: str) -> str:
    """One step of a scenario as an HTML card: patient, time, vitals, dissociation, symptoms."""
    library = scenario_library()
    scenario = library.scenario(scenario_id)
    step = scenario.step(phase)
    v = step.vitals
    rr = f"<tr><th>Breathing rate</th><td>{v.resp_rate} per minute</td></tr>" if v.resp_rate else ""
    rows = (f"<tr><th>Blood pressure</th><td>{v.bp}{_bp_flag(v, library.protocol, step.phase)}</td></tr>"
            f"<tr><th>Heart rate</th><td>{v.heart_rate} per minute</td></tr>"
            f"<tr><th>Oxygen saturation (SpO2)</th><td>{v.spo2}%</td></tr>{rr}"
            f"<tr><th>Dissociation</th><td>{html.escape(step.dissociation)}</td></tr>"
            f"<tr><th>Symptoms and signs</th><td>{html.escape(step.symptoms)}</td></tr>")
    return (f"<div class='kc-monitor' role='region' aria-label='Session monitor: {html.escape(scenario.title)}' "
            f"style='border:2px solid #009E73;border-radius:6px;padding:10px 14px;margin:8px 0'>"
            f"<h4 style='margin-top:0'>Session monitor: {html.escape(scenario.title)}</h4>"
            f"<p><b>{html.escape(scenario.patient)}</b><br><i>{html.escape(scenario.product)}</i><br>"
            f"{html.escape(scenario.background)}</p>"
            f"<p><b>{monitoring.PHASE_LABELS[step.phase]}</b> (minute {step.minute})</p>"
            f"<table style='text-align:left'>{rows}</table>"
            f"<p><small>A teaching case: the patient is fictional. Lines used: {html.escape(_protocol_line(library.protocol))}</small></p>"
            f"</div>")


def _protocol_line(protocol) -> str:
    c, h = protocol.pre_dose_caution, protocol.hold
    return (f"label pre-dose guide above {c.systolic}/{c.diastolic} mmHg; example local hold line "
            f"{h.systolic}/{h.diastolic} mmHg or higher (a clinic's rule, not the label's); observation at least "
            f"{protocol.observation_min // 60} hours; blood pressure again at about {protocol.bp_recheck_min} minutes.")


def step_card(scenario_id: str, phase: str):
    """A read-only step card, for vignettes in graded work."""
    return HTML(step_html(scenario_id, phase))


def protocol_card():
    """The decision lines the simulator uses, each with its source and whether it is a label rule."""
    p = scenario_library().protocol
    items = []
    for name, t in (("Before dosing", p.pre_dose_caution), ("Hold line", p.hold)):
        kind = "EXAMPLE LOCAL PROTOCOL, not a label rule" if t.local_protocol else "from the label"
        items.append(f"<li><b>{name}: {t.systolic}/{t.diastolic} mmHg</b> ({kind}). {html.escape(t.meaning)} "
                     f"{inline_html(t.refs)}</li>")
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in p.notes)
    return HTML(f"<div class='kc-protocol' style='border:1px solid #bbb;padding:8px 12px'>"
                f"<h4 style='margin-top:0'>Decision lines used by the simulator</h4><ul>{''.join(items)}{notes}</ul>"
                f"<p><small>Sources: {inline_html(p.refs)}</small></p></div>")


def show(scenario_id: str | None = None):
    """The interactive simulator: pick a scenario, choose an action at each step, read the feedback."""
    import ipywidgets as w

    library = scenario_library()
    playable = [s for s in library.scenarios if s.in_simulator]
    picker = w.Dropdown(options=[(s.title, s.id) for s in playable],
                        value=scenario_id or playable[0].id, description="Scenario",
                        layout=w.Layout(width="95%"))
    card, feedback, score = w.HTML(), w.HTML(), w.HTML()
    feedback.add_class("kc-feedback")
    buttons = [w.Button(description=monitoring.ACTION_LABELS[a], tooltip=monitoring.ACTION_LABELS[a],
                        layout=w.Layout(width="auto")) for a in monitoring.ACTIONS]
    next_button = w.Button(description="Next step ▶", button_style="info", disabled=True)
    restart = w.Button(description="Restart scenario", tooltip="Start this scenario again from baseline")
    state = {"session": monitoring.Session(library.scenario(picker.value))}

    def render():
        session = state["session"]
        card.value = step_html(session.scenario.id, session.step.phase)
        next_button.disabled = not session.answered or session.finished
        done = len(session.results)
        s = session.summary()
        score.value = (f"<div role='status'>Score so far: {s.score:g} of {done} step(s) answered "
                       f"({len(session.scenario.steps)} in this scenario).</div>")
        if session.finished:
            score.value += (f"<div role='status'><b>Scenario complete: {s.score:g} of {s.out_of:g}.</b> "
                            f"{html.escape(session.scenario.teaching_point)} {inline_html(session.scenario.refs)}</div>")

    def on_action(action):
        def handler(_):
            session = state["session"]
            first = not session.answered
            result = session.choose(action)
            symbol = "✔" if result.correct else "✘"
            best = ", ".join(monitoring.ACTION_LABELS[b] for b in result.best)
            note = "" if first else " <i>(Only your first choice at each step counts toward the score.)</i>"
            feedback.value = (f"<div role='status' aria-live='polite'>{symbol} <b>{monitoring.ACTION_LABELS[action]}.</b> "
                              f"{html.escape(result.feedback)} {inline_html(result.refs)}"
                              f"<br><small>Best action here: {best}.</small>{note}</div>")
            render()
        return handler

    for action, button in zip(monitoring.ACTIONS, buttons):
        button.on_click(on_action(action))

    def on_next(_):
        if state["session"].advance():
            feedback.value = "<div role='status'>Choose what to do at this step.</div>"
        render()

    def on_restart(_=None):
        state["session"] = monitoring.Session(library.scenario(picker.value))
        feedback.value = "<div role='status'>Choose what to do at this step.</div>"
        render()

    next_button.on_click(on_next)
    restart.on_click(on_restart)
    picker.observe(lambda change: on_restart(), names="value")
    on_restart()
    box = w.VBox([picker, card, w.HTML("<b>What do you do now?</b>"), w.HBox(buttons[:3]), w.HBox(buttons[3:]),
                  feedback, w.HBox([next_button, restart]), score],
                 layout=w.Layout(border="1px solid #bbb", padding="8px 12px", margin="8px 0"))
    box.add_class("kc-simulator")
    return box
