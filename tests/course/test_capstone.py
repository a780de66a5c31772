"""The capstone: module 5's four whole patient journeys, and the graded capstone's four more.

Every journey follows one patient through the same six stages and draws on modules 1-4, through
the learning objectives its questions serve (each objective names its module) and the sources they cite.
"""
import re

import nbformat
import pytest
import yaml

from ketamine_course import content

from conftest import REPO

STAGES = ("referral", "screening", "consent", "session", "followup", "maintenance")
# Headings on the graded cards that show each stage (a declined patient has a longer-term decision instead).
STAGE_HEADINGS = {"referral": ("referral",), "screening": ("screening",), "consent": ("consent",),
                  "session": ("session",), "followup": ("follow-up",), "maintenance": ("maintenance", "longer term")}
JOURNEYS = (1, 2, 3, 4)
MODULE_NOTEBOOK = REPO / "course" / "05_capstone.ipynb"
SOLUTION = REPO / "solutions" / "ps5_capstone" / "capstone_check.ipynb"
FIXTURE = yaml.safe_load((REPO / "tests" / "fixtures" / "assignments" / "ps5_capstone.yaml").read_text())


def journey_of(item_id: str) -> int:
    return int(re.match(r"^(?:m5|ps5)\.j(\d)\.", item_id).group(1))


def module_of(objective_id: str) -> int | None:
    """The earlier module an objective draws on, as its text names it ('(module 3)')."""
    found = re.search(r"\(module (\d)\)", content.objective(objective_id).text)
    return int(found.group(1)) if found else None


def code_calls(path, function):
    cells = nbformat.read(path, as_version=4).cells
    source = "\n".join(c.source for c in cells if c.cell_type == "code")
    return re.findall(rf'ui\.{function}\("([^"]+)"', source)


def bank():
    return content.question_banks()["m5"]


def refs_of_module(module_key):
    return {r for q in content.question_banks()[module_key].questions
            for r in list(q.refs) + [r for o in getattr(q, "options", []) for r in o.refs]}


# --- module 5 (formative) -------------------------------------------------------------------


def test_four_journeys_each_show_all_six_stages_in_order():
    shown = code_calls(MODULE_NOTEBOOK, "vignette")
    expected = [f"m5.j{j}.{stage}" for j in JOURNEYS for stage in STAGES]
    assert shown == expected, "each journey shows one card per stage, in stage order"
    for vignette_id in expected:
        content.vignette(vignette_id)


def test_each_journey_has_four_to_six_questions_of_mixed_types():
    questions = bank().questions
    for j in JOURNEYS:
        mine = [q for q in questions if journey_of(q.id) == j]
        assert 4 <= len(mine) <= 6, f"journey {j}: {len(mine)} questions"
        assert len({q.type for q in mine}) >= 3, f"journey {j}: too few question types"
    assert {q.type for q in questions} == {"single", "multiple", "numeric", "ordering", "reflection"}
    assert all(q.units for q in questions if q.type == "numeric"), "numeric questions carry units"


def test_every_objective_is_used():
    used = {q.objective for q in bank().questions}
    assert used == {o.id for o in bank().objectives}


def test_each_question_is_asked_once_within_its_own_journey():
    cells = [c.source for c in nbformat.read(MODULE_NOTEBOOK, as_version=4).cells if c.cell_type == "code"]
    journey_now, asked = None, []
    for source in cells:
        card = re.search(r'ui\.vignette\("m5\.j(\d)\.', source)
        if card:
            journey_now = int(card.group(1))
        quiz = re.search(r'ui\.quiz\("([^"]+)"\)', source)
        if quiz:
            assert journey_of(quiz.group(1)) == journey_now, f"{quiz.group(1)} is asked outside its journey"
            asked.append(quiz.group(1))
    assert sorted(asked) == sorted(q.id for q in bank().questions)
    assert len(asked) == len(set(asked))


