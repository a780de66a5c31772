"""Credit for a cohort without a gradebook: the signing key's place, the evaluations' export, the release check.

Certificates issued from a real gradebook are tested end to end in test_nbgrader_e2e.py.
"""

import csv
import shutil
import stat

import nbformat
import pytest

from ketamine_course.content import CreditFactsError
from ketamine_course.core import signing
from ketamine_course.instructor import credit, release_check
from ketamine_course.runtime import nbgrader
from ketamine_course.storage import evaluation_record

from conftest import REPO


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course_root"
    root.mkdir()
    shutil.copy2(REPO / "nbgrader_config.py", root)
    return root


def test_the_signing_key_is_made_outside_the_course_and_never_overwritten(course, tmp_path):
    with pytest.raises(credit.CreditError, match="inside the course folder"):
        credit.make_signing_key(course / "keys" / "owner.pem", course)
    key = tmp_path / "keys" / "owner.pem"
    public = credit.make_signing_key(key, course)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert signing.public_key_of(key.read_bytes()) == public
    with pytest.raises(credit.CreditError, match="never overwritten"):
        credit.make_signing_key(key, course)
    with pytest.raises(credit.CreditError, match="inside the course folder"):
        credit.issue_certificates(course, key=str(course / "owner.pem"))


def test_evaluations_from_submissions_and_from_files_make_one_safe_csv(course, tmp_path):
    evaluation_record.save(
        {"relevance": 5, "professional_id": "NMC 12A3456"}, course / "submitted" / "alex" / "ps5_capstone"
    )
    sent = tmp_path / "sent"
    evaluation_record.save({"comments": '=HYPERLINK("http://x","click")', "hours_taken": 8}, sent)
    (tmp_path / "junk.json").write_text("{oops", encoding="utf-8")
    path, count, problems = credit.export_evaluations(course, files=[sent / "evaluation.json", tmp_path / "junk.json"])
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert count == 2 and path == course / "reports" / "evaluations.csv"
    assert (
        rows[0]["student_id"] == "alex" and rows[0]["relevance"] == "5" and rows[0]["professional_id"] == "NMC 12A3456"
    )
    assert rows[1]["comments"].startswith("'=HYPERLINK") and rows[1]["hours_taken"] == "8"
    assert problems and "could not be read" in problems[0]


def test_generate_assignment_checks_the_credit_facts_first(credit_yaml):
    config = nbgrader.course_config(REPO)
    assert config.GenerateAssignment.preprocessors[0] is release_check.RequireCreditFacts
    notebook = nbformat.v4.new_notebook()
    assert release_check.RequireCreditFacts()(notebook, {})[0] is notebook
    credit_yaml(None)
    with pytest.raises(CreditFactsError, match="no module may be published"):
        release_check.RequireCreditFacts()(notebook, {})


@pytest.mark.nbgrader
def test_nbgrader_releases_nothing_while_the_credit_facts_are_invalid(tmp_path):
    """A real generate_assignment, with a copy of the package whose credit.yaml sets no review within 3 years."""
    import subprocess

    from conftest import BIN, copy_course, course_env

    package = tmp_path / "package"
    shutil.copytree(REPO / "ketamine_course", package / "ketamine_course", ignore=shutil.ignore_patterns("__pycache__"))
    credit_yaml = package / "ketamine_course" / "content" / "credit.yaml"
    credit_yaml.write_text(credit_yaml.read_text().replace('review_by: "2027-12-01"', 'review_by: "2031-01-01"'))
    course = copy_course(tmp_path / "course_root", only="ps0_start_here")
    shutil.rmtree(course / "assignments")
    result = subprocess.run(
        [str(BIN / "nbgrader"), "generate_assignment", "ps0_start_here", "--force"],
        cwd=course,
        env=course_env(PYTHONPATH=str(package)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0 and "review at least every 3 years" in result.stderr
    assert not (course / "assignments" / "ps0_start_here" / "start_here_check.ipynb").exists()
