"""Client commands for key certificates (regulators) and for auditing the keys the log
binds to you (everyone).

``key-certify``: a regulator certifies a lab signer's key. She names the key by the id
(SHA-256 fingerprint) the signer gave her in person, not by what the server lists: the
command refuses if the server's public key for that person does not hash to it.

``keys audit``: the lab's server can register a key in your name. This lists every key
the log binds to you (registrations, rotations, revocations and regulator certificates,
read from the events' logged canonical bytes, each checked against its leaf hash, and
with ``--log-key`` proven included in the newest checkpoint) and flags each one whose
public key this client does not hold. The keys you hold are the key files you name with
``--key`` and those in your key directory: ``--key-dir``, else ``$GOVFLOW_KEYS_DIR``,
else ``~/.config/govflow/keys`` (``*.pem`` private keys as ``keygen`` writes them, or
``*.pub`` files holding an old public key you retired).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govflow.client import signing
from govflow.client.remote import Api, ClientError
from govflow.core.times import rfc3339
from govflow.keys import certificate_predicates as p
from govflow.trust import dsse
from govflow.trust.keys import (
    KeyFormatError,
    load_private_key,
    parse_public_key,
    public_key_id,
)
from govflow.trust.statements import StatementError, parse_payload

KEYS_ENV = "GOVFLOW_KEYS_DIR"
KEY_EVENTS = ("key.registered", "key.rotated", "key.revoked")
CERTIFICATE_EVENTS = ("key_certificate.issued", "key_certificate.revoked")


def default_key_dir() -> Path:
    configured = os.environ.get(KEYS_ENV)
    return Path(configured) if configured else Path.home() / ".config/govflow/keys"


# --- certifying (regulators) ---------------------------------------------------------------


def key_certify(api: Api, key: Ed25519PrivateKey, *, user: str, key_id: str, role: str,
                valid_days: int = 365, valid_from: str | None = None) -> dict[str, Any]:
    """Certify ``user``'s key ``key_id`` for ``role`` in their lab, for ``valid_days``."""
    rows = [r for r in api.pages("keys", user=user) if r["key_id"] == key_id]
    if not rows:
        raise ClientError(f"the server lists no key {key_id} for {user}")
    row = rows[0]
    if public_key_id(parse_public_key(row["public_key"])) != key_id:
        raise ClientError(f"the server's public key for {key_id} does not hash to it; "
                          "not certifying")
    if not row.get("organization"):
        raise ClientError(f"{user} belongs to no organization")
    start = (datetime.fromisoformat(valid_from.replace("Z", "+00:00")) if valid_from
             else datetime.now(UTC).replace(microsecond=0))
    statement = p.build_key_certificate(
        user_id=row["user_id"], username=user, organization=row["organization"]["slug"],
        organization_id=row["organization"]["id"], role=role, public_key=row["public_key"],
        valid_from=rfc3339(start),
        valid_until=rfc3339(start + timedelta(days=valid_days)))
    return api.post("key-certificates", {"envelope": signing.sign(statement, key)})


def key_certificate_revoke(api: Api, key: Ed25519PrivateKey, *, certificate: int,
                           reason: str) -> dict[str, Any]:
    row = api.get(f"key-certificates/{certificate}")
    statement = p.build_key_certificate_revocation(
        certificate=certificate, key_id=row["key_id"], organization=row["organization"],
        reason=reason)
    return api.post(f"key-certificates/{certificate}/revoke",
                    {"envelope": signing.sign(statement, key)})


# --- auditing the keys bound to me ---------------------------------------------------------


def held_key_ids(key_files: list[Path], key_dir: Path | None) -> dict[str, Path]:
    """key id -> file, for every key this client holds."""
    files = list(key_files)
    if key_dir is not None and key_dir.is_dir():
        files += sorted([*key_dir.glob("*.pem"), *key_dir.glob("*.pub")])
    held: dict[str, Path] = {}
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
            public = (load_private_key(path).public_key() if "PRIVATE KEY" in text
                      else parse_public_key(text.strip()))
        except (OSError, KeyFormatError, ValueError) as exc:
            raise ClientError(f"cannot read key file {path}: {exc}") from exc
        held[public_key_id(public)] = path
    return held


@dataclass
class LoggedKey:
    key_id: str
    events: list[str] = field(default_factory=list)
    revoked: bool = False
    certificates: list[str] = field(default_factory=list)


