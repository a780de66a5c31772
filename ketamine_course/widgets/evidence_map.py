"""The evidence map of module 2: regulatory status and strength of evidence for each indication.

Built only from `content/data/m2_indications.yaml`, where every row names its source. `indications()`
is pure data; `table_html()` draws the table, `figure()` the chart (matplotlib loads only there).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from ketamine_course.content import dataset
from ketamine_course.content.citations import inline_html
from ketamine_course.widgets.theme import PALETTE

DATASET = "m2_indications"
STATUS_LABELS = {
    "approved": "Approved product and indication",
    "off_label_randomised": "Off-label, with randomised evidence",
    "investigational": "Investigational (no randomised evidence cited)",
}
STRENGTHS = ("very low", "low", "moderate")


@dataclass(frozen=True)
class Indication:
    name: str
    status: str
    approved_for: str
    strength: str
    summary: str
    largest_n: int
    largest_design: str
    source: str
    refs: tuple


def indications() -> list[Indication]:
    """Every indication of the map, in the order of the data file."""
    found = []
    for row in dataset(DATASET).rows:
        data = row.model_dump()
        if data["status"] not in STATUS_LABELS or data["strength"] not in STRENGTHS:
            raise ValueError(f"{data['indication']}: unknown status or strength")
        refs = tuple(dict.fromkeys([*data.get("refs", []), data["source"]]))
        found.append(
            Indication(
                data["indication"],
                data["status"],
                data["approved_for"],
                data["strength"],
                data["summary"],
                int(data["largest_n"]),
                data["largest_design"],
                data["source"],
                refs,
            )
        )
    return found


def table_html() -> str:
    """The evidence map as an HTML table, each row with its sources."""
    th = "<th style='text-align:left;vertical-align:bottom'>"
    td = "<td style='text-align:left;vertical-align:top'>"
    head = (
        f"<tr>{th}Indication</th>{th}Regulatory status</th>{th}Strength of evidence</th>"
        f"{th}What the evidence is</th>{th}Largest study cited</th></tr>"
    )
    rows = "".join(
        f"<tr>{td}<b>{html.escape(i.name)}</b></td>"
        f"{td}{html.escape(STATUS_LABELS[i.status])}<br><small>{html.escape(i.approved_for)}</small></td>"
        f"{td}{html.escape(i.strength)}</td>"
        f"{td}{html.escape(i.summary)} <small>{inline_html(i.refs)}</small></td>"
        f"{td}{i.largest_n} participants<br><small>{html.escape(i.largest_design)} {inline_html([i.source])}</small></td></tr>"
        for i in indications()
    )
    return (
        f"<table class='kc-evidence-map' style='border-collapse:collapse;font-size:0.92em'>"
        f"<caption style='text-align:left'><b>Evidence map.</b> Strength of evidence is the course's rating by "
        f"a stated rule (see the text above), not a formal guideline grade.</caption>{head}{rows}</table>"
    )


def figure():
    """Bar chart: size of the largest cited study per indication (log scale), coloured by status."""
    from matplotlib.patches import Patch

    from ketamine_course.widgets.figures import new_figure

    items = list(reversed(indications()))
    colours = {
        "approved": PALETTE["blue"],
        "off_label_randomised": PALETTE["orange"],
        "investigational": PALETTE["grey"],
    }
    hatches = {"approved": "", "off_label_randomised": "//", "investigational": ".."}
    fig, ax = new_figure(width=8.5, height=5.5)
    y = range(len(items))
    bars = ax.barh(
        y,
        [i.largest_n for i in items],
        color=[colours[i.status] for i in items],
        edgecolor=PALETTE["black"],
        linewidth=0.6,
    )
    for bar, item in zip(bars, items):
        bar.set_hatch(hatches[item.status])
        ax.text(
            bar.get_width() * 1.08,
            bar.get_y() + bar.get_height() / 2,
            f"n={item.largest_n}; evidence {item.strength}",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(list(y), [i.name for i in items], fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(8, 3000)
    ax.set_xticks([10, 30, 100, 300, 1000], ["10", "30", "100", "300", "1000"])
    ax.minorticks_off()
    ax.set_xlabel("Participants in the largest study cited (number, log scale)")
    ax.set_title("Ketamine and esketamine: evidence by indication")
    ax.legend(
        handles=[
            Patch(facecolor=colours[k], hatch=hatches[k], edgecolor=PALETTE["black"], label=v)
            for k, v in STATUS_LABELS.items()
        ],
        loc="upper center",
        bbox_to_anchor=(0.4, -0.12),
        ncol=2,
        fontsize=8,
        frameon=False,
    )
    return fig


CAPTION = (
    "Each bar is the number of participants in the largest study this course cites for the indication "
    "(pooled analyses count all their participants); colour and hatching show regulatory status and the "
    "label gives the course's rating of the strength of evidence. Size is not quality: the largest PTSD "
    "trial was negative, and the generalised-anxiety study had no control group. Sources: see the table."
)


def alt_text() -> str:
    """The chart's alt text, built from the data file so that it always names the rows as they stand."""
    items = indications()
    parts = []
    for status, label in STATUS_LABELS.items():
        rows = [i for i in items if i.status == status]
        if rows:
            parts.append(f"{label}: " + ", ".join(f"{i.name} {i.largest_n}" for i in rows) + ".")
    return (
        f"Horizontal bar chart on a log scale of participants in the largest cited study for {len(items)} "
        "indications. " + " ".join(parts)
    )


def show():
    """The table, then the chart with its caption and alt text."""
    from IPython.display import HTML, display

    from ketamine_course.widgets.figures import show as show_figure

    display(HTML(table_html()))
    show_figure(figure(), CAPTION, alt_text())
