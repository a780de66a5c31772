"""The course's colours: words meet WCAG 2.1 AA contrast (4.5:1), and the contrast sum is WCAG's own."""

from __future__ import annotations

import pytest

from ketamine_course.widgets import theme


@pytest.mark.parametrize(
    "foreground, background, expected",
    [("#000000", "#ffffff", 21.0), ("#ffffff", "#ffffff", 1.0), ("#777", "#fff", 4.48), ("#0072B2", "#fff", 5.19)],
)
def test_contrast_ratio_is_wcags(foreground, background, expected):
    assert theme.contrast_ratio(foreground, background) == pytest.approx(expected, abs=0.01)
    assert theme.contrast_ratio(background, foreground) == pytest.approx(expected, abs=0.01), "order does not matter"


TEXT_PAIRS = [
    *((f"TEXT[{name!r}] on white", colour, "#ffffff") for name, colour in theme.TEXT.items()),
    ("MUTED on white", theme.MUTED, "#ffffff"),
    *(
        (f"button words on BUTTON_COLOURS[{style!r}]", theme.BUTTON_TEXT, colour)
        for style, colour in theme.BUTTON_COLOURS.items()
    ),
]


@pytest.mark.parametrize("pair, foreground, background", TEXT_PAIRS, ids=[p[0] for p in TEXT_PAIRS])
def test_every_colour_the_course_writes_words_in_meets_aa(pair, foreground, background):
    assert theme.contrast_ratio(foreground, background) >= 4.5, pair


def test_status_messages_start_with_a_symbol_so_colour_is_never_the_only_cue():
    for symbol in (theme.CORRECT, theme.PARTLY, theme.WRONG, theme.INFO):
        assert f"{symbol} Saved." in theme.status_html("Saved.", symbol)
    assert 'role="status"' in theme.status_html("Saved.")