def _body(row: dict[str, Any]) -> dict[str, Any]:
    """The event as the log's leaf commits to it (not the API's payload column)."""
    canonical = row["canonical"]
    leaf = hashlib.sha256(b"\x00" + canonical.encode("utf-8")).hexdigest()
    if leaf != row.get("leaf_hash"):
        raise ClientError(f"event {row['id']}: its canonical bytes do not hash to its leaf "
                          "hash: the server altered it")
    body: dict[str, Any] = json.loads(canonical)
    return body


def _certificate_claim(body: dict[str, Any], predicate_type: str) -> Any:
    try:
        _, raw, _ = dsse.parse_envelope(body["payload"]["envelope"])
        return parse_payload(raw, predicate_type)[1]
    except (KeyError, dsse.EnvelopeError, StatementError) as exc:
        raise ClientError(f"a {body.get('type')} event carries no readable statement: "
                          f"{exc}") from exc


def keys_bound_to(api: Api, user_id: int) -> tuple[dict[str, LoggedKey], list[dict[str, Any]]]:
    """(key id -> what the log says of it, the events read) for ``user_id``."""
    keys: dict[str, LoggedKey] = {}
    read: list[dict[str, Any]] = []

    def entry(key_id: str) -> LoggedKey:
        return keys.setdefault(key_id, LoggedKey(key_id))

    rows = sorted((r for t in (*KEY_EVENTS, *CERTIFICATE_EVENTS)
                   for r in api.pages("log/events", type=t)), key=lambda r: r["id"])
    for row in rows:
        body = _body(row)
        kind, payload, at = body["type"], body["payload"], body["at"]
        if kind in KEY_EVENTS and payload.get("user_id") == user_id:
            read.append(row)
            if kind != "key.revoked":
                if public_key_id(parse_public_key(payload["public_key"])) != payload["key_id"]:
                    raise ClientError(f"event {row['id']}: key id {payload['key_id']} is not "
                                      "the id of the public key it registers")
                entry(payload["key_id"]).events.append(f"{kind} at {at} (event {row['id']})")
            revoked = payload.get("revoked_key_id") or (
                payload["key_id"] if kind == "key.revoked" else None)
            if revoked:
                entry(revoked).revoked = True
                entry(revoked).events.append(f"revoked at {at} (event {row['id']})")
        elif kind == "key_certificate.issued":
            claim = _certificate_claim(body, p.KEY_CERTIFICATE_PREDICATE)
            if claim.user_id == user_id:
                read.append(row)
                entry(claim.key_id).certificates.append(
                    f"certified by {body['actor']['username']} as {claim.role} of "
                    f"{claim.organization}, {rfc3339(claim.valid_from)} to "
                    f"{rfc3339(claim.valid_until)} (event {row['id']})")
        elif kind == "key_certificate.revoked" and payload.get("certified_user_id") == user_id:
            claim = _certificate_claim(body, p.KEY_CERTIFICATE_REVOCATION_PREDICATE)
            read.append(row)
            entry(claim.key_id).certificates.append(
                f"certificates revoked by {body['actor']['username']} at {at} "
                f"(event {row['id']})")
    return keys, read


def keys_audit(api: Api, *, key_files: list[Path], key_dir: Path | None,
               log_key: str | None = None, witnesses: list[str] | None = None,
               quorum: int | None = None) -> tuple[list[str], int]:
    """(report lines, how many keys bound to me this client does not hold)."""
    from govflow.client.receipts import verify_one
    from govflow.verify.witnesses import parse_witnesses

    me = api.get("me")
    held = held_key_ids(key_files, key_dir)
    keys, read = keys_bound_to(api, me["id"])
    lines: list[str] = []
    if log_key:
        pinned, needed = parse_witnesses(list(witnesses or []), quorum)
        for row in read:
            verdict, _ = verify_one(api, {"uuid": row["uuid"], "event": row["id"],
                                          "leaf_hash": row["leaf_hash"]},
                                    log_key=log_key, witnesses=pinned, quorum=needed)
            if verdict.status != "ok":
                lines.append(f"LOG      event {row['id']}: {verdict.status}: {verdict.detail}")
    else:
        lines.append("note     without --log-key the events are checked against their leaf "
                     "hashes only, not proven included in a signed checkpoint")
    unheld = 0
    for key_id, key in keys.items():
        mark = "held" if key_id in held else "NOT HELD"
        unheld += key_id not in held
        state = "revoked" if key.revoked else "active"
        where = f" ({held[key_id]})" if key_id in held else ""
        lines.append(f"{mark:8} {key_id} {state}{where}")
        lines += [f"           {e}" for e in key.events + key.certificates]
        if key_id not in held:
            lines.append("           this client does not hold this key: if you did not "
                         "register it, someone else can sign in your name; revoke it (POST "
                         "/api/keys/<id>/revoke) and tell the regulator")
    lines.append(f"{len(keys)} key(s) bound to {me['username']} in the log; {unheld} not held "
                 "by this client")
    return lines, unheld


