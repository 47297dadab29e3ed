"""The statement layer every signed act shares: envelope → statement → predicate → claim.

Standard library and `govflow.trust` only, so the server, the client and the offline
verifier read a statement with the same code. An area of govflow keeps only its
predicate: the fields it reads (through `Reader`) and the claim object it returns,
registered once under its predicateType URI (`predicate`). Everything else is here, once:
the DSSE shape and payloadType check, the in-toto Statement v1 parse, the subject, nonce
and time patterns, and one error type whose `rule` names what failed.

    envelope {payload, payloadType, signatures}
      └─ read(envelope, predicate_type)                    StatementError(rule=…)
           ├─ shape: malformed_envelope · wrong_payload_type
           ├─ Statement.parse (RFC 8785 bytes, no duplicate keys)   malformed_statement
           ├─ REGISTRY[predicate_type] · wrong_predicate_type · one subject
           └─ predicate.parse(statement, Reader) → claim            invalid_field (path)

The signature is checked elsewhere (`govflow.keys.verification` on the server,
`govflow.verify` offline): reading a statement never trusts it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from govflow.trust import dsse
from govflow.trust.intoto import PAYLOAD_TYPE, Statement, Subject
from govflow.trust.intoto import StatementError as _IntotoError

__all__ = ["NONCE", "PAYLOAD_TYPE", "REGISTRY", "Parsed", "Predicate", "Reader",
           "StatementError", "build", "new_nonce", "organization_subject", "predicate",
           "read", "subject_name", "system_subject"]

# The shared patterns: one spelling of each, for every predicate.
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
SYSTEM = re.compile(r"^govflow:system/(\d+)/v(\d+)$")
ORGANIZATION = re.compile(r"^govflow:organization/([a-z0-9][a-z0-9_-]{0,79})$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
HEX = re.compile(r"^[0-9a-f]{64}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
STAGE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_ITEMS = 100


class StatementError(ValueError):
    """A signed statement is refused; ``rule`` says which rule (``path`` which field).

    Rules raised here: malformed_envelope, wrong_payload_type, malformed_statement,
    wrong_predicate_type, wrong_subject, invalid_field. The server's verification adds
    no_key, bad_signature, foreign_key, unregistered_key, key_revoked, key_expired,
    replayed, nonce_unknown, nonce_expired, stale (`govflow.keys`).
    """

    def __init__(self, rule: str, message: str, *, path: str | None = None):
        super().__init__(f"{path}: {message}" if path else message)
        self.rule = rule
        self.path = path
        self.message = message


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def subject_name(system_id: int, version_number: int) -> str:
    return f"govflow:system/{system_id}/v{version_number}"


def system_subject(system_id: int, version_number: int, manifest_digest: str) -> Subject:
    return Subject(subject_name(system_id, version_number),
                   {"sha256": manifest_digest.removeprefix("sha256:")})


def organization_subject(slug: str) -> Subject:
    # An organization has no content to hash; the digest of its slug makes the subject
    # name exactly one organization, as in-toto wants every subject to carry a digest.
    return Subject(f"govflow:organization/{slug}",
                   {"sha256": hashlib.sha256(slug.encode("utf-8")).hexdigest()})


def build(subject: Subject, predicate_type: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The statement to sign, as JSON (the signer fills ``signed_at``)."""
    if predicate_type not in REGISTRY:
        raise StatementError("wrong_predicate_type", f"{predicate_type!r} is not registered")
    return Statement((subject,), predicate_type, dict(fields)).to_dict()


