"""The US/EU side-by-side table for esketamine: a topic dropdown and a jurisdiction toggle.

The rows come from `content/data/regulatory_us_eu.yaml` (loaded by `content.regulatory_comparison`);
this module only draws them. No plotting.
"""

from __future__ import annotations

import html

import ipywidgets as w

from ketamine_course.content import regulatory_comparison
from ketamine_course.content.citations import inline_html
from ketamine_course.content.models import JURISDICTION_COLUMNS
from ketamine_course.widgets.theme import panel

JURISDICTIONS = (("US and EU", "both"), ("US only", "us"), ("EU only", "eu"))
ALL_TOPICS = "all"
_TH = "<th style='text-align:left;vertical-align:top;padding:4px 8px'>"
_TD = "<td style='text-align:left;vertical-align:top;padding:4px 8px'>"


def table_html(topic: str = ALL_TOPICS, jurisdiction: str = "both") -> str:
    """The comparison as an HTML table, for one topic or all, and for the US, the EU or both."""
    if jurisdiction not in JURISDICTION_COLUMNS:
        raise ValueError(f"unknown jurisdiction {jurisdiction!r}")
    table = regulatory_comparison()
    rows = table.rows if topic == ALL_TOPICS else [table.row(topic)]
    columns = JURISDICTION_COLUMNS[jurisdiction]
    names = {"us": "United States (label and REMS)", "eu": "European Union (SmPC)"}
    head = "".join(f"{_TH}{names[c]}</th>" for c in columns)
    body = []
    for r in rows:
        cells = "".join(f"{_TD}{html.escape(getattr(r, c))}</td>" for c in columns)
        body.append(
            f"<tr>{_TH}{html.escape(r.topic)}</th>{cells}"
            f"{_TD}<small>{inline_html(r.refs)}<br><i>Read: {html.escape(r.revision_read)}</i></small></td></tr>"
        )
    return (
        f"<table class='kc-us-eu' style='font-size:0.92em;border-collapse:collapse'>"
        f"<caption style='text-align:left'><b>{html.escape(table.title)}</b><br>"
        f"<small>{html.escape(table.description)}</small></caption>"
        f"<tr>{_TH}Topic</th>{head}{_TH}Sources</th></tr>{''.join(body)}</table>"
    )


class RegulatoryTable:
    """Dropdown by topic, toggle by jurisdiction, and the table that follows them."""

    def __init__(self):
        table = regulatory_comparison()
        style = {"description_width": "initial"}
        self.topic = w.Dropdown(
            options=[("All topics", ALL_TOPICS)] + [(r.topic, r.id) for r in table.rows],
            value=ALL_TOPICS,
            description="Topic",
            style=style,
            layout=w.Layout(width="60%"),
        )
        self.jurisdiction = w.ToggleButtons(
            options=list(JURISDICTIONS),
            value="both",
            description="Show",
            style=style,
            tooltips=["Both columns", "US column only", "EU column only"],
        )
        self.out = w.HTML()
        self.out.add_class("kc-us-eu-table")
        for control in (self.topic, self.jurisdiction):
            control.observe(lambda _change: self.refresh(), names="value")
        self.refresh()

    def refresh(self) -> str:
        self.out.value = table_html(self.topic.value, self.jurisdiction.value)
        return self.out.value

    def widget(self):
        return panel([w.HBox([self.topic]), self.jurisdiction, self.out], "kc-us-eu")


def show():
    """The filterable US/EU table, ready to use."""
    return RegulatoryTable().widget()
