"""The key-certificate predicates: a regulator binds a person's signing key to them.

- key certificate (a regulator certifies that a public key is this person's, acting in
  this role for this lab, for a period)::

    subject: govflow:organization/<lab slug>
    predicate: {user_id, username, organization, organization_id, role, key_id,
                public_key, valid_from, valid_until}

- key-certificate revocation (a regulator withdraws one, effective from when it is
  logged)::

    subject: govflow:organization/<lab slug>
    predicate: {certificate, key_id, organization, reason}

  A revocation withdraws every certificate of that key logged before it (the one it
  names and any other): the key is what the regulator no longer vouches for.

Every predicate also carries `nonce` and `signed_at` (the signer's claim, never trusted).
The certificate carries the public key itself, so the offline verifier needs nothing
but the regulator's pinned key to know which key the regulator vouched for (the key's
own registration event is written by the lab's server). Standard library and
`govflow.trust` only: the client builds with these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from govflow.trust.intoto import Subject
from govflow.trust.keys import (
    KeyFormatError,
    parse_public_key,
    public_key_id,
    public_key_to_base64,
)
from govflow.trust.statements import (
    HEX,
    NAME,
    Reader,
    StatementError,
    build,
    new_nonce,
    organization_subject,
    predicate,
)

_A = "https://govflow.dev/attestations/"
KEY_CERTIFICATE_PREDICATE = _A + "key-certificate/v1"
KEY_CERTIFICATE_REVOCATION_PREDICATE = _A + "key-certificate-revocation/v1"
USERNAME_LENGTH = 150


@dataclass(frozen=True)
class KeyCertificateClaim:
    user_id: int
    username: str
    organization: str
    organization_id: int
    role: str
    key_id: str
    public_key: str
    valid_from: datetime
    valid_until: datetime
    nonce: str
    signed_at: str


@dataclass(frozen=True)
class KeyCertificateRevocationClaim:
    certificate: int
    key_id: str
    organization: str
    reason: str
    nonce: str
    signed_at: str


def build_key_certificate(*, user_id: int, username: str, organization: str,
                          organization_id: int, role: str, public_key: str,
                          valid_from: str, valid_until: str, nonce: str | None = None,
                          signed_at: str | None = None) -> dict[str, Any]:
    """The statement a regulator signs to certify ``public_key`` (base64 of the raw 32
    bytes, or PEM) as the key of user ``user_id`` acting as ``role`` for ``organization``
    (slug; ``organization_id`` its id, which the log's events name it by)."""
    try:
        key = parse_public_key(public_key)
    except KeyFormatError as exc:
        raise StatementError("invalid_field", str(exc), path="predicate.public_key") from exc
    return build(organization_subject(organization), KEY_CERTIFICATE_PREDICATE, {
        "user_id": user_id, "username": username, "organization": organization,
        "organization_id": organization_id, "role": role, "key_id": public_key_id(key),
        "public_key": public_key_to_base64(key), "valid_from": valid_from,
        "valid_until": valid_until, "nonce": nonce or new_nonce(), "signed_at": signed_at})


def build_key_certificate_revocation(*, certificate: int, key_id: str, organization: str,
                                     reason: str, nonce: str | None = None,
                                     signed_at: str | None = None) -> dict[str, Any]:
    return build(organization_subject(organization), KEY_CERTIFICATE_REVOCATION_PREDICATE, {
        "certificate": certificate, "key_id": key_id, "organization": organization,
        "reason": reason, "nonce": nonce or new_nonce(), "signed_at": signed_at})


@predicate(KEY_CERTIFICATE_PREDICATE, subject="organization")
def _key_certificate(r: Reader, subject: Subject) -> KeyCertificateClaim:
    organization = r.organization("organization", subject)
    key_id = r.string("key_id", pattern=HEX, max_length=64)
    public_key = r.string("public_key", max_length=2000)
    try:
        parsed = parse_public_key(public_key)
    except KeyFormatError as exc:
        raise r.fail("public_key", str(exc)) from exc
    # The id is the key's SHA-256: a certificate cannot name one key and carry another.
    if public_key_id(parsed) != key_id:
        raise r.fail("key_id", "is not the id (SHA-256) of public_key")
    valid_from, valid_until = r.time("valid_from"), r.time("valid_until")
    if valid_until <= valid_from:
        raise r.fail("valid_until", "must be after valid_from")
    return KeyCertificateClaim(
        user_id=r.id("user_id"), username=r.string("username", max_length=USERNAME_LENGTH),
        organization=organization, organization_id=r.id("organization_id"),
        role=r.string("role", pattern=NAME, max_length=32),
        key_id=key_id, public_key=public_key, valid_from=valid_from, valid_until=valid_until,
        nonce=r.p["nonce"], signed_at=r.p["signed_at"],
    )


@predicate(KEY_CERTIFICATE_REVOCATION_PREDICATE, subject="organization")
def _key_certificate_revocation(r: Reader, subject: Subject) -> KeyCertificateRevocationClaim:
    return KeyCertificateRevocationClaim(
        certificate=r.id("certificate"), key_id=r.string("key_id", pattern=HEX, max_length=64),
        organization=r.organization("organization", subject),
        reason=r.string("reason", max_length=4000),
        nonce=r.p["nonce"], signed_at=r.p["signed_at"],
    )