class Reader:
    """Typed access to a predicate; every refusal names its path."""

    def __init__(self, fields: Mapping[str, Any]):
        self.p = dict(fields)

    def fail(self, key: str, message: str) -> StatementError:
        return StatementError("invalid_field", message, path=f"predicate.{key}")

    def id(self, key: str) -> int:
        value = self.p.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(key, f"must be a positive id, got {value!r}")
        return value

    def optional_id(self, key: str, *, required: bool) -> int | None:
        """An id that only some actions carry (e.g. the hold a lift names)."""
        return None if self.p.get(key) is None and not required else self.id(key)

    def string(self, key: str, *, max_length: int = 200, allow_empty: bool = False,
               pattern: re.Pattern[str] | None = None,
               choices: tuple[str, ...] | None = None) -> str:
        value = self.p.get(key)
        if not isinstance(value, str) or (not value.strip() and not allow_empty):
            raise self.fail(key, f"must be a {'' if allow_empty else 'non-empty '}string, "
                                 f"got {value!r}")
        if len(value) > max_length:
            raise self.fail(key, f"must be at most {max_length} characters")
        if choices is not None and value not in choices:
            raise self.fail(key, f"{value!r} is not one of: {', '.join(choices)}")
        if pattern is not None and not pattern.match(value):
            raise self.fail(key, f"{value!r} does not match {pattern.pattern}")
        return value

    def organization(self, key: str, subject: Subject) -> str:
        """The organization slug at ``key``, which the statement's subject must name."""
        slug = self.string(key, pattern=SLUG, max_length=80)
        if subject != organization_subject(slug):
            raise StatementError("wrong_subject", f"must name govflow:organization/{slug}",
                                 path="subject[0]")
        return slug

    def optional(self, key: str, choices: tuple[str, ...]) -> str | None:
        return None if self.p.get(key) is None else self.string(key, choices=choices)

    def number(self, key: str, *, minimum: float = 0) -> float:
        value = self.p.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
            raise self.fail(key, f"must be a number, at least {minimum:g}")
        return float(value)

    def strs(self, key: str, *, max_length: int = 4000, pattern: re.Pattern[str] | None = None,
             choices: tuple[str, ...] | None = None, min_items: int = 0) -> list[str]:
        value = self.p.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip()
                                                  for v in value):
            raise self.fail(key, f"must be a list of non-empty strings, got {value!r}")
        if not min_items <= len(value) <= MAX_ITEMS:
            raise self.fail(key, f"must have {min_items} to {MAX_ITEMS} items")
        for v in value:
            if len(v) > max_length:
                raise self.fail(key, f"items must be at most {max_length} characters")
            if choices is not None and v not in choices:
                raise self.fail(key, f"{v!r} is not one of: {', '.join(choices)}")
            if pattern is not None and not pattern.match(v):
                raise self.fail(key, f"{v!r} does not match {pattern.pattern}")
        if len(set(value)) != len(value):
            raise self.fail(key, "lists an item twice")
        return value

    def ids(self, key: str) -> list[int]:
        value = self.p.get(key)
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
        ):
            raise self.fail(key, f"must be a list of positive ids, got {value!r}")
        if len(set(value)) != len(value):
            raise self.fail(key, "lists an id twice")
        return sorted(value)

    def time(self, key: str) -> datetime:
        raw = self.string(key, max_length=64)
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise self.fail(key, "must be an ISO 8601 time") from exc
        if moment.tzinfo is None:
            raise self.fail(key, "must name its time zone (e.g. end in Z)")
        return moment

    def attachments(self) -> list[tuple[str, str]]:
        value = self.p.get("attachments")
        if not isinstance(value, list) or len(value) > 20:
            raise self.fail("attachments", "must be a list of at most 20 {name, sha256}")
        out = []
        for n, item in enumerate(value):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not (
                0 < len(item["name"]) <= 255
            ):
                raise self.fail(f"attachments[{n}].name", "must be a file name")
            if not isinstance(item.get("sha256"), str) or not HEX.match(item["sha256"]):
                raise self.fail(f"attachments[{n}].sha256", "must be 64 lowercase hex digits")
            out.append((item["name"], item["sha256"]))
        if len({sha for _, sha in out}) != len(out):
            raise self.fail("attachments", "lists a digest twice")
        return out


@dataclass(frozen=True)
class Predicate:
    """One registered predicate: its type URI, what its subject names, and its parser."""

    type: str
    subject: str  # "system" (govflow:system/<id>/v<n>) or "organization"
    parse: Callable[[Reader, Subject], Any]


REGISTRY: dict[str, Predicate] = {}


def predicate(type_uri: str, *, subject: str) -> Callable[[Callable[[Reader, Subject], Any]],
                                                            Callable[[Reader, Subject], Any]]:
    """Register ``parse(reader, subject) -> claim`` as the one reader of ``type_uri``."""
    if subject not in ("system", "organization"):
        raise ValueError(f"unknown subject kind {subject!r}")

    def register(parse: Callable[[Reader, Subject], Any]) -> Callable[[Reader, Subject], Any]:
        if type_uri in REGISTRY:
            raise ValueError(f"predicate {type_uri} is registered twice")
        REGISTRY[type_uri] = Predicate(type_uri, subject, parse)
        return parse

    return register


