"""Item analysis of a graded assignment, for the instructor: per item and per learning objective.

    ketamine-course item-analysis ASSIGNMENT [--out DIR]

For every automatically graded item: how hard it was (difficulty), whether it told apart learners
who did well on the rest of the assignment from those who did not (discrimination), and which
options, orders or numbers learners chose; flags for items worth a second look. Scores come from
nbgrader's gradebook, choices from the answer files collected with each submission
(autograded/<student>/<assignment>/answers.json, else submitted/...), keys from the hidden tests in
solutions/. Writes item_analysis_<assignment>.html (self-contained, figures embedded, every
statistic explained) and item_analysis_<assignment>.csv (one row per item) to reports/.

The report shows the answer keys: it is for instructors, never for learners.
"""
from __future__ import annotations

import ast
import csv
import html
import math
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import nbformat

from ketamine_course.storage import answer_store
from ketamine_course.runtime import console_progress
from ketamine_course.core import scoring
from ketamine_course.runtime import nbgrader
from ketamine_course.storage.paths import course_root
from ketamine_course.instructor.cohort import REPORTS_FOLDER, CohortError
from ketamine_course.instructor.gradebook import has_gradebook, open_gradebook, read_grades
from ketamine_course.content import assessments

# Thresholds of the flags. They are prompts to look at an item again, not verdicts.
TOO_EASY_ABOVE = 0.90  # difficulty above this: nearly everyone earned the points
TOO_HARD_BELOW = 0.20  # difficulty below this: few earned the points
WEAK_DISCRIMINATION_BELOW = 0.10  # discrimination below this (and not negative): tells learners apart poorly
NEGATIVE_DISCRIMINATION_BELOW = 0.0  # discrimination below this: stronger learners did worse on the item
UNUSED_OPTION_PICKS = 0  # an option chosen by this many learners or fewer is doing no work
GROUP_SHARE = 0.27  # the upper and lower groups of the upper-lower index: 27% of learners each
FEW_LEARNERS = 30  # below this many learners every figure moves a lot with one or two answers
WRONG_VALUES_SHOWN = 3  # numeric items: how many of the most common wrong values to list
FULL_CREDIT = 1 - 1e-9

FLAG_EXPLANATIONS = {
    "too easy": f"More than {TOO_EASY_ABOVE:.0%} of the points were earned. The item may not test much; "
                "that is fine for a safety fact every clinician must know, less so for a question meant to "
                "make learners think.",
    "too hard": f"Fewer than {TOO_HARD_BELOW:.0%} of the points were earned. Check the key, the wording and "
                "whether the module teaches this clearly before blaming the learners.",
    "negative discrimination": "Learners who did well on the rest of the assignment did worse on this item than "
                               "those who did poorly. Usual causes: a wrong key, an ambiguous stem, or a "
                               "distractor that a well-read clinician can defend. Review it first.",
    "weak discrimination": f"The item tells stronger and weaker learners apart only a little (discrimination "
                           f"below {WEAK_DISCRIMINATION_BELOW:.2f}). Often it is too easy or too hard, or tests "
                           "something the rest of the assignment does not.",
    "unused distractor": "A wrong option that nobody chose. It is not drawing anyone away from the right answer; "
                         "replace it with a mistake clinicians really make, or drop it.",
    "keyed answer never chosen": "Nobody chose this right option. Check the key in solutions/ first.",
}


class ItemAnalysisError(CohortError):
    """Something that stops the analysis, said in plain words."""


# --- statistics (pure functions) ---------------------------------------------------------------


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def pearson(xs, ys):
    """Pearson's correlation; None when there are fewer than 3 learners or either side has no spread."""
    if len(xs) < 3:
        return None
    mx, my = mean(xs), mean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx < 1e-12 or syy < 1e-12:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / math.sqrt(sxx * syy)