def test_each_journey_draws_on_modules_1_to_4_by_objectives_and_sources():
    earlier = {n: refs_of_module(f"m{n}") for n in (1, 2, 3, 4)}
    for j in JOURNEYS:
        mine = [q for q in bank().questions if journey_of(q.id) == j]
        modules = {module_of(q.objective) for q in mine} - {None}
        assert modules == {1, 2, 3, 4}, f"journey {j} draws on modules {sorted(modules)}"
        cited = {r for q in mine for r in list(q.refs) + [r for o in getattr(q, "options", []) for r in o.refs]}
        for n, refs in earlier.items():
            assert cited & refs, f"journey {j} cites none of module {n}'s sources"


def test_module_has_a_reference_list_and_the_evidence_date():
    cells = nbformat.read(MODULE_NOTEBOOK, as_version=4).cells
    text = "\n".join(c.source for c in cells)
    assert 'ui.references("05_capstone.ipynb", "m5")' in text
    assert "1 December 2026" in cells[0].source and "not medical advice" in cells[0].source


# --- the graded capstone (ps5) ---------------------------------------------------------------


def assessment():
    return content.assessments()["ps5_capstone"]


def test_graded_capstone_has_four_journeys_of_three_to_five_decisions():
    items = assessment().items
    decisions = [i for i in items if i.type != "reflection"]
    for j in JOURNEYS:
        mine = [i for i in decisions if journey_of(i.id) == j]
        assert 3 <= len(mine) <= 5, f"journey {j}: {len(mine)} decisions"
        assert {module_of(i.objective) for i in mine} == {1, 2, 3, 4}, f"journey {j} misses a module"
        assert all(i.vignette and journey_of(i.vignette) == j for i in mine), "decisions point at their own cards"
    types = {i.type for i in items}
    assert {"numeric", "ordering", "single", "multiple"} <= types
    assert [i.id for i in items if i.type == "reflection"] == ["ps5.r1"]


def test_graded_cards_cover_the_six_stages_of_each_journey():
    for j in JOURNEYS:
        cards = [v for v in content.vignettes().values() if v.id.startswith(f"ps5.j{j}.")]
        headings = " | ".join(h.lower() for v in cards for h in v.facts)
        for stage, words in STAGE_HEADINGS.items():
            assert any(w in headings for w in words), f"journey {j}: no {stage} on its cards"


def test_solution_asks_every_item_once_with_its_module_named():
    cells = nbformat.read(SOLUTION, as_version=4).cells
    asked = code_calls(SOLUTION, "item")
    assert asked == [i.id for i in assessment().items]
    assert set(code_calls(SOLUTION, "vignette")) == {v for v in content.vignettes() if v.startswith("ps5.")}
    labels = [int(m) for c in cells if c.cell_type == "markdown"
              for m in re.findall(r"draws on module (\d)", c.source)]
    decisions = [i for i in assessment().items if i.type != "reflection"]
    assert labels == [module_of(i.objective) for i in decisions], "each decision names the module it draws on"


def test_solution_points_match_the_fixture_and_the_reflection_has_a_rubric():
    cells = nbformat.read(SOLUTION, as_version=4).cells
    grades = [c.metadata.nbgrader for c in cells if "points" in c.metadata.get("nbgrader", {})]
    auto = sum(g["points"] for g in grades if not g.get("task"))
    manual = sum(g["points"] for g in grades if g.get("task"))
    assert auto == FIXTURE["auto_points"] and manual == FIXTURE["manual_points"]
    task = next(c for c in cells if c.metadata.get("nbgrader", {}).get("task"))
    assert "### BEGIN MARK SCHEME" in task.source and "### END MARK SCHEME" in task.source
    assert set(FIXTURE["right"]) == {i.id for i in assessment().items}


@pytest.mark.parametrize("path", [MODULE_NOTEBOOK, SOLUTION], ids=lambda p: p.name)
def test_patients_are_fictional_and_said_so(path):
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    assert "fictional" in text
