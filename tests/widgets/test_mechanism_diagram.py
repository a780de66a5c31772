"""The mechanism walk-through: stepping forward and back, bounds, and the content of each step."""

import pytest

from ketamine_course.content import reference
from ketamine_course.widgets import mechanism_diagram


def test_stepper_moves_forward_and_back_within_bounds():
    s = mechanism_diagram.Stepper(3)
    assert s.at_start and not s.at_end
    assert s.previous() == 0  # cannot go before the first step
    assert s.next() == 1
    assert s.next() == 2 and s.at_end
    assert s.next() == 2  # cannot go past the last step
    assert s.previous() == 1
    assert s.go(99) == 2 and s.go(-5) == 0


def test_stepper_needs_a_step_and_clamps_its_start():
    with pytest.raises(ValueError):
        mechanism_diagram.Stepper(0)
    assert mechanism_diagram.Stepper(4, index=10).index == 3


def test_steps_follow_the_disinhibition_chain_then_the_rivals_and_human_tests():
    ids = [s["id"] for s in mechanism_diagram.steps()]
    assert ids[: mechanism_diagram.CHAIN] == ["nmda_block", "glutamate_surge", "ampa", "bdnf", "mtorc1", "synapses"]
    assert ids[mechanism_diagram.CHAIN :] == ["rivals", "human_tests"]


def test_every_step_has_evidence_open_questions_and_verified_references():
    for step in mechanism_diagram.steps():
        assert step["evidence"].strip() and step["open_questions"]
        for key in step["refs"] + [step["source"]]:
            assert reference(key).verified, key


def test_rivals_and_human_tests_name_every_competing_hypothesis():
    by_id = {s["id"]: s for s in mechanism_diagram.steps()}
    rivals = by_id["rivals"]["evidence"]
    for topic in ("eEF2", "(2R,6R)-HNK", "habenula", "naltrexone", "anti-inflammatory"):
        assert topic in rivals
    human = by_id["human_tests"]
    assert {"abdallah2020", "lii2023"} <= set(human["refs"])
    assert "60%" in human["evidence"] and "50%" in human["evidence"]


def test_walkthrough_buttons_step_and_disable_at_the_ends():
    walk = mechanism_diagram.WalkThrough()
    assert walk.previous_button.disabled and not walk.next_button.disabled
    first = walk.panel.value
    walk.next_button.click()
    assert walk.stepper.index == 1 and walk.panel.value != first
    assert "glutamate" in walk.panel.value
    walk.previous_button.click()
    walk.previous_button.click()  # already at the start: stays there
    assert walk.stepper.index == 0
    for _ in range(20):
        walk.next_button.click()
    assert walk.stepper.at_end and walk.next_button.disabled
    assert "Lii" in walk.panel.value  # the last step cites the masked trial


def test_diagram_has_alt_text_for_every_step():
    all_steps = mechanism_diagram.steps()
    texts = {mechanism_diagram.alt_text(i, all_steps) for i in range(len(all_steps))}
    assert len(texts) == len(all_steps)
    assert mechanism_diagram.diagram_png(0).startswith(b"\x89PNG")
