"""The session-monitoring simulator: scenarios load, best actions score full, feedback is given,
and the decision lines behave at their boundaries."""
import copy

import pytest
import yaml
from pydantic import ValidationError

from ketamine_course import content, monitoring
from ketamine_course.monitoring_sim import SCENARIO_FILE, scenario_library, step_html

RAW = yaml.safe_load(SCENARIO_FILE.read_text(encoding="utf-8"))
LIBRARY = monitoring.library_from_data(RAW)
PROTOCOL = LIBRARY.protocol
STEPS = [(s.id, step.phase) for s in LIBRARY.scenarios for step in s.steps]


def test_every_scenario_loads_with_four_steps_in_order():
    assert len(LIBRARY.scenarios) >= 4
    for scenario in LIBRARY.scenarios:
        assert [s.phase for s in scenario.steps] == list(monitoring.PHASES)
    assert scenario_library() == LIBRARY


def test_the_required_situations_are_covered():
    ids = {s.id for s in LIBRARY.scenarios}
    assert {"bp_rise", "agitation", "vomiting", "not_fit"} <= ids
    # a hypertensive response: some step reaches the local hold line
    bp = LIBRARY.scenario("bp_rise")
    assert any(PROTOCOL.hold.reached(st.vitals.systolic, st.vitals.diastolic) for st in bp.steps)
    # a patient not fit to leave: at the end of observation, discharge is not a best action
    assert "discharge" not in LIBRARY.scenario("not_fit").step("end").best


@pytest.mark.parametrize("scenario_id, phase", STEPS)
def test_each_best_action_scores_full(scenario_id, phase):
    step = LIBRARY.scenario(scenario_id).step(phase)
    for action in step.best:
        result = monitoring.judge(step, action)
        assert result.correct and result.points == 1.0
        assert result.feedback == step.feedback[action].text


@pytest.mark.parametrize("scenario_id, phase", STEPS)
def test_wrong_choices_score_zero_and_give_their_own_feedback(scenario_id, phase):
    step = LIBRARY.scenario(scenario_id).step(phase)
    wrong = [a for a in monitoring.ACTIONS if a not in step.best]
    assert wrong, "every step must offer wrong choices"
    for action in wrong:
        result = monitoring.judge(step, action)
        assert not result.correct and result.points == 0.0
        assert result.feedback.strip() and result.refs
        assert result.best == step.best


def test_every_feedback_cites_a_verified_reference():
    for scenario in LIBRARY.scenarios:
        keys = list(scenario.refs) + [r for st in scenario.steps for fb in st.feedback.values() for r in fb.refs]
        keys += list(PROTOCOL.refs) + list(PROTOCOL.hold.refs) + list(PROTOCOL.pre_dose_caution.refs)
        for key in keys:
            assert content.reference(key).verified, key


def test_a_perfect_run_scores_every_step_and_only_first_choices_count():
    for scenario in LIBRARY.scenarios:
        session = monitoring.Session(scenario)
        while True:
            step = session.step
            wrong = next(a for a in monitoring.ACTIONS if a not in step.best)
            session.choose(step.best[0])
            session.choose(wrong)  # a second click is judged but not scored
            if not session.advance():
                break
        summary = session.summary()
        assert session.finished
        assert summary.score == summary.out_of == len(scenario.steps)
        assert summary.percent == 100.0


def test_a_wrong_run_scores_zero_and_restart_clears_it():
    scenario = LIBRARY.scenario("not_fit")
    session = monitoring.Session(scenario)
    assert not session.advance(), "cannot move on before answering"
    for _ in scenario.steps:
        session.choose(next(a for a in monitoring.ACTIONS if a not in session.step.best))
        session.advance()
    assert session.summary().score == 0
    session.restart()
    assert session.index == 0 and session.results == []


def test_unknown_action_is_refused():
    with pytest.raises(ValueError):
        monitoring.judge(LIBRARY.scenarios[0].steps[0], "panic")


# --- thresholds at their boundaries --------------------------------------------------------

@pytest.mark.parametrize("systolic, diastolic, expected", [
    (140, 90, "usual"),      # the label's guide is "above 140/90": equal is not above
    (141, 90, "caution"),
    (140, 91, "caution"),
    (179, 109, "caution"),   # just under the local hold line
    (180, 100, "hold"),      # the hold line is inclusive: 180 systolic reaches it
    (150, 110, "hold"),      # ... as does 110 diastolic
    (179, 110, "hold"),
    (180, 109, "hold"),
])
def test_blood_pressure_lines_at_their_boundaries(systolic, diastolic, expected):
    assert monitoring.bp_category(systolic, diastolic, PROTOCOL) == expected


def test_the_hold_line_is_marked_as_local_protocol_and_the_label_line_is_not():
    assert PROTOCOL.hold.local_protocol and not PROTOCOL.pre_dose_caution.local_protocol
    assert (PROTOCOL.hold.systolic, PROTOCOL.hold.diastolic) == (180, 110)
    assert (PROTOCOL.pre_dose_caution.systolic, PROTOCOL.pre_dose_caution.diastolic) == (140, 90)
    # a popular claim the label does not make: where the data mention it, they say so
    for line in SCENARIO_FILE.read_text().splitlines():
        if "160/100" in line:
            assert "not in the label" in line or "read online" in line, line


@pytest.mark.parametrize("minutes, complete", [(119, False), (120, True), (150, True)])
def test_observation_minimum_at_its_boundary(minutes, complete):
    assert monitoring.observation_complete(minutes, PROTOCOL) is complete


def test_data_that_contradicts_the_protocol_is_rejected():
    bad = copy.deepcopy(RAW)
    step = bad["scenarios"][0]["steps"][1]  # bp_rise during dosing, 186/112
    step["best"] = ["proceed"]
    with pytest.raises(ValidationError, match="hold line"):
        monitoring.library_from_data(bad)
    early = copy.deepcopy(RAW)
    early["scenarios"][0]["steps"][2]["best"] = ["discharge"]  # 40 minutes
    with pytest.raises(ValidationError, match="minimum observation"):
        monitoring.library_from_data(early)


def test_a_step_without_feedback_for_every_action_is_rejected():
    bad = copy.deepcopy(RAW)
    del bad["scenarios"][1]["steps"][0]["feedback"]["treat"]
    with pytest.raises(ValidationError, match="no feedback"):
        monitoring.library_from_data(bad)


def test_step_card_shows_vitals_and_flags_the_hold_line():
    text = step_html("bp_rise", "dosing")
    assert "186/112 mmHg" in text and "local hold line" in text and "SpO2" in text
    assert "not the label" in text


def test_scenarios_kept_for_graded_work_are_not_offered_in_the_simulator():
    from ketamine_course import monitoring_sim
    box = monitoring_sim.show()
    offered = {value for _, value in box.children[0].options}
    hidden = {s.id for s in LIBRARY.scenarios if not s.in_simulator}
    assert hidden and not (offered & hidden)
    assert offered == {s.id for s in LIBRARY.scenarios if s.in_simulator}
