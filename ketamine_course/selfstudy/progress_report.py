"""The learner's progress, summarised by module and by learning objective, with where to review.

Built from the progress record (progress_record.py) and the question banks: for each objective,
how many of its quick checks were answered and the share of credit earned, and, for an objective
that needs review, the sections of the module (the heading above each missed question) to go back to.
"""

from __future__ import annotations

import html
import json
import re
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ketamine_course.content import question_banks
from ketamine_course.storage import progress_record
from ketamine_course.widgets.theme import MUTED, PALETTE, TEXT

REVIEW_BELOW = 0.7  # an objective whose answered checks earned less than this share needs review
SECURE_FROM = 0.8  # every check answered and at least this share earned: secure

QUIZ_CALL = re.compile(r"""ui\.quiz\(\s*["']([^"']+)["']""")
HEADING = re.compile(r"^(#{1,4})\s+(.+?)\s*$", re.MULTILINE)


@dataclass
class Section:
    notebook: str  # file name in course/
    heading: str

    @property
    def anchor(self) -> str:
        """JupyterLab's id for a Markdown heading: its text with spaces as hyphens."""
        text = re.sub(r"[*_`]", "", self.heading)
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
        return text.replace(" ", "-")


@dataclass
class ObjectiveProgress:
    module: str
    objective_id: str
    text: str
    questions: list  # question ids that test this objective
    answered: int = 0
    earned: float = 0.0  # sum of credit over answered, scored checks
    scored: int = 0  # answered checks that carry a score (reflections do not)
    missed: list = field(default_factory=list)  # question ids answered with less than full credit

    @property
    def total(self) -> int:
        return len(self.questions)

    @property
    def score(self) -> float | None:
        """Share of credit earned on the answered, scored checks; None before any."""
        return self.earned / self.scored if self.scored else None

    @property
    def status(self) -> str:
        if self.answered == 0:
            return "Not started"
        if self.score is not None and self.score < REVIEW_BELOW:
            return "Review"
        if self.answered == self.total and (self.score is None or self.score >= SECURE_FROM):
            return "Secure"
        return "In progress"


class _Counts:
    """Quick checks answered and in all, summed over the parts (objectives of a module, modules of the report)."""

    def parts(self) -> list:
        raise NotImplementedError

    @property
    def total(self) -> int:
        return sum(part.total for part in self.parts())

    @property
    def answered(self) -> int:
        return sum(part.answered for part in self.parts())


@dataclass
class ModuleProgress(_Counts):
    module: str
    title: str
    notebook: str | None
    objectives: list

    def parts(self) -> list:
        return self.objectives

    @property
    def score(self) -> float | None:
        scored = sum(o.scored for o in self.objectives)
        return sum(o.earned for o in self.objectives) / scored if scored else None


@dataclass
class Report(_Counts):
    modules: list
    problems: list
    unreadable: bool

    def parts(self) -> list:
        return self.modules

    def to_review(self) -> list:
        return [o for m in self.modules for o in m.objectives if o.status == "Review"]


def course_folder() -> Path:
    from ketamine_course.storage.paths import course_root

    return course_root() / "course"


def module_notebook(module: str, folder: Path | None = None) -> str | None:
    """The teaching notebook of a module key: m3 -> '03_benefits.ipynb'."""
    number = module.lstrip("m")
    matches = sorted((folder or course_folder()).glob(f"{int(number):02d}_*.ipynb")) if number.isdigit() else []
    return matches[0].name if matches else None


@lru_cache(maxsize=None)
def _question_sections(notebook_path: str) -> dict:
    """question id -> the heading of the section it sits in, for one notebook."""
    cells = json.loads(Path(notebook_path).read_text(encoding="utf-8")).get("cells", [])
    heading, found = None, {}
    for cell in cells:
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            headings = HEADING.findall(source)
            if headings:
                heading = headings[-1][1]
        elif cell.get("cell_type") == "code":
            for question_id in QUIZ_CALL.findall(source):
                found[question_id] = heading
    return found


