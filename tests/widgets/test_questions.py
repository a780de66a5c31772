"""Widgets in a kernel-free process: what a click or a typed answer does, in both modes."""

import subprocess
import sys

import pytest

from ketamine_course import content
from ketamine_course.grading import Score, check, grade
from ketamine_course.storage import answer_store
from ketamine_course.widgets import questions, theme


@pytest.fixture
def in_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    return tmp_path


def inputs_of(box):
    """The AnswerInput behind a rendered question box (kept on the box for tests and tools)."""
    return box.answer_input


def test_formative_single_gives_the_chosen_rationale_and_reference(in_folder):
    box = questions.formative("m0.q1")
    inputs_of(box).control.value = "b"
    feedback = box.feedback.value
    assert "Not the best answer" in feedback and "off-label" in feedback and "Sanacora" in feedback
    inputs_of(box).control.value = "a"
    assert "Correct" in box.feedback.value
    assert not (in_folder / "answers.json").exists(), "formative answers are not graded answers"


def test_formative_multiple_needs_check_and_explains_every_option(in_folder):
    box = questions.formative("m0.q3")
    answer = inputs_of(box)
    for option_id, check_box in zip(answer.option_ids, answer.checks):
        check_box.value = option_id in ("a", "b")
    box.check_button.click()
    q = content.question("m0.q3")
    assert "Partly right" in box.feedback.value
    for option in q.options:
        assert option.rationale[:40] in box.feedback.value.replace("&#x27;", "'")


def test_formative_numeric_accepts_other_units_and_rejects_text(in_folder):
    box = questions.formative("m0.q4")
    answer = inputs_of(box)
    answer.number.value, answer.unit.value = "0.04", "g"
    box.check_button.click()
    assert "Correct" in box.feedback.value
    answer.number.value = "forty"
    box.check_button.click()
    assert "not a number" in box.feedback.value


def test_graded_widget_saves_each_answer_and_restores_it(in_folder):
    box = questions.graded("ps0.q1")
    assert "Not answered yet" in box.status.value
    inputs_of(box).control.value = "b"
    assert "Saved" in box.status.value
    assert answer_store.read_store().answers == {"ps0.q1": "b"}
    again = questions.graded("ps0.q1")
    assert inputs_of(again).control.value == "b" and "Saved earlier" in again.status.value
    assert "Correct" not in box.status.value and "Not the best" not in box.status.value, "no key in graded mode"


def test_graded_ordering_and_numeric_and_reflection_are_saved(in_folder):
    order = questions.graded("ps0.q4")
    for dropdown, step in zip(inputs_of(order).positions, ["bp0", "dose", "bp40", "observe", "home"]):
        dropdown.value = step
    numeric = questions.graded("ps0.q3")
    inputs_of(numeric).number.value = "36"
    reflection = questions.graded("ps0.r1")
    inputs_of(reflection).text.value = "Because blood pressure rises."
    saved = answer_store.read_store().answers
    assert saved["ps0.q4"] == ["bp0", "dose", "bp40", "observe", "home"]
    assert saved["ps0.q3"] == {"value": 36.0, "unit": "mg"}
    assert saved["ps0.r1"] == "Because blood pressure rises."


def test_graded_widget_explains_a_corrupt_store_and_keeps_it(in_folder):
    (in_folder / "answers.json").write_text("garbage")
    box = questions.graded("ps0.q1")
    assert "could not be read" in box.status.value
    inputs_of(box).control.value = "b"
    assert "kept as answers.unreadable-" in box.status.value
    assert list(in_folder.glob("answers.unreadable-*.json"))


def test_graded_widget_survives_a_hand_edited_value(in_folder):
    answer_store.save_answer("ps0.q2", "not a list")
    box = questions.graded("ps0.q2")  # must not raise
    assert not any(c.value for c in inputs_of(box).checks)


def test_autograde_mode_prints_the_saved_answer(in_folder, monkeypatch):
    answer_store.save_answer("ps0.q1", "b")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    shown = questions.graded("ps0.q1")._repr_markdown_()
    assert "Off-label use of a drug approved as an anaesthetic" in shown


def test_grade_returns_partial_points_and_prints_the_reason(in_folder, capsys):
    answer_store.save_answer("ps0.q2", ["a", "b", "c"])
    score = grade("ps0.q2", key=["a", "b", "c", "d"], points=2, rationale="Because.", refs=["spravato_uspi"])
    assert isinstance(score, Score) and float(score) == 1.5 and repr(score) == "1.5"
    out = capsys.readouterr().out
    assert "3 of 4 right options" in out and "Why: Because." in out
    check("ps0.q3")
    assert capsys.readouterr().out == "", "silent in the live notebook: the widget shows its own status"


def test_check_reports_unanswered_items_under_nbgrader(in_folder, capsys, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    check("ps0.q3")
    assert "not answered yet" in capsys.readouterr().out


def test_citations_have_short_readable_forms():
    from ketamine_course.content.citations import inline_html, short_form

    assert short_form("zarate2006") == "Zarate et al. 2006"
    assert short_form("spravato_uspi").startswith("Spravato US label")
    assert short_form("spravato_smpc").startswith("Spravato EU label")
    assert "https://doi.org/10.1001/archpsyc.63.8.856" in inline_html(["zarate2006"])


def test_importing_the_widgets_reads_no_content():
    """Content is read when a widget is shown, never when its module is imported (evidence_map's alt text included)."""
    code = (
        "import importlib, pkgutil\n"
        "from ketamine_course import content, widgets\n"
        "for found in pkgutil.iter_modules(widgets.__path__):\n"
        "    importlib.import_module(f'ketamine_course.widgets.{found.name}')\n"
        "print(sum(f.cache_info().misses for f in vars(content).values() if hasattr(f, 'cache_info')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"


def _contrast_on_white(colour: str) -> float:
    """WCAG 2 contrast ratio of a #rgb or #rrggbb colour against white."""
    digits = colour.lstrip("#")
    digits = "".join(c * 2 for c in digits) if len(digits) == 3 else digits
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def test_theme_text_colours_are_readable_on_white():
    for name, colour in {**theme.TEXT, "muted": theme.MUTED}.items():
        assert _contrast_on_white(colour) >= 4.5, f"{name} {colour}: below WCAG AA for text"


def test_status_messages_and_cards_keep_their_roles():
    assert theme.status_html("Saved.", theme.CORRECT) == '<div role="status" aria-live="polite">✔ Saved.</div>'
    assert theme.status_html("Choose.", symbol="") == '<div role="status" aria-live="polite">Choose.</div>'
    named = theme.card_html("kc-vignette", "Title", "<p>body</p>", label="Patient card: O'Neill")
    assert "role='region' aria-label='Patient card: O&#x27;Neill'" in named and "border:2px solid #0072B2" in named
    live = theme.card_html("kc-verdict", "Caution", "", colour=theme.PALETTE["orange"], border_px=3)
    assert "role='status' aria-live='polite'" in live and "border:3px solid #E69F00" in live


def test_every_panel_has_the_theme_frame(in_folder):
    from ketamine_course.widgets import monitoring_explorer, regulatory_table, screening_explorer

    for box in (
        questions.formative("m0.q1"),
        questions.graded("ps0.q1"),
        monitoring_explorer.show(),
        screening_explorer.show(),
        regulatory_table.show(),
    ):
        assert {k: getattr(box.layout, k) for k in theme.PANEL_LAYOUT} == theme.PANEL_LAYOUT
