"""Signing a record and checking it offline: Ed25519 over the record's canonical JSON.

The signer holds a private key (PEM bytes, read by the caller); anyone holding the signed record can
check it with the public key carried in the signature, and trusts it only when that key's
fingerprint is one they were given by the course owner.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ketamine_course.core.errors import CourseError

ALGORITHM = "Ed25519"


class SigningKeyError(CourseError):
    """The signing key cannot be used; the message says why."""


def canonical(record: dict) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def fingerprint(public_key: str) -> str:
    """The SHA-256 of the raw public key, in hex: what the course owner publishes."""
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()


def new_private_key() -> bytes:
    """A fresh Ed25519 private key as unencrypted PKCS#8 PEM."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _private_key(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise SigningKeyError(f"The signing key could not be read ({error}).") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError("The signing key is not an Ed25519 key: make one with `make-signing-key`.")
    return key


def public_key_of(pem: bytes) -> str:
    """The public half of a private key, raw and base64-encoded."""
    raw = _private_key(pem).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def sign(record: dict, pem: bytes) -> dict:
    """The signature of `record`: algorithm, public key, its fingerprint and the signature value."""
    public = public_key_of(pem)
    value = _private_key(pem).sign(canonical(record))
    return {
        "algorithm": ALGORITHM,
        "public_key": public,
        "fingerprint": fingerprint(public),
        "value": base64.b64encode(value).decode("ascii"),
    }


@dataclass(frozen=True)
class Verdict:
    intact: bool  # the record is exactly what the key signed
    trusted: bool  # the key is one the checker trusts
    fingerprint: str  # of the key that signed, '' when unknown
    reason: str  # plain language: what was found

    @property
    def ok(self) -> bool:
        return self.intact and self.trusted


def check(record: dict, signature, trusted: set) -> Verdict:
    """Is `signature` a valid signature of `record`, and by a key whose fingerprint is in `trusted`?"""
    if not isinstance(signature, dict) or signature.get("algorithm") != ALGORITHM:
        return Verdict(False, False, "", "It carries no Ed25519 signature.")
    try:
        raw = base64.b64decode(signature["public_key"], validate=True)
        value = base64.b64decode(signature["value"], validate=True)
        Ed25519PublicKey.from_public_bytes(raw).verify(value, canonical(record))
    except (KeyError, TypeError, ValueError, InvalidSignature):
        return Verdict(False, False, "", "Its signature does not match its contents: it was changed after signing.")
    found = hashlib.sha256(raw).hexdigest()
    if found not in trusted:
        return Verdict(True, False, found, f"It is intact, but signed by a key the course has not published ({found}).")
    return Verdict(True, True, found, "It is intact and signed by the course's key.")