# --- the command line ----------------------------------------------------------------------


def _done(row: Any, message: str) -> int:
    print(message, file=sys.stderr)
    sys.stdout.write(json.dumps(row, indent=2, ensure_ascii=False) + "\n")
    return 0


def cmd_public_key(args: argparse.Namespace, make_api: Any) -> int:
    key = signing.load_key(args.key)
    print(signing.key_id(key) if args.id else signing.public_key_text(key))
    return 0


def cmd_key_certify(args: argparse.Namespace, make_api: Any) -> int:
    row = key_certify(make_api(), signing.load_key(args.key), user=args.user,
                      key_id=args.key_id, role=args.role, valid_days=args.valid_days,
                      valid_from=args.valid_from)
    return _done(row, f"key certificate {row['id']}: {row['key_id']} is {row['user']}'s as "
                      f"{row['role']} of {row['organization']} until {row['valid_until']}")


def cmd_key_certificate_revoke(args: argparse.Namespace, make_api: Any) -> int:
    row = key_certificate_revoke(make_api(), signing.load_key(args.key),
                                 certificate=args.certificate, reason=args.reason)
    return _done(row, f"key certificate {row['id']} revoked")


def cmd_keys_audit(args: argparse.Namespace, make_api: Any) -> int:
    lines, unheld = keys_audit(make_api(), key_files=args.key, key_dir=args.key_dir or
                               default_key_dir(), log_key=args.log_key,
                               witnesses=args.witness, quorum=args.quorum)
    print("\n".join(lines))
    return 1 if unheld or any(line.startswith("LOG") for line in lines) else 0


def register(sub: Any, server: argparse.ArgumentParser) -> None:
    p_ = sub.add_parser(
        "public-key", help="print the public key (or, with --id, the key id) of a key file",
        description="What you hand over in person: a signer gives the regulator her key id "
        "to certify; a regulator gives verifiers her public key (--regulator-key).")
    p_.add_argument("--key", type=Path, required=True, help="your private key file")
    p_.add_argument("--id", action="store_true", help="print the key id (SHA-256) instead")
    p_.set_defaults(run=cmd_public_key)

    p_ = sub.add_parser("key-certify", parents=[server],
                        help="(regulator) certify a lab signer's key for a role")
    p_.add_argument("--user", required=True, help="the signer's username")
    p_.add_argument("--key-id", required=True,
                    help="the key's id (SHA-256 of the public key) as the signer gave it you")
    p_.add_argument("--role", required=True, help="e.g. lab_signer")
    p_.add_argument("--valid-days", type=int, default=365)
    p_.add_argument("--valid-from", help="ISO 8601 (default: now)")
    p_.add_argument("--key", type=Path, required=True, help="your (the regulator's) key file")
    p_.set_defaults(run=cmd_key_certify)

    p_ = sub.add_parser("key-certificate-revoke", parents=[server],
                        help="(regulator) revoke a key certificate")
    p_.add_argument("--certificate", type=int, required=True)
    p_.add_argument("--reason", required=True)
    p_.add_argument("--key", type=Path, required=True, help="your (the regulator's) key file")
    p_.set_defaults(run=cmd_key_certificate_revoke)

    p_ = sub.add_parser("keys", help="keys the log binds to you: audit",
                        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    inner = p_.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    audit = inner.add_parser(
        "audit", parents=[server],
        help="list every key the log binds to you; flag those this client does not hold",
        description="Exit 0 when this client holds every key bound to you, 1 otherwise.")
    audit.add_argument("--key", type=Path, action="append", default=[],
                       help="a key file you hold (repeatable; besides the key directory)")
    audit.add_argument("--key-dir", type=Path, default=None,
                       help=f"your key directory (env {KEYS_ENV}; default ~/.config/govflow/keys)")
    audit.add_argument("--log-key", default=os.environ.get("GOVFLOW_LOG_KEY"),
                       help="the log key you pinned: prove each event included in the newest "
                       "checkpoint (env GOVFLOW_LOG_KEY)")
    audit.add_argument("--witness", action="append", default=[], metavar="VKEY")
    audit.add_argument("--quorum", type=int, metavar="K")
    audit.set_defaults(run=cmd_keys_audit)