def group_size(learners: int) -> int:
    """Learners in each of the upper and lower groups: 27% of the cohort, rounded, at least 1."""
    return min(max(1, round(GROUP_SHARE * learners)), learners // 2)


def upper_lower_index(fractions, rest, students):
    """Mean share of the item earned by the top 27% on the other items, minus that of the bottom 27%.

    Learners are ranked by their score on the other items; ties are broken by student id, so the
    result does not depend on the order the gradebook lists them. None with fewer than 2 learners.
    """
    size = group_size(len(fractions))
    if size < 1:
        return None
    ranked = sorted(range(len(fractions)), key=lambda j: (rest[j], students[j]))
    lower, upper = ranked[:size], ranked[-size:]
    return mean(fractions[j] for j in upper) - mean(fractions[j] for j in lower)


# --- the cohort: scores, answers and keys ------------------------------------------------------


@dataclass(frozen=True)
class AnalysedItem:
    item: object  # models.GradedItem
    cell: str  # its grade cell in the gradebook
    points: float
    key: object = None  # from the hidden test in solutions/; None if it could not be read


@dataclass
class Cohort:
    assessment: object  # models.Assessment
    items: list  # AnalysedItem, in the order learners meet them
    students: list  # student ids, sorted
    fractions: dict  # item id -> share of the item's points earned, one per student
    answers: dict  # item id -> saved answer (or None), one per student
    notes: list = field(default_factory=list)  # what the instructor should know about the data


def answer_keys(root: Path, assignment: str) -> dict:
    """Item id -> key, read from the `grading.grade(item, key=...)` calls of the hidden tests in solutions/."""
    keys = {}
    for path in sorted((root / "solutions" / assignment).glob("*.ipynb")):
        try:
            notebook = nbformat.read(path, as_version=4)
        except Exception:  # an unreadable notebook: its keys stay unknown, and the report says so
            continue
        for cell in notebook.cells:
            if cell.cell_type != "code" or "grade(" not in cell.source:
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "grade"
                        and node.args and isinstance(node.args[0], ast.Constant)):
                    for keyword in node.keywords:
                        if keyword.arg == "key":
                            try:
                                keys[node.args[0].value] = ast.literal_eval(keyword.value)
                            except (ValueError, TypeError, SyntaxError):
                                pass
    return keys


def answer_folder(root: Path, student: str, assignment: str) -> Path:
    """Where a learner's graded answers are: the autograded copy, else the submission."""
    graded = root / "autograded" / student / assignment
    return graded if graded.is_dir() else root / "submitted" / student / assignment


def _names(ids, shown=20) -> str:
    """A list of student ids for a sentence, cut short when long."""
    return ", ".join(ids[:shown]) + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


def load_cohort(assignment: str, root: Path = None, stream=None) -> Cohort:
    """Scores from the gradebook and answers from the collected answer files, for every graded learner."""
    root = Path(root or course_root()).resolve()
    assessment = assessments().get(assignment)
    if assessment is None:
        raise ItemAnalysisError(f"The course has no assignment {assignment!r}. Assignments: {', '.join(assessments())}.")
    not_yet = ItemAnalysisError(f"{assignment} is not in the gradebook yet: generate it, collect the submissions "
                                f"and autograde them (`ketamine-course grade-cohort {assignment}`) first.")
    if not has_gradebook(root):
        raise not_yet
    with nbgrader.in_course(root), open_gradebook(root) as gradebook:
        if assignment not in {a.name for a in gradebook.assignments}:
            raise not_yet
        table = read_grades(gradebook, [assignment])
    notes = []
    auto_cells = [c for c in table.cells if c.auto]
    unknown = [c.name for c in auto_cells if c.item is None]
    if unknown:
        notes.append(f"Grade cells that match no item of the assessment file were left out: {', '.join(unknown)}.")
    cells = [c for c in auto_cells if c.item is not None]
    manual = [i.id for i in assessment.items if i.type == "reflection"]
    if manual:
        notes.append(f"Written reflections ({', '.join(manual)}) are graded by a person and are not analysed here.")
    submitted = sorted(s for a, s in table.submitted if a == assignment)
    students = [s for s in submitted if all(table.scores.get((assignment, s, c.name)) is not None for c in cells)]
    left_out = sorted(set(submitted) - set(students))
    if left_out:
        notes.append(f"{len(left_out)} submission(s) have no automatic score yet (not autograded, or autograding "
                     f"failed) and were left out: {_names(left_out)}.")
    if not students:
        raise ItemAnalysisError(f"No autograded submission of {assignment} yet: autograde first "
                                f"(`ketamine-course grade-cohort {assignment}`).")
    keys = answer_keys(root, assignment)
    missing_keys = [c.item.id for c in cells if c.item.id not in keys and c.item.type in ("single", "multiple")]
    if missing_keys:
        notes.append(f"The keys of {', '.join(missing_keys)} could not be read from solutions/{assignment}/; "
                     "their options are listed without marking the right ones.")
    items = [AnalysedItem(c.item, c.name, c.max_score, keys.get(c.item.id)) for c in cells]
    fractions = {i.item.id: [] for i in items}
    answers = {i.item.id: [] for i in items}
    unreadable = []
    with console_progress.bar(total=len(students), unit="student", desc=f"Reading {assignment}", stream=stream) as bar:
        for student in students:
            stored = answer_store.read_store(answer_folder(root, student, assignment))
            if stored.problems:
                unreadable.append(student)
            for i in items:
                score = table.scores[(assignment, student, i.cell)]
                fractions[i.item.id].append(score / i.points if i.points else 0.0)
                answers[i.item.id].append(stored.answers.get(i.item.id))
            bar.update(1)
    if unreadable:
        notes.append(f"The answer files of {len(unreadable)} learner(s) were missing parts or could not be read "
                     f"({_names(unreadable)}); their choices count as 'no answer', their scores are unaffected.")
    if len(students) < FEW_LEARNERS:
        notes.append(f"Only {len(students)} learner(s): with fewer than {FEW_LEARNERS}, one or two answers move every "
                     "figure a lot. Read the numbers as rough.")
    return Cohort(assessment, items, students, fractions, answers, notes)


