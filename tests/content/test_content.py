"""Schema checks of every content file, and every citation resolves to the references file."""

import ast
import json
import re

import pytest
import yaml

from ketamine_course import content
from ketamine_course.content.citations import keys_cited_in_notebook
from ketamine_course.content.models import Assessment, DataSet, QuestionBank, ReferenceLibrary, VignetteSet

from conftest import REPO, all_notebooks

CONTENT = content.CONTENT_DIR
SCHEMAS = {"quizzes": QuestionBank, "assessments": Assessment, "vignettes": VignetteSet, "data": DataSet}


def reference_keys():
    return {r.key for r in content.reference_library().references}


def test_references_file_is_valid():
    library = ReferenceLibrary.model_validate(yaml.safe_load((CONTENT / "references.yaml").read_text()))
    assert library.evidence_current_to.year >= 2026
    assert len(library.references) >= 10


@pytest.mark.parametrize("path", sorted(CONTENT.glob("*/*.yaml")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_content_file_matches_its_schema(path):
    SCHEMAS[path.parent.name].model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_every_caption_in_a_data_file_cites_verified_references():
    for path in sorted((CONTENT / "data").glob("*.yaml")):
        for caption in content.dataset(path.stem).captions:
            assert caption.caption.strip(), f"{path.name} {caption.figure}"
            for key in caption.refs:
                assert content.reference(key).verified, f"{path.name} {caption.figure}: {key}"


def test_every_formative_option_has_a_rationale_and_reference():
    for bank in content.question_banks().values():
        for q in bank.questions:
            for option in getattr(q, "options", []):
                assert option.rationale.strip() and option.refs, f"{q.id} option {option.id}"


def cited_in_content():
    for bank in content.question_banks().values():
        for q in bank.questions:
            yield q.id, list(q.refs) + [r for o in getattr(q, "options", []) for r in o.refs]
    for v in content.vignettes().values():
        yield v.id, list(v.refs)


def cited_in_hidden_tests(path):
    """Reference keys passed to grading.grade(..., refs=[...]) in a solution notebook."""
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        for match in re.finditer(r"refs=(\[[^\]]*\])", "".join(cell["source"])):
            yield from ast.literal_eval(match.group(1))


def test_every_cited_key_resolves():
    known = reference_keys()
    missing = {k: v for k, v in _all_citations().items() if k not in known}
    assert not missing, f"cited but not in references.yaml: {missing}"
    unverified = {k: v for k, v in _all_citations().items() if k in known and not content.reference(k).verified}
    assert not unverified, f"cited but not yet verified (no confirmed DOI/PMID): {unverified}"


def _all_citations():
    cited = {}
    for where, keys in cited_in_content():
        for key in keys:
            cited.setdefault(key, []).append(where)
    for nb in all_notebooks():
        for key in keys_cited_in_notebook(nb):
            cited.setdefault(key, []).append(str(nb.relative_to(REPO)))
    for nb in (REPO / "solutions").rglob("*.ipynb"):
        for key in cited_in_hidden_tests(nb):
            cited.setdefault(key, []).append(str(nb.relative_to(REPO)))
    return cited


def test_graded_items_carry_no_keys():
    """Assessment files are shipped with the package: the schema forbids keys, and none slipped in."""
    for path in (CONTENT / "assessments").glob("*.yaml"):
        text = path.read_text()
        for word in ("correct:", "answer:", "rationale:", "order:", "key:"):
            assert word not in text, f"{path.name} contains {word!r}"


def test_ids_are_unique_across_the_course():
    ids = [q.id for b in content.question_banks().values() for q in b.questions]
    ids += [i.id for a in content.assessments().values() for i in a.items]
    assert len(ids) == len(set(ids))


def test_graded_vignette_items_point_at_existing_vignettes():
    for assessment in content.assessments().values():
        for item in assessment.items:
            if item.vignette:
                content.vignette(item.vignette)


def test_pages_that_are_not_modules_make_no_clinical_claims_to_cite():
    for nb in (REPO / "course").glob("[!0-9]*.ipynb"):  # e.g. the progress dashboard
        sources = "".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"])
        assert "#ref-" not in sources, f"{nb.name} cites sources: make it a module with a reference list"
        assert "not medical advice" in sources


def test_every_course_notebook_cites_only_known_sources_and_has_a_reference_list():
    for nb in (REPO / "course").glob("[0-9][0-9]_*.ipynb"):
        sources = "".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"])
        assert "ui.references(" in sources, f"{nb.name} has no reference list"
        assert "not medical advice" in sources or "education" in sources
