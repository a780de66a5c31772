"""Module 4's adverse-effect profile: a frequency chart (drug vs placebo), a time-course strip and
the long-term-risk table, all built from `content/data/m4_adverse_effects.yaml` and
`m4_long_term_risks.yaml` (a source on every row).

matplotlib is imported only inside the functions that draw.
"""

from __future__ import annotations

import html

from ketamine_course.content import dataset
from ketamine_course.content.citations import inline_html, short_form
from ketamine_course.widgets.figures import new_figure
from ketamine_course.widgets.theme import PALETTE

SHORT_TERM = "m4_adverse_effects"
LONG_TERM = "m4_long_term_risks"


def tag(key: str) -> str:
    """A short source tag for axis labels: 'US label' for a label, 'Daly et al. 2019' for a paper."""
    from ketamine_course.content import reference

    ref = reference(key)
    if ref.type == "label":
        return {
            "spravato_uspi": "US label",
            "spravato_uspi_2019": "US label 2019",
            "spravato_uspi_2021": "US label 2021",
            "spravato_smpc": "EU label",
        }.get(key, ref.title.split(" (")[0])
    return short_form(key)


def frequency_rows(plotted: bool = True) -> list:
    """Frequency rows: with both percentages (plotted=True) or with a text only (plotted=False)."""
    rows = [r for r in dataset(SHORT_TERM).rows if getattr(r, "kind", None) == "frequency"]
    has_numbers = [
        getattr(r, "drug_pct", None) is not None and getattr(r, "placebo_pct", None) is not None for r in rows
    ]
    return [r for r, numbers in zip(rows, has_numbers) if numbers == plotted]


def time_course_rows() -> list:
    return [r for r in dataset(SHORT_TERM).rows if getattr(r, "kind", None) == "time_course"]


def reference_lines() -> list:
    """The lines across the time-course strip: the label's blood-pressure check and minimum observation."""
    return [r for r in dataset(SHORT_TERM).rows if getattr(r, "kind", None) == "reference_line"]


def long_term_rows() -> list:
    return list(dataset(LONG_TERM).rows)


def profile_figure():
    """Horizontal paired bars: % of patients with each effect on the drug and on placebo."""
    rows = frequency_rows()
    fig, ax = new_figure(width=8.5, height=0.55 * len(rows) + 1.4)
    labels = [f"{r.effect}\n[{tag(r.source)}]" for r in rows]
    ys = list(range(len(rows)))[::-1]
    height = 0.38
    drug = ax.barh(
        [y + height / 2 for y in ys],
        [r.drug_pct for r in rows],
        height=height,
        color=PALETTE["blue"],
        label="Esketamine",
    )
    placebo = ax.barh(
        [y - height / 2 for y in ys],
        [r.placebo_pct for r in rows],
        height=height,
        color=PALETTE["orange"],
        hatch="//",
        edgecolor="white",
        label="Placebo",
    )
    for bars in (drug, placebo):
        for bar in bars:
            ax.text(
                bar.get_width() + 0.6,
                bar.get_y() + bar.get_height() / 2,
                f"{bar.get_width():g}%",
                va="center",
                fontsize=8,
            )
    ax.set_yticks(ys)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel("Patients with the effect (%)")
    ax.set_xlim(0, max(r.drug_pct for r in rows) + 8)
    ax.set_title("Short-term effects of esketamine vs placebo: US label, pooled short-term TRD trials")
    ax.legend(loc="lower right", frameon=False)
    return fig