# --- per item and per objective ----------------------------------------------------------------


@dataclass
class ItemStats:
    item: object  # models.GradedItem
    points: float
    key: object
    learners: int
    answered: int
    difficulty: float
    discrimination: object  # float, or None when not defined
    upper_lower: object  # float, or None
    fully_right: float  # share with full credit (numeric: within the tolerance)
    choices: dict = field(default_factory=dict)  # option id -> learners who chose it (single, multiple)
    wrong_values: list = field(default_factory=list)  # numeric: (value in words, learners), most common first
    unused: list = field(default_factory=list)  # option ids nobody chose
    flags: list = field(default_factory=list)  # (flag name, detail)


def keyed_options(item, key) -> set:
    if key is None:
        return set()
    return {key} if item.type == "single" else set(key) if item.type == "multiple" else set()


def _choices(item, answers) -> dict:
    option_ids = [o.id for o in item.options]
    counts = {o: 0 for o in option_ids}
    for answer in answers:  # a hand-edited answer of the wrong shape counts for no option
        if item.type == "single" and isinstance(answer, str) and answer in counts:
            counts[answer] += 1
        elif item.type == "multiple" and isinstance(answer, list):
            for option in {a for a in answer if isinstance(a, str)} & set(option_ids):
                counts[option] += 1
    return counts


def _numeric_in_words(answer, key) -> str:
    """A numeric answer in the key's unit when it converts (so 0.04 g and 40 mg are one mistake)."""
    if not isinstance(answer, dict) or isinstance(answer.get("value"), bool) or not isinstance(answer.get("value"), (int, float)):
        return "an unreadable answer"
    value, unit = float(answer["value"]), str(answer.get("unit"))
    if isinstance(key, dict) and key.get("unit"):
        converted = scoring.convert(value, unit, key["unit"])
        if converted is not None:
            return f"{converted:.4g} {key['unit']}"
    return f"{value:.4g} {unit}"


def item_stats(cohort: Cohort, analysed: AnalysedItem) -> ItemStats:
    item = analysed.item
    fractions = cohort.fractions[item.id]
    answers = cohort.answers[item.id]
    # Each learner's points on the other items, rounded so that equal totals tie exactly when ranked.
    rest = [round(sum(other.points * cohort.fractions[other.item.id][j] for other in cohort.items if other is not analysed), 6)
            for j in range(len(cohort.students))]
    stats = ItemStats(
        item=item, points=analysed.points, key=analysed.key, learners=len(fractions),
        answered=sum(a is not None for a in answers), difficulty=mean(fractions),
        discrimination=pearson(fractions, rest), upper_lower=upper_lower_index(fractions, rest, cohort.students),
        fully_right=mean(f >= FULL_CREDIT for f in fractions))
    if item.type in ("single", "multiple"):
        stats.choices = _choices(item, answers)
        stats.unused = [o for o, n in stats.choices.items() if n <= UNUSED_OPTION_PICKS]
    if item.type == "numeric":
        wrong = Counter(_numeric_in_words(a, analysed.key) for a, f in zip(answers, fractions)
                        if a is not None and f < FULL_CREDIT)
        stats.wrong_values = wrong.most_common(WRONG_VALUES_SHOWN)
    stats.flags = flags(stats)
    return stats


