"""Item analysis of a graded assignment, for the instructor: per item and per learning objective.

    ketamine-course item-analysis ASSIGNMENT [--out DIR]

For every automatically graded item: how hard it was (difficulty), whether it told apart learners
who did well on the rest of the assignment from those who did not (discrimination), and which
options, orders or numbers learners chose; flags for items worth a second look. Scores come from
nbgrader's gradebook, choices from the answer files collected with each submission
(autograded/<student>/<assignment>/answers.json, else submitted/...), keys from the hidden tests in
solutions/. Writes item_analysis_<assignment>.html (self-contained, figures embedded, every
statistic explained) and item_analysis_<assignment>.csv (one row per item) to reports/.

The statistics and the flags' thresholds are in core/item_statistics.py, the HTML page in item_report.py.
The report shows the answer keys: it is for instructors, never for learners.
"""

from __future__ import annotations

import ast
import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ketamine_course.content import assessments
from ketamine_course.core import scoring
from ketamine_course.core.item_statistics import (
    FLAG_EXPLANATIONS,
    FULL_CREDIT,
    decimals,
    flags,
    fully_right,
    keyed_options,
    mean,
    pearson,
    rest_scores,
    unused_options,
    upper_lower_index,
)
from ketamine_course.instructor.cohort import REPORTS_FOLDER, CohortError
from ketamine_course.instructor.gradebook import has_gradebook, open_gradebook, read_grades
from ketamine_course.instructor.item_report import report_html
from ketamine_course.runtime import console_progress, nbgrader
from ketamine_course.storage import answer_store
from ketamine_course.storage.paths import course_root

FEW_LEARNERS = 30  # below this many learners every figure moves a lot with one or two answers
WRONG_VALUES_SHOWN = 3  # numeric items: how many of the most common wrong values to list


class ItemAnalysisError(CohortError):
    """Something that stops the analysis, said in plain words."""


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
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "attr", getattr(node.func, "id", None)) == "grade"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
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
        raise ItemAnalysisError(
            f"The course has no assignment {assignment!r}. Assignments: {', '.join(assessments())}."
        )
    not_yet = ItemAnalysisError(
        f"{assignment} is not in the gradebook yet: generate it, collect the submissions "
        f"and autograde them (`ketamine-course grade-cohort {assignment}`) first."
    )
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
        notes.append(
            f"{len(left_out)} submission(s) have no automatic score yet (not autograded, or autograding "
            f"failed) and were left out: {_names(left_out)}."
        )
    if not students:
        raise ItemAnalysisError(
            f"No autograded submission of {assignment} yet: autograde first "
            f"(`ketamine-course grade-cohort {assignment}`)."
        )
    keys = answer_keys(root, assignment)
    missing_keys = [c.item.id for c in cells if c.item.id not in keys and c.item.type in ("single", "multiple")]
    if missing_keys:
        notes.append(
            f"The keys of {', '.join(missing_keys)} could not be read from solutions/{assignment}/; "
            "their options are listed without marking the right ones."
        )
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
        notes.append(
            f"The answer files of {len(unreadable)} learner(s) were missing parts or could not be read "
            f"({_names(unreadable)}); their choices count as 'no answer', their scores are unaffected."
        )
    if len(students) < FEW_LEARNERS:
        notes.append(
            f"Only {len(students)} learner(s): with fewer than {FEW_LEARNERS}, one or two answers move every "
            "figure a lot. Read the numbers as rough."
        )
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
    if (
        not isinstance(answer, dict)
        or isinstance(answer.get("value"), bool)
        or not isinstance(answer.get("value"), (int, float))
    ):
        return "an unreadable answer"
    value, unit = float(answer["value"]), str(answer.get("unit"))
    if isinstance(key, dict) and key.get("unit"):
        converted = scoring.convert(value, unit, key["unit"])
        if converted is not None:
            return f"{converted:.4g} {key['unit']}"
    return f"{value:.4g} {unit}"


def item_stats(cohort: Cohort, position: int) -> ItemStats:
    """The statistics of the item at `position` in cohort.items, from every learner's shares of the points."""
    analysed = cohort.items[position]
    item = analysed.item
    fractions = cohort.fractions[item.id]
    answers = cohort.answers[item.id]
    rest = rest_scores([i.points for i in cohort.items], [cohort.fractions[i.item.id] for i in cohort.items], position)
    stats = ItemStats(
        item=item,
        points=analysed.points,
        key=analysed.key,
        learners=len(fractions),
        answered=sum(a is not None for a in answers),
        difficulty=mean(fractions),
        discrimination=pearson(fractions, rest),
        upper_lower=upper_lower_index(fractions, rest, cohort.students),
        fully_right=fully_right(fractions),
    )
    if item.type in ("single", "multiple"):
        stats.choices = _choices(item, answers)
        stats.unused = unused_options(stats.choices)
    if item.type == "numeric":
        wrong = Counter(
            _numeric_in_words(a, analysed.key) for a, f in zip(answers, fractions) if a is not None and f < FULL_CREDIT
        )
        stats.wrong_values = wrong.most_common(WRONG_VALUES_SHOWN)
    stats.flags = flags(stats.difficulty, stats.discrimination, stats.unused, keyed_options(item.type, stats.key))
    return stats


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
    stats = [item_stats(cohort, position) for position in range(len(cohort.items))]
    return Analysis(cohort, stats, objective_stats(cohort, stats))


# --- the CSV -----------------------------------------------------------------------------------

CSV_COLUMNS = [
    "assignment",
    "item",
    "type",
    "objective",
    "points",
    "learners",
    "answered",
    "difficulty",
    "discrimination",
    "upper_lower_index",
    "fully_right",
    "choices",
    "unused_options",
    "common_wrong_values",
    "flags",
]


def write_csv(analysis: Analysis, path: Path) -> None:
    """One row per item. In `choices`, the right options carry a star: a:12 b:150* c:0."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for s in analysis.items:
            keyed = keyed_options(s.item.type, s.key)
            writer.writerow(
                {
                    "assignment": analysis.cohort.assessment.assignment,
                    "item": s.item.id,
                    "type": s.item.type,
                    "objective": s.item.objective,
                    "points": f"{s.points:g}",
                    "learners": s.learners,
                    "answered": s.answered,
                    "difficulty": decimals(s.difficulty),
                    "discrimination": decimals(s.discrimination),
                    "upper_lower_index": decimals(s.upper_lower),
                    "fully_right": decimals(s.fully_right),
                    "choices": " ".join(f"{o}:{n}{'*' if o in keyed else ''}" for o, n in s.choices.items()),
                    "unused_options": " ".join(s.unused),
                    "common_wrong_values": "; ".join(f"{v} ({n})" for v, n in s.wrong_values),
                    "flags": "; ".join(f"{name} ({detail})" for name, detail in s.flags),
                }
            )


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
        return (
            f"Item analysis of {self.analysis.cohort.assessment.assignment}: {len(self.analysis.cohort.students)} "
            f"learners, {len(self.analysis.items)} items, {len(items)} flagged"
            f"{' (' + detail + ')' if detail else ''}. Report: {self.html} and {self.csv.name}"
        )


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
