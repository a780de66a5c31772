"""No key of a graded item anywhere a learner can read before grading.

The keys are read from the hidden tests themselves (every `grading.grade(...)` call in solutions/,
parsed with ast), then everything a learner has is scanned: the released assignments, the installed
package's files and the handouts built from the course (the reader pages show the same notebooks).
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

import ketamine_course
from ketamine_course.content import assessments

from conftest import REPO

pytestmark = pytest.mark.xdist_group("handouts")  # with test_handouts.py: the handouts are exported once (conftest.py)

PACKAGE = Path(ketamine_course.__file__).resolve().parent
MARKED_CORRECT = r"(correct|right answer|the answer is|answer key|✓|✔|☑)"


def hidden_grades() -> list:
    """(item id, key, rationale) of every graded item, from the hidden tests of solutions/."""
    found = []
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code" or "grading.grade(" not in cell.source:
                continue
            source = "\n".join(line for line in cell.source.splitlines() if not line.startswith("###"))
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Call) and ast.unparse(node.func) == "grading.grade":
                    named = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
                    found.append((ast.literal_eval(node.args[0]), named["key"], named["rationale"]))
    return found


GRADES = hidden_grades()
ITEMS = {item.id: item for a in assessments().values() for item in a.items}


def formative(path: str) -> bool:
    """The formative banks carry their own keys, since they teach (design.md), and so do the teaching
    modules' pages that show them; they are checked below for copies of graded items instead."""
    path = Path(path)
    teaching_page = path.suffix == ".html" and (REPO / "course" / f"{path.stem}.ipynb").exists()
    return path.parent == PACKAGE / "content" / "quizzes" or teaching_page


def squash(text: str) -> str:
    return " ".join(text.split()).lower()


def readable(path: Path) -> str:
    """A file's text as a learner can see it: notebooks by their cells, everything else as it is."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        nb = json.loads(raw)
        parts = ["".join(c.get("source", "")) for c in nb["cells"]]
        parts += [json.dumps(o) for c in nb["cells"] for o in c.get("outputs", [])]
        raw += "\n" + "\n".join(parts)
    return raw


def learner_files(*folders) -> dict:
    return read_all(p for folder in folders for p in sorted(Path(folder).rglob("*")))


def read_all(paths) -> dict:
    return {
        str(p): squash(readable(p))
        for p in paths
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".png", ".pdf"}
    }


def shipped_package_files() -> list:
    """What an installed package holds: its modules and the package data pyproject.toml ships (not the
    authors' fact log, which records key changes and stays with the instructor's source)."""
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    files = sorted(PACKAGE.rglob("*.py"))
    for pattern in patterns["ketamine_course"]:
        files += sorted(PACKAGE.glob(pattern))
    return files


@pytest.fixture(scope="module")
def handout_pages(exported_handouts):
    """The handouts as `ketamine-course handouts` exports them from the course (conftest.py); every module
    exported (the command's exit status is 1 if one is not)."""
    _, scratch, _, result = exported_handouts
    assert result.returncode == 0, result.stdout + result.stderr
    return scratch / "pages"


@pytest.fixture(scope="module")
def everything(handout_pages):
    return {**learner_files(REPO / "assignments", handout_pages), **read_all(shipped_package_files())}


def test_every_graded_item_has_its_key_read_from_the_hidden_tests():
    graded = {item_id for item_id, *_ in GRADES}
    assert graded == {i for i, item in ITEMS.items() if item.type != "reflection"}
    assert len(GRADES) > 30


@pytest.mark.kernel
@pytest.mark.nbgrader
def test_no_rationale_of_a_hidden_test_is_readable_before_grading(everything):
    for item_id, _, rationale in GRADES:
        leaks = [path for path, text in everything.items() if squash(rationale) in text]
        assert not leaks, f"the rationale of {item_id} can be read in {leaks}"


@pytest.mark.kernel
@pytest.mark.nbgrader
def test_no_keyed_option_is_marked_correct(everything):
    for item_id, key, _ in GRADES:
        item = ITEMS[item_id]
        if item.type not in ("single", "multiple"):
            continue
        keyed = [key] if item.type == "single" else list(key)
        for option in item.options:
            if option.id not in keyed:
                continue
            plain = squash(option.text)
            text = re.escape(plain)
            near = re.compile(rf"{MARKED_CORRECT}.{{0,30}}{text}|{text}.{{0,30}}{MARKED_CORRECT}")
            # The pattern can only match where the option's text is: the plain search first is much quicker.
            leaks = [
                path for path, page in everything.items() if plain in page and near.search(page) and not formative(path)
            ]
            assert not leaks, f"{item_id}: the keyed option {option.text!r} is marked correct in {leaks}"


@pytest.mark.kernel
@pytest.mark.nbgrader
def test_no_key_is_written_as_code_or_as_the_released_order(everything):
    for item_id, key, _ in GRADES:
        item = ITEMS[item_id]
        for path, text in everything.items():
            assert f'grading.grade("{item_id}"' not in text, f"a hidden test of {item_id} is in {path}"
        if item.type == "ordering":
            assert [s.id for s in item.steps] != list(key), f"{item_id} lists its steps in the keyed order"
            order = json.dumps(list(key)).lower()
            assert not [p for p, t in everything.items() if order in t], f"the order of {item_id} is readable"
        if item.type == "numeric":
            shown = squash(yaml.safe_dump(item.model_dump(mode="json"), allow_unicode=True))
            for form in (f"{key['value']:g} {key['unit']}", f"{key['value']:g}{key['unit']}"):
                assert form.lower() not in shown, f"{item_id} shows its numeric key {form!r}"


def test_no_formative_question_copies_a_graded_item():
    """A quick check may teach what an assessment asks, but never as the same question with its key."""
    from ketamine_course.content import question_banks

    graded = {squash(item.stem): item.id for item in ITEMS.values()}
    graded_options = {
        frozenset(squash(o.text) for o in getattr(item, "options", []) or []): item.id
        for item in ITEMS.values()
        if getattr(item, "options", None)
    }
    for bank in question_banks().values():
        for question in bank.questions:
            assert squash(question.stem) not in graded, f"{question.id} repeats {graded[squash(question.stem)]}"
            options = frozenset(squash(o.text) for o in getattr(question, "options", []) or [])
            assert options not in graded_options or not options, (
                f"{question.id} has the options of {graded_options.get(options)}"
            )
