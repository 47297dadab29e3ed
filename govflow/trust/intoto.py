"""in-toto Statement v1 (in-toto/attestation spec/v1/statement.md), signed as DSSE.

A statement binds a predicate (an eval report, a finding, a sign-off) to the exact artifacts it
is about, named by digest: an auditor's finding signed against one system manifest cannot be
reused for another. Statements are serialised as RFC 8785 canonical JSON so that the same
statement always has the same bytes, and so the same digest, on server and client.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from govflow.core.boundedjson import parse_json
from govflow.trust import dsse
from govflow.trust.canonical import CanonicalizationError, canonical_json

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"  # the DSSE payloadType for statements

_HEX_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


class StatementError(ValueError):
    """A statement is malformed, or its envelope does not verify."""


@dataclass(frozen=True)
class Subject:
    name: str
    digest: Mapping[str, str]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise StatementError("subject name must be a non-empty string")
        if not isinstance(self.digest, Mapping) or not self.digest:
            raise StatementError(f"subject {self.name!r} needs a digest set")
        for alg, value in self.digest.items():
            if not isinstance(alg, str) or not isinstance(value, str) or not alg or not value:
                raise StatementError(f"subject {self.name!r} has a malformed digest entry")
            # DigestSet: hex digests are lowercase; enforce it for the algorithms we know so
            # that one artifact has exactly one spelling.
            length = _HEX_DIGEST_LENGTHS.get(alg)
            if length is not None and not re.fullmatch(f"[0-9a-f]{{{length}}}", value):
                raise StatementError(f"subject {self.name!r} {alg} must be {length} lowercase hex")
        object.__setattr__(self, "digest", dict(self.digest))

    @classmethod
    def for_bytes(cls, name: str, data: bytes) -> Subject:
        return cls(name, {"sha256": hashlib.sha256(data).hexdigest()})

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "digest": dict(self.digest)}


@dataclass(frozen=True)
class Statement:
    subjects: tuple[Subject, ...]
    predicate_type: str
    predicate: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        subjects = tuple(self.subjects)
        if not subjects or not all(isinstance(s, Subject) for s in subjects):
            raise StatementError("a statement needs at least one subject")
        if not isinstance(self.predicate_type, str) or not self.predicate_type:
            raise StatementError("predicateType must be a non-empty string (a URI)")
        if not isinstance(self.predicate, Mapping):
            raise StatementError("predicate must be a JSON object")
        object.__setattr__(self, "subjects", subjects)

    def to_dict(self) -> dict[str, Any]:
        return {
            "_type": STATEMENT_TYPE,
            "subject": [s.to_dict() for s in self.subjects],
            "predicateType": self.predicate_type,
            "predicate": dict(self.predicate),
        }

    def to_json(self) -> bytes:
        """Canonical (RFC 8785) bytes: the DSSE payload and the input to any digest."""
        try:
            return canonical_json(self.to_dict())
        except CanonicalizationError as exc:
            raise StatementError(f"statement is not canonicalisable: {exc}") from exc

    @classmethod
    def from_dict(cls, data: Any) -> Statement:
        if not isinstance(data, Mapping):
            raise StatementError("statement must be a JSON object")
        if data.get("_type") != STATEMENT_TYPE:
            raise StatementError(f"_type must be {STATEMENT_TYPE!r}, got {data.get('_type')!r}")
        raw_subjects = data.get("subject")
        if not isinstance(raw_subjects, list) or not raw_subjects:
            raise StatementError("subject must be a non-empty list")
        subjects = []
        for raw in raw_subjects:
            if not isinstance(raw, Mapping):
                raise StatementError("each subject must be a JSON object")
            subjects.append(Subject(raw.get("name"), raw.get("digest")))  # type: ignore[arg-type]
        # statement.md: predicate is optional; unknown fields are ignored.
        predicate = data.get("predicate", {})
        return cls(tuple(subjects), data.get("predicateType"), predicate)  # type: ignore[arg-type]

    @classmethod
    def parse(cls, payload: bytes | str) -> Statement:
        try:
            # JSON exchanged between systems MUST be UTF-8 (RFC 8259 §8.1); parse_json
            # decodes it as such, bounds the nesting before parsing and refuses control
            # characters (a statement's stored copy must be storable).
            data = parse_json(payload, object_pairs_hook=_no_duplicates, parse_constant=_no_nan)
        except (ValueError, TypeError) as exc:  # JSONDecodeError, UnicodeDecodeError, refused
            raise StatementError(f"statement is not valid JSON: {exc}") from exc
        return cls.from_dict(data)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A duplicated key means two parsers may read two different statements from one signature.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise StatementError(f"duplicate JSON key {key!r}")
        out[key] = value
    return out


def _no_nan(token: str) -> Any:
    raise StatementError(f"{token} is not valid JSON")


def sign_statement(
    statement: Statement, private_key: Ed25519PrivateKey, keyid: str | None = None
) -> dict[str, Any]:
    return dsse.sign_envelope(statement.to_json(), PAYLOAD_TYPE, private_key, keyid)


def verify_statement(
    envelope: Mapping[str, Any],
    keys: Mapping[str, Ed25519PublicKey],
    *,
    predicate_type: str | None = None,
) -> tuple[Statement, str]:
    """Verify a DSSE-wrapped statement; return it and the id of the key that signed it."""
    try:
        verified = dsse.verify_envelope(envelope, keys, payload_type=PAYLOAD_TYPE)
    except dsse.EnvelopeError as exc:
        raise StatementError(f"statement envelope: {exc}") from exc
    statement = Statement.parse(verified.payload)
    if predicate_type is not None and statement.predicate_type != predicate_type:
        raise StatementError(
            f"predicateType is {statement.predicate_type!r}, expected {predicate_type!r}"
        )
    return statement, verified.keyid
