"""Item analysis: a small cohort really autograded by nbgrader, and a simulated cohort of 200.

The small cohort proves that scores are read from a real gradebook and choices from the answer files
that autograde collected. The 200 learners are written straight into a real nbgrader gradebook (its
own API: add_student, add_submission, grade scores) with answer files beside them, from a seeded
simulation whose items are built to be too easy, too hard, anti-correlated with ability or to have a
distractor nobody picks. Every statistic is recomputed here with numpy and compared.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import warnings

import nbformat
import numpy as np
import pytest
import yaml
from lab_browser import file_violations
from nbgrader.api import Gradebook

from ketamine_course import cli
from ketamine_course.content import assessments
from ketamine_course.core import item_statistics, scoring
from ketamine_course.instructor import item_analysis
from ketamine_course.storage import answer_store

from conftest import REPO, copy_course, nbgrader

pytestmark = [
    pytest.mark.nbgrader,
    pytest.mark.xdist_group("item_analysis"),
]  # one worker: the scratch course is made once

ASSIGNMENT = "ps1_mechanism"
NOTEBOOK = "mechanism_check"
FIXTURE = yaml.safe_load((REPO / "tests" / "fixtures" / "assignments" / f"{ASSIGNMENT}.yaml").read_text())
RIGHT = FIXTURE["right"]
ASSESSMENT = assessments()[ASSIGNMENT]
AUTO_ITEMS = [i for i in ASSESSMENT.items if i.type != "reflection"]
ITEM_IDS = [i.id for i in AUTO_ITEMS]


def item_of_cell(cell_name: str) -> str:
    """The test's own reading of the naming rule: cell ps1_v1_q2_grade grades item ps1.v1.q2."""
    return cell_name.removesuffix("_grade").replace("_", ".")


