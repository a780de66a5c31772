"""Module 3's evidence explorer: a filterable table of key trials, a forest-style plot and the time course.
It shows the trial statistics of `core/evidence.py` (NNT and NNH with their intervals).

Data: `content/data/m3_trials.yaml`, `m3_time_course.yaml` and `m3_harms.yaml` (a source on every row).
Filtering and table building are plain Python; matplotlib loads only inside the drawing functions.
`show()` and `show_time_course()` are the one-line calls of the teaching notebook.
"""

from __future__ import annotations

import html

from ketamine_course.content import dataset
from ketamine_course.content.citations import inline_html, short_form
from ketamine_course.core import evidence
from ketamine_course.widgets.theme import PALETTE

ALL = "All"
FILTERS = ("indication", "comparator_type", "outcome")
RATIO_MEASURES = {"odds ratio", "hazard ratio", "relative risk"}


# --- data and filters (pure) --------------------------------------------------------------------


def load_rows(name: str = "m3_trials") -> list[dict]:
    """The rows of a data file as plain dictionaries."""
    return [row.model_dump() for row in dataset(name).rows]


def options(rows: list[dict], field: str) -> list[str]:
    """The choices a filter offers: 'All', then every value present, sorted."""
    return [ALL] + sorted({str(r[field]) for r in rows if r.get(field) is not None})


def filter_rows(rows: list[dict], indication: str = ALL, comparator_type: str = ALL, outcome: str = ALL) -> list[dict]:
    """Rows that match every chosen filter ('All' matches anything)."""
    wanted = {"indication": indication, "comparator_type": comparator_type, "outcome": outcome}
    return [r for r in rows if all(v == ALL or str(r.get(k)) == v for k, v in wanted.items())]


def _effect_includes_null(row: dict) -> bool:
    """True when the paper's own 95% CI includes no difference (1 for ratios, 0 for differences)."""
    effect = row.get("effect") or {}
    low, high = effect.get("ci_low"), effect.get("ci_high")
    if low is None or high is None:
        return False
    null = 1.0 if effect.get("measure") in RATIO_MEASURES else 0.0
    return low <= null <= high


def number_needed_interval(row: dict):
    """The NNT with its interval for a row (evidence.NumberNeededCI), or None when no interval can be had.

    The paper's own CI of the risk difference (rd_ci) is used when given; otherwise a Newcombe interval
    is computed from the arm counts.
    """
    treated, control = row.get("rate_treatment"), row.get("rate_comparator")
    if treated is None or control is None:
        return None
    better = row.get("higher_is_better", True)
    if row.get("rd_ci"):
        low, high = row["rd_ci"]
        return evidence.number_needed_ci(low, high, treated, control, higher_is_better=better)
    counts = [row.get(k) for k in ("events_treatment", "n_treatment", "events_comparator", "n_comparator")]
    if all(isinstance(c, int) for c in counts):
        return evidence.number_needed_from_counts(*counts, higher_is_better=better)
    return None


def number_needed_text(row: dict) -> str:
    """The NNT column: the NNT with its 95% CI, or why none is shown.

    Rules: no NNT for crossover "response at any time" counts; "not significant" (Altman's NNTB/NNTH
    notation) when the CI of the difference includes zero, or no NNT when only the paper's effect CI is
    known and it includes no difference; a comparison of two active treatments names the treatment the
    NNT favours instead of calling the worse one a harm; a non-inferiority trial's NNT is marked descriptive.
    """
    treated, control = row.get("rate_treatment"), row.get("rate_comparator")
    if treated is None or control is None:
        return "—"
    if row.get("count_rule") == "any_time":
        return "no NNT: response counted at any time during follow-up (crossover), not at a fixed time"
    result = evidence.number_needed(treated, control, higher_is_better=row.get("higher_is_better", True))
    if result.kind == "none":
        return "no difference"
    active = row.get("comparator_type") == "active treatment"
    other = row.get("comparator_short") or "comparator"
    benefit = "NNT favouring ketamine/esketamine" if active else "NNT"
    harm = f"NNT favouring {other}" if active else "NNH"
    interval = number_needed_interval(row)
    if interval is not None:
        text = interval.describe(benefit=benefit, harm=harm)
    elif _effect_includes_null(row):
        return "no NNT: the difference was not significant (the paper's 95% CI includes no effect)"
    else:
        label = benefit if result.kind == "NNT" else harm
        reason = "see the note" if row.get("ci_note") else "arm counts not recorded"
        text = f"{label} {result.value} (no 95% CI: {reason})"
    if row.get("noninferiority"):
        text += "; descriptive only, the trial tested non-inferiority"
    return text