def flags(stats: ItemStats) -> list:
    """(flag, detail) pairs for an item, by the thresholds at the top of this module."""
    found = []
    if stats.difficulty > TOO_EASY_ABOVE:
        found.append(("too easy", f"difficulty {stats.difficulty:.2f}"))
    if stats.difficulty < TOO_HARD_BELOW:
        found.append(("too hard", f"difficulty {stats.difficulty:.2f}"))
    if stats.discrimination is not None:
        if stats.discrimination < NEGATIVE_DISCRIMINATION_BELOW:
            found.append(("negative discrimination", f"discrimination {stats.discrimination:.2f}"))
        elif stats.discrimination < WEAK_DISCRIMINATION_BELOW:
            found.append(("weak discrimination", f"discrimination {stats.discrimination:.2f}"))
    keyed = keyed_options(stats.item, stats.key)
    never_right = [o for o in stats.unused if o in keyed]
    never_wrong = [o for o in stats.unused if o not in keyed]
    if never_right:
        found.append(("keyed answer never chosen", f"option(s) {', '.join(never_right)}"))
    if never_wrong:
        found.append(("unused distractor", f"option(s) {', '.join(never_wrong)}"
                      + ("" if keyed else " (the key could not be read: one may be a right option)")))
    return found


@dataclass
class ObjectiveStats:
    objective: object  # models.Objective
    items: int  # automatically graded items
    mean_difficulty: object  # float, or None without automatically graded items
    hand_graded: list  # reflection item ids on this objective


def objective_stats(cohort: Cohort, stats: list) -> list:
    found = []
    for objective in cohort.assessment.objectives:
        mine = [s for s in stats if s.item.objective == objective.id]
        hand = [i.id for i in cohort.assessment.items if i.objective == objective.id and i.type == "reflection"]
        found.append(ObjectiveStats(objective, len(mine), mean(s.difficulty for s in mine) if mine else None, hand))
    return found


@dataclass
class Analysis:
    cohort: Cohort
    items: list  # ItemStats
    objectives: list  # ObjectiveStats

    def flagged(self) -> dict:
        """Flag name -> item ids, in the order of FLAG_EXPLANATIONS."""
        found = {}
        for name in FLAG_EXPLANATIONS:
            ids = [s.item.id for s in self.items if any(f == name for f, _ in s.flags)]
            if ids:
                found[name] = ids
        return found


def analyse(cohort: Cohort) -> Analysis:
    stats = [item_stats(cohort, analysed) for analysed in cohort.items]
    return Analysis(cohort, stats, objective_stats(cohort, stats))


# --- the CSV -----------------------------------------------------------------------------------

CSV_COLUMNS = ["assignment", "item", "type", "objective", "points", "learners", "answered", "difficulty",
               "discrimination", "upper_lower_index", "fully_right", "choices", "unused_options",
               "common_wrong_values", "flags"]