def write_store(folder, answers: dict) -> None:
    """An answer file in the shape the widgets save (one entry per item, with a time)."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = {k: {"value": v, "saved": "2026-11-01T10:00:00+00:00"} for k, v in answers.items() if v is not None}
    (folder / answer_store.STORE_NAME).write_text(
        json.dumps({"format": answer_store.FORMAT, "version": answer_store.VERSION, "answers": entries}),
        encoding="utf-8",
    )


# --- a small cohort, really autograded ------------------------------------------------------------

WRONG = {
    "ps1.q1": list(reversed(RIGHT["ps1.q1"])),  # no step in place: 0
    "ps1.q2": ["c", "f"],  # no right option, two wrong: 0
    "ps1.q3": {"value": 40, "unit": "mg"},
    "ps1.q4": "a",
    "ps1.q5": "a",
    "ps1.v1.q1": {"value": 84, "unit": "mg"},
    "ps1.v1.q2": "a",
    "ps1.v2.q1": "a",
    "ps1.v2.q2": "b",
    "ps1.v3.q1": "a",
    "ps1.v3.q2": "a",
}
# 1 right, 0 wrong, None unanswered; one row per learner, one column per item (in ITEM_IDS order).
SMALL = {
    "ana": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    "ben": [1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1],
    "cas": [1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0],
    "dita": [0, None, 0, 1, 0, 0, 0, 1, 0, 0, 1],
    "eli": [0, 0, 0, 1, 1, 1, 0, 1, 1, 0, None],
}
CORRUPT = "fynn"  # an answer file that is not JSON: every item unanswered, scored 0


@pytest.fixture(scope="module")
def small_cohort(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("items") / "course_root")
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    released = course / "assignments" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    for student, pattern in SMALL.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        shutil.copy(released, folder)
        answers = {i: (RIGHT[i] if r == 1 else WRONG[i] if r == 0 else None) for i, r in zip(ITEM_IDS, pattern)}
        for item_id, value in answers.items():
            if value is not None:
                answer_store.save_answer(item_id, value, folder)
    folder = course / "submitted" / CORRUPT / ASSIGNMENT
    folder.mkdir(parents=True)
    shutil.copy(released, folder)
    (folder / "answers.json").write_text("{not json", encoding="utf-8")
    nbgrader(course, "autograde", ASSIGNMENT, "--force")
    progress = io.StringIO()
    written = item_analysis.item_analysis(ASSIGNMENT, root=course, out=course / "out", stream=progress)
    return course, written, progress.getvalue()


def small_matrix():
    rows = [[r or 0 for r in pattern] for pattern in SMALL.values()] + [[0] * len(ITEM_IDS)]
    return np.array(rows, dtype=float)


@pytest.mark.kernel
def test_small_cohort_scores_come_from_the_real_gradebook(small_cohort):
    _, written, _ = small_cohort
    expected = small_matrix().mean(axis=0)
    got = {s.item.id: s.difficulty for s in written.analysis.items}
    assert [s.item.id for s in written.analysis.items] == ITEM_IDS
    assert [got[i] for i in ITEM_IDS] == pytest.approx(list(expected))
    assert written.analysis.cohort.students == sorted([*SMALL, CORRUPT])


@pytest.mark.kernel
def test_small_cohort_choices_come_from_the_collected_answer_files(small_cohort):
    _, written, _ = small_cohort
    stats = {s.item.id: s for s in written.analysis.items}
    for item_id in ("ps1.q4", "ps1.q5", "ps1.v2.q1"):
        chosen = [RIGHT[item_id] if p[ITEM_IDS.index(item_id)] == 1 else WRONG[item_id] for p in SMALL.values()]
        assert stats[item_id].choices == {o: chosen.count(o) for o in "abcd"}
    assert stats["ps1.q2"].answered == 4  # dita skipped it; fynn's file is unreadable
    assert stats["ps1.q2"].choices["f"] == 2  # cas and eli chose the wrong pair c + f
    assert any(CORRUPT in note and "could not be read" in note for note in written.analysis.cohort.notes)


@pytest.mark.kernel
def test_small_cohort_discrimination_matches_numpy(small_cohort):
    _, written, _ = small_cohort
    matrix = small_matrix()
    points = np.array([s.points for s in written.analysis.items])
    for j, stats in enumerate(written.analysis.items):
        rest = (matrix * points).sum(axis=1) - matrix[:, j] * points[j]
        if matrix[:, j].std() == 0:
            assert stats.discrimination is None
        else:
            assert stats.discrimination == pytest.approx(np.corrcoef(matrix[:, j], rest)[0, 1])


@pytest.mark.kernel
def test_small_cohort_progress_and_notes(small_cohort):
    _, written, progress = small_cohort
    assert f"Reading {ASSIGNMENT}: 6/6" in progress
    assert any("rough" in note for note in written.analysis.cohort.notes)  # fewer than 30 learners
    assert written.html.exists() and written.csv.exists()


# --- 200 simulated learners in a real gradebook ---------------------------------------------------

N = 200
SEED = 20261101
EASY, HARD, ANTI, SKIPPED = "ps1.q4", "ps1.q5", "ps1.v2.q1", "ps1.v3.q2"
LOCATION = {
    "ps1.v1.q2": -0.8,
    "ps1.v2.q2": 0.0,
    "ps1.v3.q1": 0.6,
    "ps1.v3.q2": -0.3,
    "ps1.q1": 0.2,
    "ps1.q2": 0.4,
    "ps1.q3": -0.2,
    "ps1.v1.q1": 0.0,
}
BROKEN_STORE = "s007"  # unreadable answer file: choices count as no answer, scores stay
NOT_GRADED = "zz_late"  # a submission in the gradebook without scores


def simulated_answer(item, theta, rng):
    """One learner's answer: right or wrong by the item's design, then a plausible answer of that kind."""
    key = RIGHT[item.id]
    others = [o.id for o in item.options if o.id != key] if item.type == "single" else []
    if item.id == EASY:
        return key if rng.random() < 0.95 else str(rng.choice(["a", "b"]))  # option d: never chosen
    if item.id == HARD:
        return key if rng.random() < 0.10 else str(rng.choice(others))
    if item.id == ANTI:
        return key if theta + rng.normal(0, 0.5) < -0.3 else str(rng.choice(others))
    if item.id == SKIPPED and rng.random() < 0.05:
        return None
    right = rng.random() < 1 / (1 + np.exp(-1.7 * (theta - LOCATION[item.id])))
    if item.type == "single":
        return key if right else str(rng.choice(others))
    if item.type == "multiple":
        wrong = [["a", "b"], ["a", "b", "c"], ["a", "d", "f"], ["c"]]
        return list(key) if right else wrong[rng.integers(len(wrong))]
    if item.type == "ordering":
        if right:
            return list(key)
        return list(key[:-2]) + [key[-1], key[-2]] if rng.random() < 0.5 else [str(s) for s in rng.permutation(key)]
    if item.id == "ps1.q3":
        if right:
            return {"value": 11.6, "unit": "mg"} if rng.random() < 0.7 else {"value": 0.0116, "unit": "g"}
        wrong = [
            {"value": 40, "unit": "mg"},
            {"value": 0.04, "unit": "g"},
            {"value": 1.16, "unit": "mg"},
            {"value": 29, "unit": "%"},
        ]
        return wrong[rng.choice(4, p=[0.4, 0.2, 0.3, 0.1])]
    return dict(key) if right else [{"value": 84, "unit": "mg"}, {"value": 0.5, "unit": "mg/kg"}][rng.integers(2)]


def fraction_earned(item, answer) -> float:
    """Scored the way the hidden tests score (numeric answers are built exactly right or far off)."""
    key = RIGHT[item.id]
    if answer is None:
        return 0.0
    if item.type == "single":
        return float(answer == key)
    if item.type == "multiple":
        return scoring.score_multiple(answer, key, [o.id for o in item.options]).fraction
    if item.type == "ordering":
        return scoring.score_ordering(answer, key).fraction
    return float(answer in ({"value": 11.6, "unit": "mg"}, {"value": 0.0116, "unit": "g"}, key))


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    rng = np.random.default_rng(SEED)
    students = [f"s{n:03d}" for n in range(N)]
    ability = rng.normal(size=N)
    answers = [{item.id: simulated_answer(item, ability[s], rng) for item in AUTO_ITEMS} for s in range(N)]
    matrix = np.array([[fraction_earned(item, a[item.id]) for item in AUTO_ITEMS] for a in answers])

    course = copy_course(tmp_path_factory.mktemp("cohort200") / "course_root")
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy warnings while adding submissions
        for student in [*students, NOT_GRADED]:
            gb.add_student(student)
        for s, student in enumerate(students):
            submission = gb.add_submission(ASSIGNMENT, student)
            for grade in submission.notebooks[0].grades:
                if grade.cell.cell_type == "code":
                    grade.auto_score = matrix[s, ITEM_IDS.index(item_of_cell(grade.name))] * grade.max_score
                    grade.needs_manual_grade = False
        gb.add_submission(ASSIGNMENT, NOT_GRADED)
        gb.db.commit()
        points = np.array(
            [gb.find_grade_cell(i.replace(".", "_") + "_grade", NOTEBOOK, ASSIGNMENT).max_score for i in ITEM_IDS]
        )
    for student, given in zip(students, answers):
        write_store(course / "autograded" / student / ASSIGNMENT, given)
    (course / "autograded" / BROKEN_STORE / ASSIGNMENT / "answers.json").write_text("{broken", encoding="utf-8")
    answers[students.index(BROKEN_STORE)] = {i: None for i in ITEM_IDS}

    progress = io.StringIO()
    written = item_analysis.item_analysis(ASSIGNMENT, root=course, stream=progress)
    return {
        "course": course,
        "students": students,
        "answers": answers,
        "matrix": matrix,
        "points": points,
        "written": written,
        "stats": {s.item.id: s for s in written.analysis.items},
        "progress": progress.getvalue(),
    }


def test_every_graded_learner_is_analysed_and_the_ungraded_one_is_named(simulated):
    cohort = simulated["written"].analysis.cohort
    assert cohort.students == simulated["students"]
    assert any(NOT_GRADED in note and "no automatic score" in note for note in cohort.notes)
    assert any(BROKEN_STORE in note for note in cohort.notes)
    assert f"Reading {ASSIGNMENT}: {N}/{N}" in simulated["progress"]


def test_difficulty_is_the_mean_share_of_points(simulated):
    expected = simulated["matrix"].mean(axis=0)
    for j, item_id in enumerate(ITEM_IDS):
        assert simulated["stats"][item_id].difficulty == pytest.approx(expected[j], abs=1e-9)


def test_discrimination_is_the_corrected_item_total_correlation(simulated):
    matrix, points = simulated["matrix"], simulated["points"]
    totals = matrix @ points
    for j, item_id in enumerate(ITEM_IDS):
        rest = totals - matrix[:, j] * points[j]
        assert simulated["stats"][item_id].discrimination == pytest.approx(
            np.corrcoef(matrix[:, j], rest)[0, 1], abs=1e-9
        )


def test_upper_lower_index_compares_the_top_and_bottom_27_percent(simulated):
    matrix, points = simulated["matrix"], simulated["points"]
    group = int(0.27 * N + 0.5)
    for j, item_id in enumerate(ITEM_IDS):
        rest = np.round(matrix @ points - matrix[:, j] * points[j], 6)  # equal totals tie exactly
        ranked = np.lexsort((np.arange(N), rest))  # by rest score, ties by student id (s000 < s001 ...)
        expected = matrix[ranked[-group:], j].mean() - matrix[ranked[:group], j].mean()
        assert simulated["stats"][item_id].upper_lower == pytest.approx(expected, abs=1e-9)


def test_choice_frequencies_count_every_option(simulated):
    for item in AUTO_ITEMS:
        if item.type not in ("single", "multiple"):
            continue
        given = [a[item.id] for a in simulated["answers"]]
        if item.type == "single":
            expected = {o.id: given.count(o.id) for o in item.options}
        else:
            expected = {o.id: sum(1 for g in given if g and o.id in g) for o in item.options}
        assert simulated["stats"][item.id].choices == expected, item.id
        assert simulated["stats"][item.id].answered == sum(g is not None for g in given)


def test_ordering_and_numeric_items(simulated):
    matrix, answers = simulated["matrix"], simulated["answers"]
    q1 = ITEM_IDS.index("ps1.q1")
    assert simulated["stats"]["ps1.q1"].fully_right == pytest.approx((matrix[:, q1] == 1).mean())
    q3 = simulated["stats"]["ps1.q3"]
    assert q3.fully_right == pytest.approx(matrix[:, ITEM_IDS.index("ps1.q3")].mean())
    given = [a["ps1.q3"] for a in answers]
    forty = sum(g in ({"value": 40, "unit": "mg"}, {"value": 0.04, "unit": "g"}) for g in given)
    slips = sum(g == {"value": 1.16, "unit": "mg"} for g in given)
    assert q3.wrong_values[0] == ("40 mg", forty), "0.04 g and 40 mg are counted as one mistake"
    assert ("1.16 mg", slips) in q3.wrong_values


def test_the_designed_items_are_flagged(simulated):
    stats = simulated["stats"]
    names = {i: [f for f, _ in s.flags] for i, s in stats.items()}
    assert stats[EASY].difficulty == pytest.approx(0.95, abs=0.04) and "too easy" in names[EASY]
    assert stats[EASY].choices["d"] == 0 and stats[EASY].unused == ["d"]
    assert ("unused distractor", "option(s) d") in stats[EASY].flags
    assert stats[HARD].difficulty == pytest.approx(0.10, abs=0.05) and "too hard" in names[HARD]
    assert stats[ANTI].discrimination < -0.3 and "negative discrimination" in names[ANTI]
    ordinary = [i for i in LOCATION if i != SKIPPED]
    for item_id in ordinary:
        assert stats[item_id].discrimination > 0.2, item_id
        assert not {"negative discrimination", "weak discrimination", "too easy", "too hard"} & set(names[item_id]), (
            item_id
        )
    assert simulated["written"].analysis.flagged()["too easy"] == [EASY]


def test_objectives_show_mean_difficulty_and_item_count(simulated):
    expected_difficulty = dict(zip(ITEM_IDS, simulated["matrix"].mean(axis=0)))
    for o in simulated["written"].analysis.objectives:
        mine = [i.id for i in AUTO_ITEMS if i.objective == o.objective.id]
        assert o.items == len(mine)
        if mine:
            assert o.mean_difficulty == pytest.approx(np.mean([expected_difficulty[i] for i in mine]))
        else:
            assert o.mean_difficulty is None


def test_csv_has_one_row_per_item_with_the_statistics(simulated):
    rows = list(csv.DictReader(open(simulated["written"].csv, encoding="utf-8")))
    assert [r["item"] for r in rows] == ITEM_IDS
    for row in rows:
        stats = simulated["stats"][row["item"]]
        assert float(row["difficulty"]) == pytest.approx(stats.difficulty, abs=5e-4)
        assert float(row["discrimination"]) == pytest.approx(stats.discrimination, abs=5e-4)
    easy = rows[ITEM_IDS.index(EASY)]
    assert "c:" in easy["choices"] and re.search(r"\bc:\d+\*", easy["choices"]), "the right option is starred"
    assert easy["unused_options"] == "d" and "too easy" in easy["flags"]


def test_html_report_is_self_contained_and_explains_itself(simulated):
    page = simulated["written"].html.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") >= 1 + sum(i.type in ("single", "multiple") for i in AUTO_ITEMS)
    assert not re.search(r"""(src|href)=["']https?:""", page), "no external images, scripts or styles"
    assert "<script" not in page
    for words in ("Difficulty", "Discrimination", "Upper-lower index", "For instructors only", "27%", "0.90", "0.20"):
        assert words in page
    for flag in item_statistics.FLAG_EXPLANATIONS:
        assert flag in page
    assert 'alt="Scatter plot of every item' in page


