"""Citations: short inline forms, and a module's reference list built from what its notebook cites.

In a notebook's Markdown a citation is a link to the reference's anchor, written
`[Zarate 2006](#ref-zarate2006)`: readable as it stands, and checkable by the tests.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from ketamine_course.content import reference, reference_library

CITATION_LINK = re.compile(r"\(#ref-([a-z0-9_]+)\)")


def short_form(key: str) -> str:
    """'Zarate et al. 2006' style label for a reference key."""
    ref = reference(key)
    first = ref.authors.split(",")[0].strip()
    surname = first.split(" ")[0] if first else ref.key
    many = "," in ref.authors or "et al" in ref.authors
    if ref.type == "label":  # e.g. 'Spravato US label 2026'
        brand = ref.title.split()[0].capitalize()
        region = "EU" if "(EU)" in ref.title or "EU" in ref.source else "US"
        return f"{brand} {region} label {ref.year}"
    if ref.authors.lower().startswith("authors not confirmed"):  # cite by the journal instead
        return f"{ref.source.split('.')[0]} {ref.year}"
    return f"{surname}{' et al.' if many else ''} {ref.year}"


def link(key: str) -> str:
    """Where a reader can check the source: DOI first, then PubMed, then the official label."""
    ref = reference(key)
    if ref.doi:
        return f"https://doi.org/{ref.doi}"
    if ref.pmid:
        return f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/"
    return ref.url or ""


def inline_html(keys) -> str:
    """An inline citation, e.g. '(Zarate et al. 2006; Murrough et al. 2013)', each linked to its source."""
    parts = [
        f'<a href="{html.escape(link(k))}" target="_blank" rel="noopener">{html.escape(short_form(k))}</a>'
        for k in keys
    ]
    return f"({'; '.join(parts)})" if parts else ""


def full_entry_html(key: str) -> str:
    ref = reference(key)
    ids = []
    if ref.doi:
        ids.append(
            f'doi:<a href="https://doi.org/{html.escape(ref.doi)}" target="_blank" rel="noopener">{html.escape(ref.doi)}</a>'
        )
    if ref.pmid:
        ids.append(
            f'PMID <a href="https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/" target="_blank" rel="noopener">{ref.pmid}</a>'
        )
    if ref.url and not ids:
        ids.append(f'<a href="{html.escape(ref.url)}" target="_blank" rel="noopener">official label</a>')
    return (
        f'<li id="ref-{ref.key}">{html.escape(ref.authors)} {html.escape(ref.title)}. '
        f"{html.escape(ref.source)}. {'; '.join(ids)}</li>"
    )


def evidence_date() -> str:
    """The date the course's evidence is current to, in words: '1 December 2026'."""
    return reference_library().evidence_current_to.strftime("%d %B %Y").lstrip("0")


def reference_list_html(keys) -> str:
    """A numbered reference list, sorted by first author, with the date the evidence is current to."""
    unique = sorted(set(keys), key=lambda k: (reference(k).authors.lower(), reference(k).year))
    items = "\n".join(full_entry_html(k) for k in unique)
    return (
        f"<ol>{items}</ol><p><em>Evidence current to {evidence_date()}. Product labels change: check the "
        "current label and your local protocol. This course is education, not medical advice.</em></p>"
    )


def keys_cited_in_notebook(path) -> list:
    """Every reference key cited in a notebook's Markdown, in order of first citation."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    seen = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = "".join(cell.get("source", ""))
        for key in CITATION_LINK.findall(source):
            if key not in seen:
                seen.append(key)
    return seen
