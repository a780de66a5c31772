"""No module is published (reader mode, handouts) while content/credit.yaml is missing or invalid."""

import pytest

from ketamine_course import cli


@pytest.mark.parametrize("text", [None, "review_by: 2099-01-01\n"])
@pytest.mark.parametrize("command", [["handouts", "--out", "{out}"], ["reader", "--no-browser"]])
def test_publishing_is_refused_with_a_clear_message(credit_yaml, tmp_path, capsys, command, text):
    credit_yaml(text)
    status = cli.main([part.format(out=tmp_path / "pages") for part in command])
    err = capsys.readouterr().err
    assert status == 1 and "credit facts" in err and "no module may be published" in err
    assert not (tmp_path / "pages" / "index.html").exists()
