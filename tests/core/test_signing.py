"""Signing a record and checking it offline; spreadsheet-safe cells."""

import pytest

from ketamine_course.core import signing
from ketamine_course.core.spreadsheet import safe_cell

RECORD = {"name": "Dr Alex Morgan", "hours": 11.5, "scores": [{"assignment": "ps0", "points": 7}]}


@pytest.fixture(scope="module")
def owner_key():
    return signing.new_private_key()


def test_a_signed_record_checks_out_only_with_the_signers_key_trusted(owner_key):
    signature = signing.sign(RECORD, owner_key)
    owner = signature["fingerprint"]
    assert owner == signing.fingerprint(signing.public_key_of(owner_key))
    assert signing.check(RECORD, signature, {owner}).ok
    untrusted = signing.check(RECORD, signature, set())
    assert untrusted.intact and not untrusted.trusted and owner in untrusted.reason


@pytest.mark.parametrize("change", [("name", "Dr Alex Morgen"), ("hours", 12), ("scores", [])])
def test_any_change_to_the_record_breaks_the_signature(owner_key, change):
    signature = signing.sign(RECORD, owner_key)
    verdict = signing.check({**RECORD, change[0]: change[1]}, signature, {signature["fingerprint"]})
    assert not verdict.intact and not verdict.ok and "changed" in verdict.reason


def test_a_record_resigned_with_another_key_is_intact_but_not_trusted(owner_key):
    owner = signing.sign(RECORD, owner_key)["fingerprint"]
    forged = signing.sign({**RECORD, "hours": 40}, signing.new_private_key())
    verdict = signing.check({**RECORD, "hours": 40}, forged, {owner})
    assert verdict.intact and not verdict.trusted and not verdict.ok


@pytest.mark.parametrize("signature", [None, {}, {"algorithm": "Ed25519", "public_key": "!!", "value": ""}])
def test_a_missing_or_damaged_signature_is_refused_not_crashed(signature):
    assert not signing.check(RECORD, signature, set()).ok


def test_a_key_that_is_not_ed25519_pem_gets_a_clear_message():
    with pytest.raises(signing.SigningKeyError, match="could not be read"):
        signing.sign(RECORD, b"not a key")


@pytest.mark.parametrize(
    "value, safe",
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1+1", "'+1+1"),
        ("-inf", "'-inf"),
        ("-2.0", "-2.0"),  # a number read back from a CSV stays a number
        ("+3", "+3"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("Dr Lee", "Dr Lee"),
        (-2.5, -2.5),
        (11.5, 11.5),
        (None, ""),
    ],
)
def test_spreadsheet_cells_never_start_a_formula(value, safe):
    assert safe_cell(value) == safe
