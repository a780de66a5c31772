"""Items that measure knowledge, not test-taking skill: no give-away keys, no all-true lists.

A classic flaw of multiple-choice writing is a key that is longer and more qualified than its
distractors, so that a learner who always picks the longest option scores well. Chance is about one
item in four; a module whose keys are the longest option in more than half of its single-answer
items is flawed. A choose-all-that-apply item with (almost) every option keyed barely discriminates.
"""

from __future__ import annotations

import pytest
import yaml

from ketamine_course import content

from conftest import REPO

LONGEST_KEY_LIMIT = 0.5
FIXTURES = [yaml.safe_load(p.read_text()) for p in sorted((REPO / "tests" / "fixtures" / "assignments").glob("*.yaml"))]


def formative_items():
    for module, bank in content.question_banks().items():
        for q in bank.questions:
            if q.type in ("single", "multiple"):
                yield module, q.id, q.type, {o.id: o.text for o in q.options}, {o.id for o in q.options if o.correct}


def graded_items():
    """Graded items with their keys, taken from the fixture student who answers everything right."""
    for fixture in FIXTURES:
        for item_id, answer in fixture["right"].items():
            try:
                item = content.graded_item(item_id)
            except content.ContentError:
                continue
            if item.type in ("single", "multiple"):
                keyed = {answer} if isinstance(answer, str) else set(answer)
                yield fixture["assignment"], item_id, item.type, {o.id: o.text for o in item.options}, keyed


ALL_ITEMS = [*formative_items(), *graded_items()]


def key_is_longest(options, keyed):
    (key,) = keyed
    return all(len(options[key]) > len(text) for option, text in options.items() if option != key)


def test_items_were_found():
    assert len(ALL_ITEMS) > 100


@pytest.mark.parametrize("group", sorted({g for g, *_ in ALL_ITEMS}))
def test_keys_are_not_usually_the_longest_option(group):
    singles = [
        (item_id, options, keyed) for g, item_id, kind, options, keyed in ALL_ITEMS if g == group and kind == "single"
    ]
    longest = [item_id for item_id, options, keyed in singles if key_is_longest(options, keyed)]
    assert len(longest) <= LONGEST_KEY_LIMIT * len(singles), (
        f"{group}: the key is the longest option in {len(longest)} of {len(singles)} single-answer items: {longest}"
    )


def test_choose_all_items_have_distractors():
    flawed = [
        item_id
        for _, item_id, kind, options, keyed in ALL_ITEMS
        if kind == "multiple" and (len(options) - len(keyed) < 2 or not keyed)
    ]
    assert not flawed, f"choose-all items with fewer than two wrong options: {flawed}"
