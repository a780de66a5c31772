"""The certificate of completion as a page: its record, the page made from it, and the record read back.

A certificate is a record (name, hours, dates, scores, a unique id) embedded in an HTML page as JSON,
with an Ed25519 signature of the record when the course owner's key signed it. Every figure the
page shows is marked with `data-field`, so a checker can confirm that what a reader sees is what was
signed (`visible_fields` and `read_page`).
"""

from __future__ import annotations

import html
import json
import uuid
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser

from ketamine_course.content import course_facts, credit_facts, reference_library
from ketamine_course.widgets.theme import LINE, PALETTE

FORMAT = "ketamine-course/certificate"
VERSION = 1


@dataclass(frozen=True)
class Score:
    assignment: str
    title: str
    points: float
    max_points: float
    graded: date

    @property
    def percent(self) -> float:
        return 100.0 * self.points / self.max_points if self.max_points else 0.0


def new_record(
    name: str, scores: list, completed: date, issued_by: str, professional_id: str = "", certificate_id: str = ""
) -> dict:
    """The record a certificate carries: plain JSON data, the same whoever issues it (a fresh id unless given)."""
    facts = credit_facts()
    return {
        "format": FORMAT,
        "version": VERSION,
        "id": certificate_id or str(uuid.uuid4()),
        "name": name,
        "professional_id": professional_id,
        "course": course_facts().title,
        "course_release": facts.release_date.isoformat(),
        "completed": completed.isoformat(),
        "issued": date.today().isoformat(),
        "hours": facts.hours,
        "evidence_current_to": reference_library().evidence_current_to.isoformat(),
        "pass_mark": facts.pass_mark,
        "accreditation": facts.accreditation.status,
        "issued_by": issued_by,
        "scores": [
            {
                "assignment": s.assignment,
                "title": s.title,
                "points": round(s.points, 2),
                "max_points": round(s.max_points, 2),
                "percent": round(s.percent, 1),
                "graded": s.graded.isoformat(),
            }
            for s in scores
        ],
    }


def _day(iso: str) -> str:
    return f"{date.fromisoformat(iso):%d %B %Y}".lstrip("0")


def visible_fields(record: dict) -> dict:
    """Every figure the page shows, by its `data-field` name, as the page shows it."""
    fields = {
        "name": record["name"],
        "course": record["course"],
        "hours": f"{record['hours']:g}",
        "completed": _day(record["completed"]),
        "issued": _day(record["issued"]),
        "evidence": _day(record["evidence_current_to"]),
        "pass-mark": f"{record['pass_mark']:g}%",
        "id": record["id"],
        "professional-id": record["professional_id"] or "not given",
    }
    for s in record["scores"]:
        fields[f"score-{s['assignment']}"] = f"{s['points']:g} / {s['max_points']:g} ({s['percent']:.0f}%)"
        fields[f"graded-{s['assignment']}"] = _day(s["graded"])
    return fields


