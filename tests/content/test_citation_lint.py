"""Every clinical number in the teaching text cites its source, and unsourced advice says it is the course's own.

The units checked are what a reader takes in one go: a paragraph, a list item or a table row of a
notebook's Markdown, and each rationale, feedback or explanation in the content files and the hidden
tests. A unit that states a clinical number (a percentage, a dose, a pressure, a duration, an NNT or
NNH, a confidence interval, a sample size) must cite a reference: a `(#ref-key)` link in Markdown, a
non-empty `refs` list in the data. A unit that recommends something and cites nothing must say
"Course advice", so that a reader can tell the course's own judgement from a source's.
"""

from __future__ import annotations

import ast
import json
import re

import pytest
import yaml

from ketamine_course.content import CONTENT_DIR
from ketamine_course.content.citations import CITATION_LINK

from conftest import REPO

CLINICAL_NUMBER = re.compile(
    r"\d+(?:[.,]\d+)?\s*(?:%|per ?cent\b|mg/kg|mg\b|micrograms?\b|µg|mcg\b|mmHg|mL\b|ml\b|kg\b|"
    r"h\b|hours?\b|min\b|minutes?\b|days?\b|weeks?\b|months?\b|years?\b)"
    r"|\bNN[TH]\b|\b9\d% CI\b|\bCI\b|\bn\s*=\s*\d",
    re.IGNORECASE,
)
RECOMMENDS = re.compile(
    r"\b(?:should|must|recommend\w*|consider|advis\w+|make sure)\b|(?:^|[.:;!]\s+|\*\*)(?:Avoid|Do not|Don't|Never)\b"
)
COURSE_ADVICE = re.compile(r"course advice", re.IGNORECASE)
# Not teaching text: a module's time and objectives, how to answer, and the grader's rubric lines.
NOT_TEACHING = re.compile(
    r"^\*\*Time:\*\*|you should be able to|pass mark|^\*\*Reflection\*\*|^-?\s*\*\*Self-study\.\*\*"
    r"|Read (?:both|the) (?:patient )?cards?|^[-*]?\s*\**\d+(?:\.\d+)? points?\b|^[-*]?\s*No credit\b",
    re.IGNORECASE,
)
# Fields that cite: `refs` (lists of keys) and the data files' `source` and `also`.
CITING_FIELDS = ("refs", "source", "also")

# Text fields that teach or explain (not question stems, option labels or patient facts).
EXPLAINING_FIELDS = {
    "rationale",
    "guidance",
    "reason",
    "feedback",
    "explanation",
    "teaching_point",
    "meaning",
    "finding",
    "note",
    "summary",
    "description",
    "action",
    "background",
    "effect",
    "evidence",
    "known",
    "monitor",
    "what",
    "in_whom",
    "frequency_text",
    "risk",
    "caption",
    "us",
    "eu",
    "text",
}
# Where `text` is an option's or an objective's label rather than an explanation.
LABEL_TEXT_FOLDERS = {"quizzes", "assessments"}


def markdown_units(source: str):
    """Paragraphs, list items and table rows of one Markdown cell, without headings and code."""
    source = re.sub(r"```.*?```", "", source, flags=re.DOTALL)
    source = re.sub(r"<!--.*?-->", "", source, flags=re.DOTALL)
    for block in re.split(r"\n\s*\n", source):
        lines = block.strip().splitlines()
        if not lines:
            continue
        if all(line.lstrip().startswith("|") for line in lines):
            body = [line for line in lines[1:] if not re.fullmatch(r"[\s|:\-]+", line)]
            yield from body  # each row; the header row names columns
            continue
        items, current = [], []
        for line in lines:
            if line.lstrip().startswith("#"):
                continue
            if re.match(r"\s*(?:[-*+]|\d+[.)])\s+", line) and current:
                items.append(" ".join(current))
                current = []
            current.append(line.strip())
        if current:
            items.append(" ".join(current))
        yield from items