def section_of(question_id: str, notebook: str | None, folder: Path | None = None) -> Section | None:
    if notebook is None:
        return None
    heading = _question_sections(str((folder or course_folder()) / notebook)).get(question_id)
    return Section(notebook, heading) if heading else None


def build(progress: progress_record.Progress | None = None, folder: Path | None = None) -> Report:
    """Summarise the recorded answers against every question bank of the course."""
    progress = progress if progress is not None else progress_record.read()
    modules = []
    for key, bank in sorted(question_banks().items()):
        objectives = {o.id: ObjectiveProgress(key, o.id, o.text, []) for o in bank.objectives}
        for q in bank.questions:
            row = objectives[q.objective]
            row.questions.append(q.id)
            entry = progress.answers.get(q.id)
            if not entry:
                continue
            row.answered += 1
            fraction = entry.get("fraction")
            if fraction is not None:
                row.scored += 1
                row.earned += min(max(float(fraction), 0.0), 1.0)
                if fraction < 1.0:
                    row.missed.append(q.id)
        modules.append(ModuleProgress(key, bank.title, module_notebook(key, folder), list(objectives.values())))
    return Report(modules, progress.problems, progress.unreadable)


def review_sections(row: ObjectiveProgress, notebook: str | None, folder: Path | None = None) -> list:
    """The distinct sections holding the checks of an objective the learner missed (or all of them)."""
    sections = []
    for question_id in row.missed or row.questions:
        section = section_of(question_id, notebook, folder)
        if section and all(s.heading != section.heading for s in sections):
            sections.append(section)
    return sections


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def table_html(report: Report, link_prefix: str = "", folder: Path | None = None) -> str:
    """The objective table: answered, score, status and, where review is due, links to the sections."""
    colours = {
        "Not started": TEXT["grey"],
        "In progress": TEXT["blue"],
        "Review": TEXT["vermillion"],
        "Secure": TEXT["green"],
    }
    rows = []
    for module in report.modules:
        rows.append(
            f"<tr style='background:#f2f2f2'><th colspan='4' style='text-align:left'>"
            f"{html.escape(module.title)} · {module.answered} of {module.total} answered · "
            f"score {_percent(module.score)}</th></tr>"
        )
        for row in module.objectives:
            review = ""
            if row.status == "Review":
                links = ", ".join(
                    f"<a href='{html.escape(link_prefix + s.notebook)}#{html.escape(s.anchor)}'>"
                    f"{html.escape(s.heading)}</a>"
                    for s in review_sections(row, module.notebook, folder)
                )
                review = f"<br><small>Review: {links}</small>" if links else ""
            rows.append(
                f"<tr class='kc-objective' data-objective='{row.objective_id}'>"
                f"<td style='text-align:left'>{html.escape(row.text)}{review}</td>"
                f"<td>{row.answered} / {row.total}</td><td>{_percent(row.score)}</td>"
                f"<td style='color:{colours[row.status]};font-weight:bold'>{row.status}</td></tr>"
            )
    return (
        "<table class='kc-progress-table' style='border-collapse:collapse'>"
        "<thead><tr><th style='text-align:left'>Learning objective</th><th>Answered</th><th>Score</th>"
        f"<th>Status</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def module_chart(report: Report):
    """A matplotlib figure: for each module, % of quick checks answered and % score on them."""
    from ketamine_course.widgets.figures import new_figure

    figure, axes = new_figure(8, 0.55 * len(report.modules) + 1.3)
    names = [textwrap.fill(f"{m.module.lstrip('m')} · {m.title}", 30) for m in report.modules]
    positions = range(len(names))
    axes.barh(
        [p - 0.2 for p in positions],
        [100 * m.answered / m.total if m.total else 0 for m in report.modules],
        height=0.38,
        color=PALETTE["sky"],
        hatch="//",  # the two series differ by pattern as well as by colour
        edgecolor="white",
        label="checks answered",
    )
    axes.barh(
        [p + 0.2 for p in positions],
        [100 * (m.score or 0) for m in report.modules],
        height=0.38,
        color=PALETTE["blue"],
        label="score on the answered checks",
    )
    axes.set_yticks(list(positions), names, fontsize=9)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("%")
    axes.set_title("By module", fontsize=11)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    figure.tight_layout()
    return figure


def objective_chart(report: Report):
    """A matplotlib figure: for each learning objective, % answered (grey) and % score coloured by status."""
    from matplotlib.patches import Patch

    from ketamine_course.widgets.figures import new_figure

    rows = [o for m in report.modules for o in m.objectives]
    figure, axes = new_figure(8, 0.24 * max(8, len(rows)) + 1.2)
    status_colour = {
        "Not started": PALETTE["grey"],
        "In progress": PALETTE["blue"],
        "Review": PALETTE["vermillion"],
        "Secure": PALETTE["green"],
    }
    status_hatch = {"Not started": "..", "In progress": "//", "Review": "xx", "Secure": ""}  # not colour alone
    positions = range(len(rows))
    axes.barh(positions, [100 * o.answered / o.total if o.total else 0 for o in rows], height=0.8, color="#e6e6e6")
    bars = axes.barh(
        positions, [100 * (o.score or 0) for o in rows], height=0.45, color=[status_colour[o.status] for o in rows]
    )
    for bar, row in zip(bars, rows):
        bar.set_hatch(status_hatch[row.status])
        bar.set_edgecolor("white")
    for position, row in zip(positions, rows):
        if row.status == "Review" and not row.score:  # a score of 0 still shows, as a tick
            axes.plot([0.8], [position], marker="|", markersize=9, color=status_colour["Review"])
    axes.set_yticks(list(positions), [o.objective_id for o in rows], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.axvline(100 * REVIEW_BELOW, color=MUTED, linestyle=":", linewidth=1)
    axes.set_xlabel("grey bar: % of checks answered · coloured bar: % score on them · dotted line: review below")
    axes.set_title("By learning objective (colour and pattern show the status)", fontsize=11)
    handles = [
        Patch(facecolor=colour, hatch=status_hatch[status], edgecolor="white", label=status)
        for status, colour in status_colour.items()
    ]
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    figure.tight_layout()
    return figure


# --- command line ------------------------------------------------------------------------------


def cmd_progress(args) -> int:
    report = build()
    for problem in report.problems:
        print(problem)
    if args.reset:
        answer = (
            "yes"
            if args.yes
            else input(f"Clear {report.answered} recorded answer(s)? The old record is kept aside. Type yes to reset: ")
            .strip()
            .lower()
        )
        if answer != "yes":
            print("Nothing was changed.")
            return 1
        kept = progress_record.start_afresh("reset")
        print(f"Progress reset; the old record was kept as {kept}." if kept else "There was no progress to reset.")
        return 0
    print(f"Quick checks answered: {report.answered} of {report.total} (record: {progress_record.progress_path()})")
    for module in report.modules:
        print(f"\n{module.title}: {module.answered}/{module.total} answered, score {_percent(module.score)}")
        for row in module.objectives:
            print(
                f"  [{row.status:^11}] {row.objective_id} {row.answered}/{row.total} {_percent(row.score):>4}  "
                f"{textwrap.shorten(row.text, 70)}"
            )
            if row.status == "Review":
                for section in review_sections(row, module.notebook):
                    print(f"      review: {section.notebook} › {section.heading}")
    return 0


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("progress", help="your progress in the quick checks, by module and objective")
    parser.add_argument("--reset", action="store_true", help="clear your progress (asks first; the old record is kept)")
    parser.add_argument("--yes", action="store_true", help="with --reset: do not ask")
    parser.set_defaults(run=cmd_progress)
