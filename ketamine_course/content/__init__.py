"""Loading the course's content files (YAML) and checking them against the models.

Files live in the package's `content/` folder: `course.yaml` (title, start page, disclaimer), `references.yaml`, `quizzes/*.yaml` (formative
question banks, with keys), `assessments/*.yaml` (graded items, no keys), `vignettes/*.yaml` and `data/*.yaml` (the numbers
behind figures, each row with its source).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from ketamine_course.content.models import (
    Assessment,
    CourseFacts,
    CreditFacts,
    DataSet,
    QuestionBank,
    ReferenceLibrary,
    RegulatoryComparison,
    VignetteSet,
)
from ketamine_course.core.errors import CourseError

CONTENT_DIR = Path(str(resources.files("ketamine_course") / "content"))


class ContentError(CourseError, LookupError):
    """A content file or an id that the course cannot find."""


# libyaml's parser when PyYAML was built with it (about eight times faster), else PyYAML's own; both are safe.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path):
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_SAFE_LOADER)


@lru_cache(maxsize=None)
def course_facts() -> CourseFacts:
    """The course's title, start page and disclaimer (`content/course.yaml`)."""
    return CourseFacts.model_validate(_read_yaml(CONTENT_DIR / "course.yaml"))


class CreditFactsError(ContentError):
    """The course's credit facts (credit.yaml) are missing or fail their schema: nothing may be published."""


@lru_cache(maxsize=None)
def credit_facts() -> CreditFacts:
    """What continuing education asks of the course (`content/credit.yaml`), checked against the rest of it."""
    path = CONTENT_DIR / "credit.yaml"
    where = f"The course's credit facts ({path})"
    try:
        facts = CreditFacts.model_validate(_read_yaml(path))
    except FileNotFoundError:
        raise CreditFactsError(f"{where} are missing: no module may be published without them.") from None
    except (yaml.YAMLError, ValueError) as error:
        raise CreditFactsError(f"{where} are not valid, so no module may be published:\n{error}") from None
    problems = _credit_problems(facts)
    if problems:
        raise CreditFactsError(f"{where} disagree with the course:\n" + "\n".join(f"- {p}" for p in problems))
    return facts


def _credit_problems(facts: CreditFacts) -> list:
    """What credit.yaml says that the rest of the content contradicts."""
    problems = []
    modules = {m.module for m in facts.modules}
    if modules != set(question_banks()):
        problems.append(f"modules {sorted(modules)} are not the quiz banks' {sorted(question_banks())}")
    if {m.assignment for m in facts.modules} != set(assessments()):
        problems.append("every assessment needs one module entry")
    known = {r.key for r in reference_library().references}
    problems += [f"unknown reference {k}" for use in facts.off_label for k in use.refs if k not in known]
    if facts.release_date < reference_library().evidence_current_to:
        problems.append("release_date comes before the date the evidence is current to")
    return problems


@lru_cache(maxsize=None)
def reference_library() -> ReferenceLibrary:
    return ReferenceLibrary.model_validate(_read_yaml(CONTENT_DIR / "references.yaml"))


def reference(key: str):
    for ref in reference_library().references:
        if ref.key == key:
            return ref
    raise ContentError(f"No reference with key {key!r} in references.yaml")


def _every_file(folder: str, model) -> list:
    """Every YAML file of a content folder, checked against its model, in file-name order."""
    return [model.model_validate(_read_yaml(path)) for path in sorted((CONTENT_DIR / folder).glob("*.yaml"))]


@lru_cache(maxsize=None)
def question_banks() -> dict:
    """Every formative bank, by module key."""
    return {bank.module: bank for bank in _every_file("quizzes", QuestionBank)}


@lru_cache(maxsize=None)
def assessments() -> dict:
    """Every graded assessment (items without keys), by assignment name."""
    return {assessment.assignment: assessment for assessment in _every_file("assessments", Assessment)}


@lru_cache(maxsize=None)
def vignettes() -> dict:
    return {vignette.id: vignette for group in _every_file("vignettes", VignetteSet) for vignette in group.vignettes}


@lru_cache(maxsize=None)
def dataset(name: str) -> DataSet:
    """The data behind a figure or table: `content/data/<name>.yaml`, a source on every row."""
    path = CONTENT_DIR / "data" / f"{name}.yaml"
    if not path.exists():
        raise ContentError(f"No data file {path.name}")
    return DataSet.model_validate(_read_yaml(path))


def _one(entries, wanted: str, missing: str):
    for entry in entries:
        if entry.id == wanted:
            return entry
    raise ContentError(missing)


def question(question_id: str):
    every = (q for bank in question_banks().values() for q in bank.questions)
    return _one(every, question_id, f"No formative question {question_id!r}")


def graded_item(item_id: str):
    every = (item for assessment in assessments().values() for item in assessment.items)
    return _one(every, item_id, f"No graded item {item_id!r}")


def objective(objective_id: str):
    groups = list(question_banks().values()) + list(assessments().values())
    return _one(
        (o for group in groups for o in group.objectives), objective_id, f"No learning objective {objective_id!r}"
    )


def vignette(vignette_id: str):
    try:
        return vignettes()[vignette_id]
    except KeyError:
        raise ContentError(f"No vignette {vignette_id!r}") from None


@lru_cache(maxsize=None)
def screening_rules():
    """The screening checklist's rule table: `content/screening_rules.yaml`."""
    from ketamine_course.core.screening import RuleTable

    return RuleTable.model_validate(_read_yaml(CONTENT_DIR / "screening_rules.yaml"))


SCENARIO_FILE = CONTENT_DIR / "monitoring_scenarios.yaml"


@lru_cache(maxsize=None)
def monitoring_scenarios():
    """The session simulator's scenarios and protocol: `content/monitoring_scenarios.yaml`."""
    from ketamine_course.core.monitoring import library_from_data

    return library_from_data(_read_yaml(SCENARIO_FILE))


@lru_cache(maxsize=None)
def regulatory_comparison():
    """The US/EU side-by-side table for esketamine: `content/data/regulatory_us_eu.yaml`."""
    return RegulatoryComparison.model_validate(_read_yaml(CONTENT_DIR / "data" / "regulatory_us_eu.yaml"))