def page_html(record: dict, signature: dict | None) -> str:
    """The printable page: what it certifies, the scores, and the record with its signature."""
    shown = {k: html.escape(v) for k, v in visible_fields(record).items()}

    def field(name: str) -> str:
        return f'<span data-field="{name}">{shown[name]}</span>'

    rows = "".join(
        f"<tr><td>{html.escape(s['title'])}</td><td>{field('score-' + s['assignment'])}</td>"
        f"<td>{field('graded-' + s['assignment'])}</td></tr>"
        for s in record["scores"]
    )
    if signature:
        seal = (
            f"Signed by the course owner ({html.escape(record['issued_by'])}); key fingerprint "
            f"<code>{html.escape(signature['fingerprint'])}</code>. Check it offline with "
            "<code>ketamine-course verify-certificate</code> and this file."
        )
    else:
        seal = (
            "<strong>Unsigned.</strong> This certificate was made on the learner's own computer from the grades "
            "of their own grading; no one has confirmed them. A signed certificate is issued by the course owner "
            "from a graded submission."
        )
    embedded = json.dumps({"record": record, "signature": signature}, sort_keys=True, ensure_ascii=False)
    embedded = embedded.replace("<", "\\u003c")  # nothing in the data can close the script element
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Certificate of completion: {shown["name"]}</title>
<style>
 @page {{ size: A4 landscape; margin: 12mm; }}
 body {{ font-family: Georgia, 'Times New Roman', serif; color: #1b1b1b; margin: 0; }}
 .frame {{ border: 6px double {PALETTE["blue"]}; padding: 24px 40px; margin: 12px; }}
 h1 {{ text-align: center; font-size: 28pt; margin: 0 0 4px; letter-spacing: 1px; }}
 .course {{ text-align: center; font-size: 16pt; margin: 0 0 14px; color: {PALETTE["blue"]}; }}
 .name {{ text-align: center; font-size: 24pt; font-style: italic; margin: 10px 0; }}
 p {{ text-align: center; font-size: 12pt; }}
 table {{ margin: 12px auto; border-collapse: collapse; font-family: Arial, sans-serif; font-size: 10.5pt; }}
 th, td {{ border-bottom: 1px solid {LINE}; padding: 4px 14px; text-align: left; }}
 .small {{ font-size: 9pt; color: #444; font-family: Arial, sans-serif; }}
</style></head>
<body><main class="frame">
<h1>Certificate of completion</h1>
<div class="course">{field("course")}</div>
<p>This certifies that</p>
<div class="name" id="learner-name">{field("name")}</div>
<p>passed the graded assessment of every module of the course (pass mark {field("pass-mark")} of the
automatically graded points), the last of them graded on {field("completed")}.
Estimated time: {field("hours")} hours.</p>
<table><thead><tr><th>Module assessment</th><th>Score</th><th>Date</th></tr></thead>
<tbody>{rows}</tbody></table>
<p>Issued {field("issued")}. Course evidence current to {field("evidence")}.
Professional id: {field("professional-id")}.</p>
<p class="small">{html.escape(credit_facts().accreditation.statement)} Written reflections are not included in
the scores. This certificate records completion of an educational course; it is not a licence, credential or
accreditation to prescribe or administer ketamine or esketamine.</p>
<p class="small">Certificate id {field("id")}. {seal}</p>
</main>
<script type="application/json" id="kc-certificate">{embedded}</script>
</body></html>
"""


class _PageReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields, self.embedded, self._open, self._in_record = {}, None, None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-field" in attrs:
            self._open = attrs["data-field"]
            self.fields.setdefault(self._open, []).append("")
        self._in_record = tag == "script" and attrs.get("id") == "kc-certificate"

    def handle_endtag(self, tag):
        self._open = None if tag == "span" else self._open
        self._in_record = False

    def handle_data(self, data):
        if self._in_record:
            self.embedded = (self.embedded or "") + data
        elif self._open is not None:
            self.fields[self._open][-1] += data


class NotACertificate(ValueError):
    """The page holds no certificate record that can be read."""


def read_page(text: str) -> tuple:
    """(record, signature, the figures the page shows by field) from a certificate page."""
    reader = _PageReader()
    reader.feed(text)
    if reader.embedded is None:
        raise NotACertificate("it holds no certificate record")
    try:
        data = json.loads(reader.embedded)
        record, signature = data["record"], data["signature"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise NotACertificate("its certificate record is damaged") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise NotACertificate("its record is not a certificate of this course")
    return record, signature, reader.fields


def shown_as_recorded(record: dict, shown: dict) -> list:
    """The fields whose text on the page differs from the record (empty when every figure matches)."""
    try:
        expected = visible_fields(record)
    except (KeyError, TypeError, ValueError):
        return ["the record itself"]
    return sorted(name for name in set(expected) | set(shown) if shown.get(name) != [expected.get(name)])