def time_course_figure():
    """A strip of when effects start, peak and settle, with the label's reference lines (`reference_lines()`)."""
    rows = time_course_rows()
    fig, ax = new_figure(width=8.5, height=0.5 * len(rows) + 1.6)
    ys = list(range(len(rows)))[::-1]
    colours = {"esketamine": PALETTE["blue"], "iv": PALETTE["green"]}
    for y, r in zip(ys, rows):
        colour = colours.get(r.product, PALETTE["grey"])
        start, end, peak = getattr(r, "start_min", None), getattr(r, "end_min", None), getattr(r, "peak_min", None)
        if start is not None and end is not None:
            if r.effect.startswith("Observation"):
                ax.barh(y, end - start, left=start, height=0.45, facecolor="white", edgecolor=colour, hatch="..")
            else:
                ax.barh(y, end - start, left=start, height=0.45, color=colour, alpha=0.75)
        if peak is not None:
            ax.plot([peak], [y], marker="D", markersize=8, color=PALETTE["vermillion"], linestyle="none")
    for line, style in zip(reference_lines(), ("--", ":", "-.")):
        ax.axvline(line.minute, color=PALETTE["black"], linestyle=style, linewidth=1)
        ax.text(line.minute + 1, ys[0] + 0.55, line.label, fontsize=8)
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{r.effect}\n[{tag(r.source)}]" for r in rows], fontsize=8)
    ax.set_xlim(0, 150)
    ax.set_ylim(-0.7, ys[0] + 1.1)
    ax.set_xlabel("Minutes after dosing began")
    ax.set_title("When short-term effects happen")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ax.legend(
        handles=[
            Patch(color=colours["esketamine"], alpha=0.75, label="Esketamine nasal spray"),
            Patch(color=colours["iv"], alpha=0.75, label="IV racemic ketamine"),
            Line2D([], [], marker="D", color=PALETTE["vermillion"], linestyle="none", label="Peak or measurement"),
        ],
        loc="lower right",
        frameon=False,
        fontsize=8,
    )
    return fig


def _sources(rows) -> list:
    keys = []
    for r in rows:
        for k in [r.source, *getattr(r, "also", [])]:
            if k not in keys:
                keys.append(k)
    return keys


def show_profile():
    """The frequency chart, with its caption, alt text and sources."""
    from ketamine_course.widgets.figures import show

    rows = frequency_rows()
    fig = profile_figure()
    caption = (
        f"{dataset(SHORT_TERM).caption('profile')} Sources: " + "; ".join(short_form(k) for k in _sources(rows)) + "."
    )
    alt = (
        "Paired horizontal bars. "
        + "; ".join(f"{r.effect}: {r.drug_pct:g}% on drug, {r.placebo_pct:g}% on placebo" for r in rows)
        + "."
    )
    show(fig, caption, alt)


def show_time_course():
    """The time-course strip, with its caption, alt text and sources."""
    from ketamine_course.widgets.figures import show

    rows = time_course_rows()
    caption = (
        f"{dataset(SHORT_TERM).caption('time_course')} Sources: "
        + "; ".join(short_form(k) for k in _sources(rows))
        + "."
    )
    alt = "Timeline from 0 to 150 minutes. " + " ".join(f"{r.effect}: {r.description}" for r in rows)
    show(time_course_figure(), caption, alt)


def _table(headers, body_rows) -> str:
    head = "".join(f"<th style='text-align:left;vertical-align:top'>{h}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:left;vertical-align:top'>{c}</td>" for c in row) + "</tr>"
        for row in body_rows
    )
    return f"<table class='kc-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cited_row(row, *fields, first_bold: bool = False) -> list:
    """A table row: the row's fields as text (the first in bold if asked), then its sources."""
    cells = [html.escape(getattr(row, name)) for name in fields]
    if first_bold:
        cells[0] = f"<b>{cells[0]}</b>"
    return cells + [inline_html([row.source, *getattr(row, "also", [])])]


def unplotted_html() -> str:
    """Effects with no placebo-controlled percentage: what is reported instead."""
    rows = frequency_rows(plotted=False)
    return _table(
        ["Effect", "Product and data", "What is reported", "Source"],
        [_cited_row(r, "effect", "product", "frequency_text") for r in rows],
    )


def show_unplotted():
    from IPython.display import HTML

    return HTML(
        "<h4>Effects not plotted: other populations, or no placebo-controlled percentage in the label</h4>"
        + unplotted_html()
    )


def long_term_html() -> str:
    """The long-term-risk table: what is known, in whom, how to monitor, sources."""
    rows = long_term_rows()
    return _table(
        ["Risk", "What is known", "In whom", "How to monitor", "Sources"],
        [_cited_row(r, "risk", "known", "in_whom", "monitor", first_bold=True) for r in rows],
    )


def show_long_term():
    from IPython.display import HTML

    return HTML("<h4>Long-term risks</h4>" + long_term_html())