def _sources(rows) -> str:
    """'Daly 2018; Popova 2019.': the short forms of the rows' sources, for a caption."""
    return "; ".join(sorted({short_form(r["source"]) for r in rows})) + "."


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else "—"


def result_text(row: dict) -> str:
    """Rates by arm and the paper's effect estimate with its 95% CI, in words."""
    parts = []
    if row.get("rate_treatment") is not None:
        rates = f"{_fmt(row['rate_treatment'])}%"
        if row.get("rate_comparator") is not None:
            rates += f" vs {_fmt(row['rate_comparator'])}%"
        parts.append(rates)
    effect = row.get("effect")
    if effect:
        ci = (
            f" (95% CI {_fmt(effect['ci_low'])} to {_fmt(effect['ci_high'])})"
            if effect.get("ci_low") is not None
            else " (no CI shown: see the note)"
        )
        parts.append(f"{effect['measure']} {_fmt(effect['estimate'])}{ci}")
    return "; ".join(parts) or "see finding"


def table_html(rows: list[dict]) -> str:
    """The filtered rows as an accessible HTML table, each with its source linked."""
    if not rows:
        return "<p><i>No trial matches these filters. Choose 'All' for one of them.</i></p>"
    head = (
        "Trial",
        "Indication",
        "Design",
        "n",
        "Comparator",
        "Outcome (time)",
        "Result",
        "NNT (95% CI)*",
        "What it shows",
        "Source",
    )
    body = []
    for r in rows:
        finding = r["finding"] + (f" Note: {r['ci_note']}" if r.get("ci_note") else "")
        cells = (
            r["trial"],
            r["indication"],
            r["design"],
            _fmt(r.get("n")),
            r["comparator"],
            f"{r['outcome_detail']} ({r['timepoint']})",
            result_text(r),
            number_needed_text(r),
            finding,
        )
        tds = "".join(f"<td style='text-align:left;vertical-align:top'>{html.escape(str(c))}</td>" for c in cells)
        body.append(f"<tr>{tds}<td style='text-align:left;vertical-align:top'>{inline_html([r['source']])}</td></tr>")
    ths = "".join(f"<th scope='col' style='text-align:left'>{h}</th>" for h in head)
    return (
        f"<div style='max-height:28em;overflow:auto'><table class='kc-evidence'><caption style='text-align:left'>"
        f"{len(rows)} trial(s) or meta-analyses. *Computed here from the two rates, rounded up to a whole "
        f"patient, with a 95% CI from the paper's CI of the difference or, from arm counts, by Newcombe's "
        f"method. Where the CI of the difference includes zero the result is marked not significant. Between "
        f"two active treatments the NNT names the treatment it favours; a number needed to harm (NNH) is kept "
        f"for harms against placebo (see the harms table).</caption><thead><tr>{ths}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _label(row: dict) -> str:
    return f"{row['trial']} · {row['timepoint']}"


# --- figures ----------------------------------------------------------------------------------


def rate_figure(rows: list[dict]):
    """Dumbbell plot of the two arms' rates for rows that report them; (fig, caption, alt) or None."""
    from ketamine_course.widgets.figures import new_figure

    rated = [r for r in rows if r.get("rate_treatment") is not None]
    if not rated:
        return None
    fig, ax = new_figure(width=8.5, height=1.2 + 0.42 * len(rated))
    for y, r in enumerate(reversed(rated)):
        t, c = r["rate_treatment"], r.get("rate_comparator")
        if c is not None:
            ax.plot([c, t], [y, y], color=PALETTE["grey"], linewidth=2, zorder=1)
            ax.scatter(
                [c],
                [y],
                marker="s",
                s=55,
                facecolor="white",
                edgecolor=PALETTE["orange"],
                linewidth=2,
                zorder=2,
                label="Comparator" if y == 0 or "Comparator" not in ax.get_legend_handles_labels()[1] else None,
            )
        ax.scatter(
            [t],
            [y],
            marker="o",
            s=55,
            color=PALETTE["blue"],
            zorder=3,
            label="Ketamine or esketamine"
            if "Ketamine or esketamine" not in ax.get_legend_handles_labels()[1]
            else None,
        )
    ax.set_yticks(range(len(rated)))
    ax.set_yticklabels([f"{_label(r)} ({r['outcome']})" for r in reversed(rated)], fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Patients with the outcome (% of each arm)")
    ax.set_title("Outcome rates by arm: ketamine or esketamine against the comparator")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(axis="x", color="#ddd", linewidth=0.6)
    caption = (
        "Filled circles: ketamine or esketamine arm; open squares: comparator arm (placebo, active placebo or "
        "active treatment). For relapse and new depressive episodes a lower rate is better. Sources: " + _sources(rated)
    )
    alt = "Dot plot of outcome rates by arm. " + " ".join(
        f"{r['trial']}: {r['outcome']} {_fmt(r['rate_treatment'])}%"
        + (f" vs {_fmt(r['rate_comparator'])}%." if r.get("rate_comparator") is not None else " (no comparator).")
        for r in rated
    )
    return fig, caption, alt


def _plain_log_axis(ax, group) -> None:
    """A log axis for ratios, labelled with plain numbers (0.2, 0.5, 1, 2...) rather than powers of ten."""
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

    values = [1.0] + [
        v
        for r in group
        for v in (r["effect"]["estimate"], r["effect"].get("ci_low"), r["effect"].get("ci_high"))
        if v is not None
    ]
    lo, hi = min(values) / 1.3, max(values) * 1.3
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ticks = [t for t in (0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 3, 5, 10, 20, 50) if lo <= t <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    formatter = ScalarFormatter()
    formatter.set_scientific(False)
    ax.xaxis.set_major_formatter(formatter)


def forest_figure(rows: list[dict]):
    """Effect estimates with 95% CIs, one panel per measure; (fig, caption, alt) or None."""
    from ketamine_course.widgets.figures import new_figure

    with_effect = [r for r in rows if r.get("effect")]
    if not with_effect:
        return None
    measures = []
    for r in with_effect:
        if r["effect"]["measure"] not in measures:
            measures.append(r["effect"]["measure"])
    groups = {m: [r for r in with_effect if r["effect"]["measure"] == m] for m in measures}
    heights = [0.55 + 0.4 * len(g) for g in groups.values()]
    fig, _ = new_figure(width=8.5, height=sum(heights) + 0.6 * len(groups))
    fig.clear()
    axes = fig.subplots(len(groups), 1, gridspec_kw={"height_ratios": heights}, squeeze=False)[:, 0]
    for ax, (measure, group) in zip(axes, groups.items()):
        ax.spines[["top", "right"]].set_visible(False)
        ratio = measure in RATIO_MEASURES
        null = 1.0 if ratio else 0.0
        for y, r in enumerate(reversed(group)):
            e = r["effect"]
            has_ci = e.get("ci_low") is not None
            if has_ci:
                ax.plot([e["ci_low"], e["ci_high"]], [y, y], color=PALETTE["blue"], linewidth=2)
            ax.scatter(
                [e["estimate"]],
                [y],
                marker="D",
                s=45,
                zorder=3,
                facecolor=PALETTE["blue"] if has_ci else "white",
                edgecolor=PALETTE["blue"],
                linewidth=1.5,
            )
        ax.axvline(null, color=PALETTE["black"], linewidth=0.8, linestyle="--")
        if ratio:
            _plain_log_axis(ax, group)
        ax.set_yticks(range(len(group)))
        ax.set_yticklabels([_label(r) for r in reversed(group)], fontsize=8)
        ax.set_ylim(-0.7, len(group) - 0.3)
        favours = {r["effect"].get("favours") for r in group}
        direction = ""
        if favours == {"lower"}:
            direction = " (lower favours ketamine/esketamine)"
        elif favours == {"higher"}:
            direction = " (higher favours ketamine/esketamine)"
        elif len(favours) > 1:
            direction = " (sign convention differs by study: see table)"
        scale = " (log scale)" if ratio else ""
        ax.set_xlabel(f"{measure}{scale}{direction}", fontsize=9)
    fig.suptitle("Effect estimates with 95% confidence intervals, as each paper reports them", fontsize=11)
    fig.tight_layout()
    caption = (
        "Diamonds: the paper's estimate; lines: its 95% confidence interval; open diamonds: no interval "
        "reported. Dashed line: no difference (0 for differences, 1 for ratios). A line that crosses it means "
        "the trial could not exclude no effect. Sources: " + _sources(with_effect)
    )
    alt = "Forest plot. " + " ".join(
        f"{r['trial']}: {r['effect']['measure']} {_fmt(r['effect']['estimate'])}"
        + (
            f", 95% CI {_fmt(r['effect']['ci_low'])} to {_fmt(r['effect']['ci_high'])}."
            if r["effect"].get("ci_low") is not None
            else ", no CI reported."
        )
        for r in with_effect
    )
    return fig, caption, alt


def time_course_figure():
    """Two panels: response after a single infusion (days 0-10) and staying well after a course."""
    from ketamine_course.widgets.figures import new_figure

    rows = load_rows("m3_time_course")
    fig, _ = new_figure(width=10, height=4.4)
    fig.clear()
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
    window = next(r for r in rows if r["series"] == "single_dose_window")
    left.axvspan(
        window["start_day"],
        window["end_day"],
        color=PALETTE["sky"],
        alpha=0.12,
        label="Ketamine better than placebo (pooled trials)",
    )
    pooled = {}
    for r in rows:
        if r["series"] == "single_dose" and r["label"].startswith("Pooled"):
            pooled.setdefault(r["label"], []).append((r["day"], r["percent"]))
    styles = [(PALETTE["blue"], "-"), (PALETTE["green"], "--")]
    for (label, pts), (colour, ls) in zip(pooled.items(), styles):
        pts.sort()
        left.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color=colour, linestyle=ls, label=label)
    markers = {
        "Zarate 2006": ("^", PALETTE["vermillion"]),
        "Murrough 2013": ("s", PALETTE["purple"]),
        "Lii 2023": ("D", PALETTE["black"]),
    }
    for r in rows:
        if r["series"] != "single_dose" or r["label"].startswith("Pooled"):
            continue
        study = r["label"].split(",")[0]
        marker, colour = markers.get(study, ("o", PALETTE["grey"]))
        filled = r["group"] == "ketamine"
        label = f"{study}, {'ketamine' if filled else 'comparator'}"
        seen = left.get_legend_handles_labels()[1]
        left.scatter(
            [r["day"]],
            [r["percent"]],
            marker=marker,
            s=50,
            edgecolor=colour,
            linewidth=1.5,
            facecolor=colour if filled else "white",
            zorder=3,
            label=None if label in seen else label,
        )
    left.set_xlim(0, 10.5)
    left.set_ylim(0, 100)
    left.set_xlabel("Days after one infusion")
    left.set_ylabel("Patients meeting the criterion (%)")
    left.set_title("After a single infusion", fontsize=10)
    left.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    after = [r for r in rows if r["series"] == "after_course"]
    for r in after:
        colour = PALETTE["blue"] if r["group"] == "ketamine" else PALETTE["orange"]
        right.scatter([r["day"]], [r["percent"]], s=60, color=colour, zorder=3)
        right.annotate(
            r.get("short_label", r["label"]),
            (r["day"], r["percent"]),
            textcoords="offset points",
            xytext=(-8, 6),
            fontsize=7,
            ha="right",
        )
    right.axhline(50, color=PALETTE["grey"], linewidth=0.6, linestyle=":")
    right.set_xlim(0, 400)
    right.set_ylim(0, 100)
    right.set_xlabel("Days after the course ended or changed")
    right.set_ylabel("Patients still without relapse (%)")
    right.set_title("After a course (two different trials: not comparable)", fontsize=10)
    fig.suptitle("How fast benefit appears and how long it lasts", fontsize=11)
    fig.tight_layout()
    caption = (
        f"{dataset('m3_time_course').caption('time_course')} Sources: "
        + "; ".join(sorted({short_form(r["source"]) for r in rows}))
        + "."
    )
    return fig, caption, time_course_alt(rows)


def time_course_alt(rows: list[dict]) -> str:
    """The time-course figure's alt text, every number read from the data rows."""

    def points(series: str, say_metric: bool = False) -> str:
        by_label = {}
        for r in rows:
            if r["series"] == series:
                by_label.setdefault(r.get("short_label", r["label"]), []).append(r)
        return "; ".join(
            f"{label}: "
            + ", ".join(
                f"{r['percent']:.0f}%{' ' + r['metric'] if say_metric else ''} at day {r['day']:g}" for r in found
            )
            for label, found in by_label.items()
        )

    window = next(r for r in rows if r["series"] == "single_dose_window")
    return (
        f"Two panels. Left, after a single infusion: {points('single_dose')}; shaded: {window['label']}, up to "
        f"day {window['end_day']:g}. Right, two trials that are not comparable with each other: "
        f"{points('after_course', say_metric=True)}."
    )


# --- harms as numbers needed to harm (pure) ---------------------------------------------------------


def harm_rows() -> list[dict]:
    """The label's adverse-reaction and blood-pressure counts, each with its NNH and 95% CI (Newcombe)."""
    found = []
    for row in load_rows("m3_harms"):
        counts = (row["events_treatment"], row["n_treatment"], row["events_comparator"], row["n_comparator"])
        interval = evidence.number_needed_from_counts(*counts, higher_is_better=False)
        found.append(
            {
                **row,
                "rate_treatment": 100 * counts[0] / counts[1],
                "rate_comparator": 100 * counts[2] / counts[3],
                "interval": interval,
                "nnh_text": interval.describe(),
            }
        )
    return found


def harms_table_html(rows: list[dict] | None = None) -> str:
    """The harms table: event, age group, both arms' counts, and the NNH with its 95% CI."""
    rows = harm_rows() if rows is None else rows
    head = (
        "Harm",
        "Age group",
        "Esketamine + oral antidepressant",
        "Placebo spray + oral antidepressant",
        "NNH (95% CI)",
        "Source",
    )
    body = []
    for r in rows:
        cells = (
            r["event"],
            r["group"],
            f"{r['events_treatment']}/{r['n_treatment']} ({r['rate_treatment']:.1f}%)",
            f"{r['events_comparator']}/{r['n_comparator']} ({r['rate_comparator']:.1f}%)",
            r["nnh_text"],
        )
        tds = "".join(f"<td style='text-align:left;vertical-align:top'>{html.escape(str(c))}</td>" for c in cells)
        body.append(f"<tr>{tds}<td style='text-align:left;vertical-align:top'>{inline_html([r['source']])}</td></tr>")
    ths = "".join(f"<th scope='col' style='text-align:left'>{h}</th>" for h in head)
    caption = html.escape(dataset("m3_harms").caption("harms_table"), quote=False)
    return (
        f"<table class='kc-harms'><caption style='text-align:left'>{caption}</caption>"
        f"<thead><tr>{ths}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def show_harms():
    """The harms table (one-line call of the teaching notebook)."""
    from IPython.display import HTML, display

    display(HTML(harms_table_html()))


# --- widgets (faces) ------------------------------------------------------------------------------


def _draw(rows, out) -> None:
    from IPython.display import HTML, display

    from ketamine_course.widgets.figures import show as show_figure

    with out:
        out.clear_output(wait=True)
        display(HTML(table_html(rows)))
        drawn = [made for made in (rate_figure(rows), forest_figure(rows)) if made is not None]
        for made in drawn:
            show_figure(*made)
        if rows and not drawn:
            display(
                HTML(
                    "<p><i>These studies report their results in words or on scales without a common "
                    "number to plot: read the table.</i></p>"
                )
            )


def show():
    """The evidence explorer: filters, table and plots, redrawn whenever a filter changes."""
    import ipywidgets as w

    rows = load_rows()
    labels = {"indication": "Indication", "comparator_type": "Comparator", "outcome": "Outcome"}
    dropdowns = {
        f: w.Dropdown(options=options(rows, f), value=ALL, description=labels[f], layout=w.Layout(width="32%"))
        for f in FILTERS
    }
    out = w.Output()

    def redraw(*_):
        _draw(filter_rows(rows, **{f: d.value for f, d in dropdowns.items()}), out)

    for d in dropdowns.values():
        d.observe(redraw, names="value")
    redraw()
    box = w.VBox(
        [
            w.HTML(
                "<b>Evidence explorer.</b> Choose an indication, a kind of comparator or an outcome; "
                "the table and plots redraw."
            ),
            w.HBox(list(dropdowns.values())),
            out,
        ]
    )
    box.add_class("kc-evidence-explorer")
    return box


def show_time_course():
    """The time-course figure with its caption and alt text."""
    from ketamine_course.widgets.figures import show as show_figure

    show_figure(*time_course_figure())


def references_cited() -> list[str]:
    """Every source behind the explorer and the time course (for the module's reference list)."""
    also = {key for r in load_rows() for key in (r.get("also") or [])}
    return sorted(
        {r["source"] for r in load_rows()}
        | {r["source"] for r in load_rows("m3_time_course")}
        | {r["source"] for r in load_rows("m3_harms")}
        | also
    )


__all__ = [
    "show",
    "show_time_course",
    "filter_rows",
    "options",
    "table_html",
    "rate_figure",
    "forest_figure",
    "time_course_figure",
    "load_rows",
    "number_needed_text",
    "number_needed_interval",
    "references_cited",
    "harm_rows",
    "harms_table_html",
    "show_harms",
]