def notebook_units():
    modules = [*(REPO / "course").glob("[0-9][0-9]_*.ipynb"), *(REPO / "solutions").glob("*/*.ipynb")]
    for path in sorted(modules):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for index, cell in enumerate(cells):
            if (
                cell["cell_type"] != "markdown"
                or cell["metadata"].get("nbgrader", {}).get("grade_id") == "instructions"
            ):
                continue
            for unit in markdown_units("".join(cell["source"])):
                if not NOT_TEACHING.search(unit.strip()):
                    yield f"{path.relative_to(REPO)} cell {index}", unit, bool(CITATION_LINK.search(unit))


def data_units():
    for path in sorted(CONTENT_DIR.rglob("*.yaml")):
        if path.name == "references.yaml":
            continue
        folder = path.parent.name
        yield from _walk(
            yaml.safe_load(path.read_text(encoding="utf-8")),
            path.relative_to(CONTENT_DIR),
            folder,
            inherited_refs=False,
            where="",
        )


def _walk(node, path, folder, inherited_refs, where):
    if isinstance(node, dict):
        cited = inherited_refs or any(
            node.get(field)
            for field in CITING_FIELDS
            if field != "source" or isinstance(node.get(field), (str, list)) and folder == "data"
        )
        label = node.get("id") or node.get("key") or where
        for field, value in node.items():
            if isinstance(value, str):
                if field in EXPLAINING_FIELDS and not (field == "text" and folder in LABEL_TEXT_FOLDERS):
                    yield f"{path} {label}.{field}", value, cited
            else:
                yield from _walk(value, path, folder, cited, f"{label}.{field}" if label else field)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, path, folder, inherited_refs, f"{where}[{i}]")


def hidden_rationale_units():
    """The rationale of every grading.grade(...) call in the solutions' hidden tests."""
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
            if "grading.grade(" not in source:
                continue
            tree = ast.parse("\n".join(line for line in source.splitlines() if not line.startswith("###")))
            for call in ast.walk(tree):
                if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "grade":
                    kwargs = {k.arg: k.value for k in call.keywords}
                    item = ast.literal_eval(call.args[0])
                    rationale = ast.literal_eval(kwargs["rationale"]) if "rationale" in kwargs else ""
                    refs = ast.literal_eval(kwargs["refs"]) if "refs" in kwargs else []
                    yield f"{path.relative_to(REPO)} {item}", rationale, bool(refs)


ALL_UNITS = [*notebook_units(), *data_units(), *hidden_rationale_units()]


def _uncited(predicate):
    return [f"{where}: {text[:160]}" for where, text, cited in ALL_UNITS if not cited and predicate(text)]


def test_units_were_found_in_every_kind_of_source():
    kinds = {"notebook": 0, "data": 0, "hidden": 0}
    for where, _, _ in ALL_UNITS:
        kinds["notebook" if " cell " in where else "hidden" if where.startswith("solutions") else "data"] += 1
    assert all(count > 20 for count in kinds.values()), kinds


def test_every_unit_stating_a_clinical_number_cites_a_source():
    missing = _uncited(lambda text: CLINICAL_NUMBER.search(text))
    assert not missing, "A clinical number without a citation:\n" + "\n".join(missing)


def test_every_uncited_recommendation_is_marked_as_course_advice():
    missing = _uncited(lambda text: RECOMMENDS.search(text) and not COURSE_ADVICE.search(text))
    assert not missing, "Advice that cites no source and is not marked 'Course advice':\n" + "\n".join(missing)


@pytest.mark.parametrize(
    "text, numbered",
    [
        ("Observe for at least 2 hours.", True),
        ("Systolic above 140 mmHg", True),
        ("NNT 6 (95% CI 4 to 12)", True),
        ("in 41% of patients", True),
        ("Module 3 covers benefits.", False),
        ("Question 2 (1 point)", False),
    ],
)
def test_the_number_detector_tells_clinical_numbers_from_others(text, numbered):
    assert bool(CLINICAL_NUMBER.search(text)) is numbered


def test_markdown_is_split_into_paragraphs_items_and_rows():
    cell = "# Title\n\nA paragraph\nwith two lines.\n\n- one item\n- another\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    assert list(markdown_units(cell)) == ["A paragraph with two lines.", "- one item", "- another", "| 1 | 2 |"]