@pytest.mark.browser
def test_html_report_has_no_serious_accessibility_violations(simulated, browser):
    found = file_violations(browser, simulated["written"].html)
    assert not found, "\n".join(found)


def test_summary_line_names_the_flagged_items(simulated):
    line = simulated["written"].summary()
    assert f"{N} learners" in line and "too easy: ps1.q4" in line and "too hard: ps1.q5" in line
    assert re.search(r"negative discrimination: [^;]*ps1\.v2\.q1", line)
    assert line.count("\n") == 0


# --- bad input: a clear message, nothing written ----------------------------------------------------


def test_unknown_or_ungraded_assignment_is_explained(simulated, monkeypatch, capsys):
    course = simulated["course"]
    monkeypatch.setenv("KETAMINE_COURSE_ROOT", str(course))
    assert cli.main(["item-analysis", "ps9_nothing"]) == 1
    assert "no assignment 'ps9_nothing'" in capsys.readouterr().err
    assert cli.main(["item-analysis", "ps2_candidacy"]) == 1
    assert "not in the gradebook yet" in capsys.readouterr().err
    assert not (course / "reports" / "item_analysis_ps2_candidacy.html").exists()


def test_command_line_writes_the_report_where_asked(simulated, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("KETAMINE_COURSE_ROOT", str(simulated["course"]))
    assert cli.main(["item-analysis", ASSIGNMENT, "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"Item analysis of {ASSIGNMENT}: {N} learners") and out.count("\n") == 1
    assert f"Reading {ASSIGNMENT}: {N}/{N}" in err
    assert (tmp_path / f"item_analysis_{ASSIGNMENT}.html").exists()
    assert (tmp_path / f"item_analysis_{ASSIGNMENT}.csv").exists()


def test_every_grade_cell_of_every_solution_names_an_item():
    """The analysis finds items by their grade cell's name: keep the naming rule in every solution."""
    for solution in sorted((REPO / "solutions").glob("*/*.ipynb")):
        assignment = solution.parent.name
        ids = {i.id for i in assessments()[assignment].items}
        for cell in nbformat.read(solution, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") or meta.get("task"):
                name = meta["grade_id"]
                item_id = name.removesuffix("_grade").removesuffix("_task").replace("_", ".")
                assert item_id in ids, f"{solution.name}: grade cell {name} names no item"


def test_keys_are_read_from_the_hidden_tests():
    keys = item_analysis.answer_keys(REPO, ASSIGNMENT)
    for item in AUTO_ITEMS:
        expected = RIGHT[item.id]
        if item.type == "numeric":
            assert (
                keys[item.id]["value"] == pytest.approx(expected["value"]) and keys[item.id]["unit"] == expected["unit"]
            )
        else:
            assert keys[item.id] == expected


def test_answers_of_the_wrong_shape_count_for_no_option():
    single = next(i for i in AUTO_ITEMS if i.type == "single")
    multiple = next(i for i in AUTO_ITEMS if i.type == "multiple")
    assert sum(item_analysis._choices(single, [["a"], {"x": 1}, 3, "z", "a"]).values()) == 1
    assert item_analysis._choices(multiple, [[{"a": 1}, "a", "a"], "a", None])["a"] == 1
    assert item_analysis._numeric_in_words({"value": "ten", "unit": "mg"}, None) == "an unreadable answer"
    assert item_analysis._numeric_in_words({"value": 0.04, "unit": "g"}, {"value": 11.6, "unit": "mg"}) == "40 mg"