@dataclass(frozen=True)
class Parsed:
    """A statement read and checked for shape; nothing here is trusted yet."""

    predicate_type: str
    statement: dict[str, Any]  # the statement as JSON, as signed
    claim: Any
    nonce: str
    signed_at: str  # the signer's claim: recorded, never trusted
    subject_name: str
    subject_digest: str  # "sha256:<hex>"
    payload: bytes
    envelope: dict[str, Any]  # the DSSE fields only (unknown fields never ride into the log)
    hints: tuple[str, ...]  # keyid hints: unauthenticated, they only pick the key to try


def _shape(envelope: Any) -> tuple[str, bytes, dict[str, Any], tuple[str, ...]]:
    if not isinstance(envelope, Mapping):
        raise StatementError("malformed_envelope", "the envelope must be a JSON object")
    for field, kind in (("payload", str), ("payloadType", str), ("signatures", list)):
        if not isinstance(envelope.get(field), kind):
            raise StatementError("malformed_envelope",
                                 f"the envelope needs {field!r} ({kind.__name__})")
    if envelope["payloadType"] != PAYLOAD_TYPE:
        raise StatementError("wrong_payload_type", f"payloadType is "
                             f"{envelope['payloadType']!r}, expected {PAYLOAD_TYPE!r}")
    signatures = envelope["signatures"]
    if not signatures or not all(isinstance(s, Mapping) and isinstance(s.get("sig"), str)
                                 for s in signatures):
        raise StatementError("malformed_envelope",
                             "the envelope needs at least one signature {keyid, sig}")
    try:
        payload_type, payload, _ = dsse.parse_envelope(envelope)
    except dsse.EnvelopeError as exc:
        raise StatementError("malformed_envelope", str(exc)) from exc
    kept = {"payload": envelope["payload"], "payloadType": payload_type,
            "signatures": [{"keyid": s.get("keyid") or "", "sig": s["sig"]}
                           for s in signatures]}
    hints = tuple(s["keyid"] for s in kept["signatures"] if s["keyid"])
    return payload_type, payload, kept, hints


def parse_payload(payload: bytes, predicate_type: str) -> tuple[Statement, Any, Reader]:
    """The statement in ``payload`` as the registered ``predicate_type`` reads it."""
    try:
        statement = Statement.parse(payload)
    except _IntotoError as exc:
        raise StatementError("malformed_statement", str(exc), path="statement") from exc
    if statement.predicate_type != predicate_type:
        raise StatementError("wrong_predicate_type", f"must be {predicate_type!r}, got "
                             f"{statement.predicate_type!r}", path="predicateType")
    spec = REGISTRY.get(predicate_type)
    if spec is None:
        raise StatementError("wrong_predicate_type", f"{predicate_type!r} is not registered",
                             path="predicateType")
    if len(statement.subjects) != 1:
        raise StatementError("wrong_subject", "names exactly one subject", path="subject")
    subject = statement.subjects[0]
    pattern = SYSTEM if spec.subject == "system" else ORGANIZATION
    if not pattern.match(subject.name) or set(subject.digest) != {"sha256"}:
        shape = ("govflow:system/<id>/v<number> with its manifest's sha256"
                 if spec.subject == "system" else "govflow:organization/<slug>, sha256(slug)")
        raise StatementError("wrong_subject", f"must be {shape}", path="subject[0]")
    reader = Reader(statement.predicate)
    reader.string("nonce", pattern=NONCE, max_length=128)
    reader.time("signed_at")
    return statement, spec.parse(reader, subject), reader


def read(envelope: Any, predicate_type: str) -> Parsed:
    """Read a DSSE envelope around a statement of ``predicate_type``. Checks shape only."""
    _, payload, kept, hints = _shape(envelope)
    statement, claim, reader = parse_payload(payload, predicate_type)
    subject = statement.subjects[0]
    return Parsed(
        predicate_type=predicate_type, statement=statement.to_dict(), claim=claim,
        nonce=reader.p["nonce"], signed_at=reader.p["signed_at"], subject_name=subject.name,
        subject_digest="sha256:" + subject.digest["sha256"], payload=payload, envelope=kept,
        hints=hints,
    )
