"""The HTML report of an item analysis: one self-contained page, figures embedded, every statistic explained.

The report shows the answer keys: it is for instructors, never for learners.
"""

from __future__ import annotations

import html
from datetime import date
from typing import TYPE_CHECKING

from ketamine_course.core.item_statistics import (
    FLAG_EXPLANATIONS,
    GROUP_SHARE,
    TOO_EASY_ABOVE,
    TOO_HARD_BELOW,
    WEAK_DISCRIMINATION_BELOW,
    decimals,
    keyed_options,
)

if TYPE_CHECKING:
    from ketamine_course.instructor.item_analysis import Analysis, ItemStats

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
    return (
        "".join(f'<span class="flag" title="{_e(detail)}">{_e(name)}</span>' for name, detail in stats.flags) or "none"
    )


def _item_map_figure(analysis: Analysis) -> str:
    from ketamine_course.widgets.figures import figure_html, new_figure
    from ketamine_course.widgets.theme import PALETTE

    fig, ax = new_figure(7.5, 4.2)
    ax.axvspan(0, TOO_HARD_BELOW, color=PALETTE["grey"], alpha=0.15, lw=0)
    ax.axvspan(TOO_EASY_ABOVE, 1, color=PALETTE["grey"], alpha=0.15, lw=0)
    ax.axhspan(-1, WEAK_DISCRIMINATION_BELOW, color=PALETTE["orange"], alpha=0.12, lw=0)
    ax.axhline(0, color=PALETTE["black"], lw=0.6)
    points = [(s.difficulty, s.discrimination, s) for s in analysis.items if s.discrimination is not None]
    for x, y, s in points:
        colour, marker = (PALETTE["vermillion"], "X") if s.flags else (PALETTE["blue"], "o")
        ax.scatter([x], [y], color=colour, marker=marker, s=44 if s.flags else 36, zorder=3)
        ax.annotate(_short_id(s.item.id), (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    lowest = min([y for _, y, _ in points] + [-0.2])
    ax.set_xlim(0, 1)
    ax.set_ylim(min(-0.2, lowest - 0.05), 1)
    ax.set_xlabel("Difficulty: share of the points earned (higher = easier)")
    ax.set_ylabel("Discrimination")
    ax.set_title("Item map", loc="left")
    return figure_html(
        fig,
        caption=(
            f"Each dot is an item (a red cross: flagged). Grey bands: too hard (below {TOO_HARD_BELOW:.2f}) and too easy "
            f"(above {TOO_EASY_ABOVE:.2f}). Orange band: weak or negative discrimination (below "
            f"{WEAK_DISCRIMINATION_BELOW:.2f}). Good items sit in the white area, the higher the better."
        ),
        alt="Scatter plot of every item's difficulty against its discrimination: "
        + "; ".join(
            f"{s.item.id} difficulty {s.difficulty:.2f}, discrimination {decimals(s.discrimination, 2) or 'not defined'}"
            for s in analysis.items
        ),
    )


def _choices_figure(stats: ItemStats) -> str:
    from ketamine_course.widgets.figures import figure_html, new_figure
    from ketamine_course.widgets.theme import PALETTE

    keyed = keyed_options(stats.item.type, stats.key)
    labels = list(stats.choices) + ["no answer"]
    counts = list(stats.choices.values()) + [stats.learners - stats.answered]
    colours = [PALETTE["green"] if o in keyed else PALETTE["orange"] for o in stats.choices] + [PALETTE["grey"]]
    fig, ax = new_figure(6.0, 0.35 * len(labels) + 0.9)
    shares = [100 * n / stats.learners for n in counts]
    hatches = ["" if o in keyed else "//" for o in stats.choices] + [".."]
    bars = ax.barh(labels[::-1], shares[::-1], color=colours[::-1], edgecolor="white")
    for bar, hatch in zip(bars, hatches[::-1]):
        bar.set_hatch(hatch)
    for y, (share, n) in enumerate(zip(shares[::-1], counts[::-1])):
        ax.text(share + 1, y, f"{n}", va="center", fontsize=8)
    ax.set_xlim(0, 105)
    ax.set_xlabel(
        "% of learners who chose the option" + (" (more than one per learner)" if stats.item.type == "multiple" else "")
    )
    return figure_html(
        fig,
        caption="Green, plain: a right option; orange, striped: a wrong option; grey, dotted: learners who gave no answer.",
        alt=f"Bar chart of the options chosen for {stats.item.id}: "
        + "; ".join(f"option {o} {'(right) ' if o in keyed else ''}{n} learners" for o, n in stats.choices.items())
        + f"; no answer {stats.learners - stats.answered}",
    )


def _short_id(item_id: str) -> str:
    return item_id.split(".", 1)[1] if "." in item_id else item_id


def _option_text(item, option_id) -> str:
    return next((o.text for o in item.options if o.id == option_id), option_id)


def _item_section(stats: ItemStats) -> str:
    item = stats.item
    keyed = keyed_options(item.type, stats.key)
    rows = [
        (
            "Type",
            {
                "single": "single best answer",
                "multiple": "choose all that apply",
                "numeric": "number with a unit",
                "ordering": "put in order",
            }.get(item.type, item.type),
        ),
        ("Learning objective", item.objective),
        ("Points", f"{stats.points:g}"),
        ("Learners who answered", f"{stats.answered} of {stats.learners}"),
        ("Difficulty", f"{stats.difficulty:.2f}"),
        ("Discrimination", decimals(stats.discrimination, 2) or "not defined (everyone scored the same)"),
        ("Upper-lower index", decimals(stats.upper_lower, 2) or "not defined"),
    ]
    if item.type in ("multiple", "ordering"):
        rows.append(("Fully right (every option / every step)", f"{100 * stats.fully_right:.0f}%"))
    if item.type == "numeric":
        rows.append(("Within the accepted range", f"{100 * stats.fully_right:.0f}%"))
    parts = [
        f'<section class="item" id="{_e(item.id)}"><h3>{_e(item.id)}</h3><p>{_e(item.stem)}</p>',
        "<table>"
        + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
        + f"<tr><th>Flags</th><td>{_flag_badges(stats)}</td></tr></table>",
    ]
    if stats.choices:
        parts.append(
            "<table><tr><th>Option</th><th></th><th>Learners</th><th>%</th></tr>"
            + "".join(
                f"<tr><td>{_e(o)}{' ✓ right' if o in keyed else ''}</td><td>{_e(_option_text(item, o))}</td>"
                f'<td class="num">{n}</td><td class="num">{100 * n / stats.learners:.0f}%</td></tr>'
                for o, n in stats.choices.items()
            )
            + "</table>"
        )
        parts.append(_choices_figure(stats))
    if item.type == "numeric":
        if stats.key is not None:
            parts.append(
                f"<p>Key: {_e(stats.key.get('value'))} {_e(stats.key.get('unit'))} "
                f"(accepted within ±{_e(stats.key.get('tolerance'))} {_e(stats.key.get('unit'))}).</p>"
            )
        wrong = "".join(f"<li>{_e(v)}: {n} learner(s)</li>" for v, n in stats.wrong_values)
        parts.append(
            f"<p>Most common wrong values (in the key's unit where they convert):</p><ul>{wrong or '<li>none</li>'}</ul>"
        )
    if item.type == "ordering" and stats.key is not None:
        steps = {s.id: s.text for s in item.steps}
        parts.append("<p>Right order: " + " → ".join(_e(steps.get(s, s)) for s in stats.key) + "</p>")
    return "".join(parts) + "</section>"


def _explanations() -> str:
    terms = [
        (
            "Difficulty",
            "The share of the item's points the group earned on average, from 0 to 1. For a question that "
            "is either right or wrong it is simply the proportion who got it right; with part credit it "
            "counts part marks too. Despite the name, a higher number means an easier item.",
        ),
        (
            "Discrimination",
            "Does the item tell apart learners who did well on the rest of the assignment from those "
            "who did not? It is the correlation, from -1 to 1, between the score on this item and the "
            "total of all the other automatically graded items (a 'corrected item-total point-biserial "
            "correlation': corrected because the item is left out of the total, so it is not compared "
            "with itself). About 0.3 or more is good; below "
            f"{WEAK_DISCRIMINATION_BELOW:.2f} is weak; below zero means stronger learners did worse.",
        ),
        (
            "Upper-lower index",
            f"The same question asked more simply. Learners are ranked by their score on the other "
            f"items; the top {GROUP_SHARE:.0%} and the bottom {GROUP_SHARE:.0%} are compared (ties "
            "broken by student id). The index is the top group's average share of the item's "
            "points minus the bottom group's: 0.40 means the top group earned 40 percentage points "
            "more of this item.",
        ),
        (
            "Choices",
            "How many learners picked each option. In a choose-all question a learner may pick several, so "
            "the counts add up to more than the number of learners. A wrong option that nobody picks is "
            "doing no work.",
        ),
        (
            "Numbers and orders",
            "For a number, the share within the accepted range and the most common wrong values "
            "(they often show a typical slip: a unit, a missed conversion). For an order, the share "
            "who placed every step right; part credit counts in the difficulty.",
        ),
        (
            "Per learning objective",
            "The mean difficulty of the automatically graded items on each objective, and how "
            "many there are: a low mean points at teaching to revisit rather than at one item.",
        ),
    ]
    flag_list = "".join(f"<dt>{_e(name)}</dt><dd>{_e(text)}</dd>" for name, text in FLAG_EXPLANATIONS.items())
    return (
        "<h2>How to read this report</h2><dl>"
        + "".join(f"<dt>{_e(t)}</dt><dd>{_e(d)}</dd>" for t, d in terms)
        + "</dl><h3>Flags</h3><p>A flag is a prompt to look at an item again, not a verdict.</p><dl>"
        + flag_list
        + "</dl>"
    )


def report_html(analysis: Analysis) -> str:
    cohort = analysis.cohort
    assessment = cohort.assessment
    flagged = analysis.flagged()
    flag_summary = (
        "".join(f"<li>{_e(name)}: {_e(', '.join(ids))}</li>" for name, ids in flagged.items()) or "<li>none</li>"
    )
    overview = "".join(
        f'<tr><td><a href="#{_e(s.item.id)}">{_e(s.item.id)}</a></td><td>{_e(s.item.objective)}</td>'
        f'<td class="num">{s.difficulty:.2f}</td><td class="num">{_e(decimals(s.discrimination, 2) or "-")}</td>'
        f'<td class="num">{_e(decimals(s.upper_lower, 2) or "-")}</td><td>{_flag_badges(s)}</td></tr>'
        for s in analysis.items
    )
    objectives = "".join(
        f'<tr><td>{_e(o.objective.id)}</td><td>{_e(o.objective.text)}</td><td class="num">{o.items}</td>'
        f'<td class="num">{_e(decimals(o.mean_difficulty, 2) or "-")}</td>'
        f"<td>{_e(', '.join(o.hand_graded) or '')}</td></tr>"
        for o in analysis.objectives
    )
    notes = "".join(f"<li>{_e(n)}</li>" for n in cohort.notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Item analysis: {_e(assessment.title)}</title><style>{STYLE}</style></head><body>
<h1>Item analysis: {_e(assessment.title)}</h1>
<p>Assignment <code>{_e(assessment.assignment)}</code> · {len(cohort.students)} learner(s) · {len(analysis.items)}
automatically graded item(s) · made {date.today().isoformat()}</p>
<p class="warning"><b>For instructors only.</b> This report shows the right answers. Do not share it with learners.</p>
<h2>Items to look at</h2><ul>{flag_summary}</ul>
{("<h2>About the data</h2><ul>" + notes + "</ul>") if notes else ""}
{_item_map_figure(analysis)}
<h2>Every item</h2>
<table><tr><th>Item</th><th>Objective</th><th>Difficulty</th><th>Discrimination</th><th>Upper-lower</th><th>Flags</th></tr>
{overview}</table>
<h2>Per learning objective</h2>
<table><tr><th>Objective</th><th></th><th>Items</th><th>Mean difficulty</th><th>Graded by hand</th></tr>{objectives}</table>
{_explanations()}
<h2>Item by item</h2>
{"".join(_item_section(s) for s in analysis.items)}
</body></html>
"""