def _number(value, digits=3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def write_csv(analysis: Analysis, path: Path) -> None:
    """One row per item. In `choices`, the right options carry a star: a:12 b:150* c:0."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for s in analysis.items:
            keyed = keyed_options(s.item, s.key)
            writer.writerow({
                "assignment": analysis.cohort.assessment.assignment, "item": s.item.id, "type": s.item.type,
                "objective": s.item.objective, "points": f"{s.points:g}", "learners": s.learners,
                "answered": s.answered, "difficulty": _number(s.difficulty),
                "discrimination": _number(s.discrimination), "upper_lower_index": _number(s.upper_lower),
                "fully_right": _number(s.fully_right),
                "choices": " ".join(f"{o}:{n}{'*' if o in keyed else ''}" for o, n in s.choices.items()),
                "unused_options": " ".join(s.unused),
                "common_wrong_values": "; ".join(f"{v} ({n})" for v, n in s.wrong_values),
                "flags": "; ".join(f"{name} ({detail})" for name, detail in s.flags),
            })


# --- the HTML report ---------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.flag { display: inline-block; background: #fde7d4; color: #7a3500; border-radius: 0.6rem; padding: 0 0.5rem; margin: 0 0.2rem 0.2rem 0; font-size: 0.9em; }
.warning { background: #fff4d6; border-left: 4px solid #E69F00; padding: 0.5rem 0.8rem; }
.item { border-top: 2px solid #0072B2; margin-top: 1.5rem; padding-top: 0.5rem; }
dt { font-weight: 600; margin-top: 0.6rem; }
"""


def _e(text) -> str:
    return html.escape(str(text))


def _flag_badges(stats: ItemStats) -> str:
    return "".join(f'<span class="flag" title="{_e(detail)}">{_e(name)}</span>' for name, detail in stats.flags) or "none"


def _item_map_figure(analysis: Analysis) -> str:
    from ketamine_course.widgets.figures import PALETTE, figure_html, new_figure

    fig, ax = new_figure(7.5, 4.2)
    ax.axvspan(0, TOO_HARD_BELOW, color=PALETTE["grey"], alpha=0.15, lw=0)
    ax.axvspan(TOO_EASY_ABOVE, 1, color=PALETTE["grey"], alpha=0.15, lw=0)
    ax.axhspan(-1, WEAK_DISCRIMINATION_BELOW, color=PALETTE["orange"], alpha=0.12, lw=0)
    ax.axhline(0, color=PALETTE["black"], lw=0.6)
    points = [(s.difficulty, s.discrimination, s) for s in analysis.items if s.discrimination is not None]
    for x, y, s in points:
        colour = PALETTE["vermillion"] if s.flags else PALETTE["blue"]
        ax.scatter([x], [y], color=colour, s=36, zorder=3)
        ax.annotate(_short_id(s.item.id), (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    lowest = min([y for _, y, _ in points] + [-0.2])
    ax.set_xlim(0, 1)
    ax.set_ylim(min(-0.2, lowest - 0.05), 1)
    ax.set_xlabel("Difficulty: share of the points earned (higher = easier)")
    ax.set_ylabel("Discrimination")
    ax.set_title("Item map", loc="left")
    return figure_html(
        fig,
        caption=(f"Each dot is an item (red: flagged). Grey bands: too hard (below {TOO_HARD_BELOW:.2f}) and too easy "
                 f"(above {TOO_EASY_ABOVE:.2f}). Orange band: weak or negative discrimination (below "
                 f"{WEAK_DISCRIMINATION_BELOW:.2f}). Good items sit in the white area, the higher the better."),
        alt="Scatter plot of every item's difficulty against its discrimination: "
            + "; ".join(f"{s.item.id} difficulty {s.difficulty:.2f}, discrimination {_number(s.discrimination, 2) or 'not defined'}"
                        for s in analysis.items))


def _choices_figure(stats: ItemStats) -> str:
    from ketamine_course.widgets.figures import PALETTE, figure_html, new_figure

    keyed = keyed_options(stats.item, stats.key)
    labels = list(stats.choices) + ["no answer"]
    counts = list(stats.choices.values()) + [stats.learners - stats.answered]
    colours = [PALETTE["green"] if o in keyed else PALETTE["orange"] for o in stats.choices] + [PALETTE["grey"]]
    fig, ax = new_figure(6.0, 0.35 * len(labels) + 0.9)
    shares = [100 * n / stats.learners for n in counts]
    ax.barh(labels[::-1], shares[::-1], color=colours[::-1])
    for y, (share, n) in enumerate(zip(shares[::-1], counts[::-1])):
        ax.text(share + 1, y, f"{n}", va="center", fontsize=8)
    ax.set_xlim(0, 105)
    ax.set_xlabel("% of learners who chose the option" + (" (more than one per learner)" if stats.item.type == "multiple" else ""))
    return figure_html(
        fig, caption="Green: a right option; orange: a wrong option; grey: learners who gave no answer.",
        alt=f"Bar chart of the options chosen for {stats.item.id}: "
            + "; ".join(f"option {o} {'(right) ' if o in keyed else ''}{n} learners" for o, n in stats.choices.items())
            + f"; no answer {stats.learners - stats.answered}")


def _short_id(item_id: str) -> str:
    return item_id.split(".", 1)[1] if "." in item_id else item_id


def _option_text(item, option_id) -> str:
    return next((o.text for o in item.options if o.id == option_id), option_id)


def _item_section(stats: ItemStats) -> str:
    item = stats.item
    keyed = keyed_options(item, stats.key)
    rows = [
        ("Type", {"single": "single best answer", "multiple": "choose all that apply", "numeric": "number with a unit",
                  "ordering": "put in order"}.get(item.type, item.type)),
        ("Learning objective", item.objective),
        ("Points", f"{stats.points:g}"),
        ("Learners who answered", f"{stats.answered} of {stats.learners}"),
        ("Difficulty", f"{stats.difficulty:.2f}"),
        ("Discrimination", _number(stats.discrimination, 2) or "not defined (everyone scored the same)"),
        ("Upper-lower index", _number(stats.upper_lower, 2) or "not defined"),
    ]
    if item.type in ("multiple", "ordering"):
        rows.append(("Fully right (every option / every step)", f"{100 * stats.fully_right:.0f}%"))
    if item.type == "numeric":
        rows.append(("Within the accepted range", f"{100 * stats.fully_right:.0f}%"))
    parts = [f'<section class="item" id="{_e(item.id)}"><h3>{_e(item.id)}</h3><p>{_e(item.stem)}</p>',
             "<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
             + f"<tr><th>Flags</th><td>{_flag_badges(stats)}</td></tr></table>"]
    if stats.choices:
        parts.append("<table><tr><th>Option</th><th></th><th>Learners</th><th>%</th></tr>" + "".join(
            f"<tr><td>{_e(o)}{' ✓ right' if o in keyed else ''}</td><td>{_e(_option_text(item, o))}</td>"
            f'<td class="num">{n}</td><td class="num">{100 * n / stats.learners:.0f}%</td></tr>'
            for o, n in stats.choices.items()) + "</table>")
        parts.append(_choices_figure(stats))
    if item.type == "numeric":
        if stats.key is not None:
            parts.append(f"<p>Key: {_e(stats.key.get('value'))} {_e(stats.key.get('unit'))} "
                         f"(accepted within ±{_e(stats.key.get('tolerance'))} {_e(stats.key.get('unit'))}).</p>")
        wrong = "".join(f"<li>{_e(v)}: {n} learner(s)</li>" for v, n in stats.wrong_values)
        parts.append(f"<p>Most common wrong values (in the key's unit where they convert):</p><ul>{wrong or '<li>none</li>'}</ul>")
    if item.type == "ordering" and stats.key is not None:
        steps = {s.id: s.text for s in item.steps}
        parts.append("<p>Right order: " + " → ".join(_e(steps.get(s, s)) for s in stats.key) + "</p>")
    return "".join(parts) + "</section>"


def _explanations() -> str:
    terms = [
        ("Difficulty", "The share of the item's points the group earned on average, from 0 to 1. For a question that "
                       "is either right or wrong it is simply the proportion who got it right; with part credit it "
                       "counts part marks too. Despite the name, a higher number means an easier item."),
        ("Discrimination", "Does the item tell apart learners who did well on the rest of the assignment from those "
                           "who did not? It is the correlation, from -1 to 1, between the score on this item and the "
                           "total of all the other automatically graded items (a 'corrected item-total point-biserial "
                           "correlation': corrected because the item is left out of the total, so it is not compared "
                           "with itself). About 0.3 or more is good; below "
                           f"{WEAK_DISCRIMINATION_BELOW:.2f} is weak; below zero means stronger learners did worse."),
        ("Upper-lower index", f"The same question asked more simply. Learners are ranked by their score on the other "
                              f"items; the top {GROUP_SHARE:.0%} and the bottom {GROUP_SHARE:.0%} are compared (ties "
                              "broken by student id). The index is the top group's average share of the item's "
                              "points minus the bottom group's: 0.40 means the top group earned 40 percentage points "
                              "more of this item."),
        ("Choices", "How many learners picked each option. In a choose-all question a learner may pick several, so "
                    "the counts add up to more than the number of learners. A wrong option that nobody picks is "
                    "doing no work."),
        ("Numbers and orders", "For a number, the share within the accepted range and the most common wrong values "
                               "(they often show a typical slip: a unit, a missed conversion). For an order, the share "
                               "who placed every step right; part credit counts in the difficulty."),
        ("Per learning objective", "The mean difficulty of the automatically graded items on each objective, and how "
                                   "many there are: a low mean points at teaching to revisit rather than at one item."),
    ]
    flag_list = "".join(f"<dt>{_e(name)}</dt><dd>{_e(text)}</dd>" for name, text in FLAG_EXPLANATIONS.items())
    return ("<h2>How to read this report</h2><dl>" + "".join(f"<dt>{_e(t)}</dt><dd>{_e(d)}</dd>" for t, d in terms)
            + "</dl><h3>Flags</h3><p>A flag is a prompt to look at an item again, not a verdict.</p><dl>"
            + flag_list + "</dl>")


def report_html(analysis: Analysis) -> str:
    cohort = analysis.cohort
    assessment = cohort.assessment
    flagged = analysis.flagged()
    flag_summary = "".join(f"<li>{_e(name)}: {_e(', '.join(ids))}</li>" for name, ids in flagged.items()) or "<li>none</li>"
    overview = "".join(
        f'<tr><td><a href="#{_e(s.item.id)}">{_e(s.item.id)}</a></td><td>{_e(s.item.objective)}</td>'
        f'<td class="num">{s.difficulty:.2f}</td><td class="num">{_e(_number(s.discrimination, 2) or "-")}</td>'
        f'<td class="num">{_e(_number(s.upper_lower, 2) or "-")}</td><td>{_flag_badges(s)}</td></tr>'
        for s in analysis.items)
    objectives = "".join(
        f"<tr><td>{_e(o.objective.id)}</td><td>{_e(o.objective.text)}</td><td class=\"num\">{o.items}</td>"
        f"<td class=\"num\">{_e(_number(o.mean_difficulty, 2) or '-')}</td>"
        f"<td>{_e(', '.join(o.hand_graded) or '')}</td></tr>" for o in analysis.objectives)
    notes = "".join(f"<li>{_e(n)}</li>" for n in cohort.notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Item analysis: {_e(assessment.title)}</title><style>{STYLE}</style></head><body>
<h1>Item analysis: {_e(assessment.title)}</h1>
<p>Assignment <code>{_e(assessment.assignment)}</code> · {len(cohort.students)} learner(s) · {len(analysis.items)}
automatically graded item(s) · made {date.today().isoformat()}</p>
<p class="warning"><b>For instructors only.</b> This report shows the right answers. Do not share it with learners.</p>
<h2>Items to look at</h2><ul>{flag_summary}</ul>
{('<h2>About the data</h2><ul>' + notes + '</ul>') if notes else ''}
{_item_map_figure(analysis)}
<h2>Every item</h2>
<table><tr><th>Item</th><th>Objective</th><th>Difficulty</th><th>Discrimination</th><th>Upper-lower</th><th>Flags</th></tr>
{overview}</table>
<h2>Per learning objective</h2>
<table><tr><th>Objective</th><th></th><th>Items</th><th>Mean difficulty</th><th>Graded by hand</th></tr>{objectives}</table>
{_explanations()}
<h2>Item by item</h2>
{''.join(_item_section(s) for s in analysis.items)}
</body></html>
"""


# --- the command -------------------------------------------------------------------------------


@dataclass
class Written:
    analysis: Analysis
    html: Path
    csv: Path

    def summary(self) -> str:
        flagged = self.analysis.flagged()
        items = {i for ids in flagged.values() for i in ids}
        detail = "; ".join(f"{name}: {', '.join(ids)}" for name, ids in flagged.items())
        return (f"Item analysis of {self.analysis.cohort.assessment.assignment}: {len(self.analysis.cohort.students)} "
                f"learners, {len(self.analysis.items)} items, {len(items)} flagged"
                f"{' (' + detail + ')' if detail else ''}. Report: {self.html} and {self.csv.name}")


def item_analysis(assignment: str, root: Path = None, out: Path = None, stream=None) -> Written:
    """Analyse `assignment` and write its HTML report and CSV to `out` (default: reports/ in the course)."""
    root = Path(root or course_root()).resolve()
    analysis = analyse(load_cohort(assignment, root, stream))
    out = Path(out).resolve() if out else root / REPORTS_FOLDER
    out.mkdir(parents=True, exist_ok=True)
    html_path, csv_path = out / f"item_analysis_{assignment}.html", out / f"item_analysis_{assignment}.csv"
    write_csv(analysis, csv_path)
    html_path.write_text(report_html(analysis), encoding="utf-8")
    return Written(analysis, html_path, csv_path)


def cmd_item_analysis(args) -> int:
    written = item_analysis(args.assignment, out=Path(args.out) if args.out else None)
    console_progress.summary(written.summary())
    return 0


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("item-analysis", help="difficulty, discrimination and choices of every graded item")
    parser.add_argument("assignment", help="e.g. ps1_mechanism")
    parser.add_argument("--out", help=f"folder for the report (default: {REPORTS_FOLDER}/ in the course folder)")
    parser.set_defaults(run=cmd_item_analysis)
