"""nbgrader reusing its gradebook engines and schema validators: the same results, put back afterwards."""

from __future__ import annotations

import nbformat
import nbgrader.api
import pytest
from nbgrader.api import Gradebook
from nbgrader.nbgraderformat import MetadataValidator, ValidationError

from ketamine_course.instructor.nbgrader_reuse import reused_by_nbgrader

GRADE_CELL = {"grade": True, "grade_id": "q1", "locked": False, "points": 1, "schema_version": 3, "solution": False}


def _cell(**changes):
    return nbformat.v4.new_code_cell("", metadata={"nbgrader": dict(GRADE_CELL, task=False, **changes)})


def _metadata_error(cell) -> str:
    with pytest.raises(ValidationError) as raised:
        MetadataValidator().validate_cell(cell)
    return raised.value.message


@pytest.fixture
def gradebook_url(tmp_path):
    return f"sqlite:///{tmp_path / 'gradebook.db'}"


@pytest.mark.filterwarnings("ignore")
def test_gradebooks_share_one_engine_within_the_block_only(gradebook_url):
    original = nbgrader.api.create_engine
    with reused_by_nbgrader():
        with Gradebook(gradebook_url, "course") as first:
            first.add_student("s001")
            engine = first.engine
        with Gradebook(gradebook_url, "course") as second:
            assert second.engine is engine
            assert second.find_student("s001").id == "s001"
    assert nbgrader.api.create_engine is original
    with Gradebook(gradebook_url, "course") as after:
        assert after.engine is not engine
        assert after.find_student("s001").id == "s001"


def test_metadata_checks_raise_what_jsonschema_raises():
    wrong = [_cell(points="one"), _cell(grade_id=3), _cell(extra_key=True)]
    expected = [_metadata_error(cell) for cell in wrong]
    with reused_by_nbgrader():
        MetadataValidator().validate_cell(_cell())  # a valid grade cell passes
        assert [_metadata_error(cell) for cell in wrong * 2] == expected * 2  # the kept validator, used again
    assert [_metadata_error(cell) for cell in wrong] == expected
