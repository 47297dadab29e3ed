"""Local key and signing operations: nothing here talks to the server."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govflow.client.remote import ClientError
from govflow.core.times import rfc3339
from govflow.gates.report import recompute_evidence_digest
from govflow.trust import intoto
from govflow.trust.keys import (
    KeyFormatError,
    generate_private_key,
    load_private_key,
    public_key_id,
    public_key_to_base64,
    save_private_key,
)

SIGNOFF_PREDICATE = "https://govflow.dev/attestations/signoff/v1"


def keygen(path: Path, *, overwrite: bool = False) -> Ed25519PrivateKey:
    """A new Ed25519 key in ``path`` (PKCS#8 PEM, mode 0600)."""
    key = generate_private_key()
    try:
        save_private_key(key, path, overwrite=overwrite)
    except FileExistsError as exc:
        raise ClientError(f"{path} exists; refusing to overwrite a private key") from exc
    except OSError as exc:
        raise ClientError(f"cannot write {path}: {exc.strerror}") from exc
    return key


def load_key(path: Path) -> Ed25519PrivateKey:
    try:
        return load_private_key(path)
    except KeyFormatError as exc:
        raise ClientError(str(exc)) from exc


def public_key_text(key: Ed25519PrivateKey) -> str:
    return public_key_to_base64(key.public_key())


def key_id(key: Ed25519PrivateKey) -> str:
    return public_key_id(key.public_key())


def now_iso() -> str:
    return rfc3339(datetime.now(UTC).replace(microsecond=0))


def sign(statement: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """A DSSE envelope over the statement's canonical JSON. A sign-off's `signed_at`
    is filled with this machine's clock if the server left it empty."""
    statement = json.loads(json.dumps(statement))  # a copy; the caller's stays as it was
    predicate = statement.get("predicate")
    if isinstance(predicate, dict) and "signed_at" in predicate and not predicate["signed_at"]:
        predicate["signed_at"] = now_iso()
    try:
        parsed = intoto.Statement.from_dict(statement)
        return intoto.sign_statement(parsed, key)
    except intoto.StatementError as exc:
        raise ClientError(f"not an in-toto statement: {exc}") from exc


def evidence_digest(report: dict[str, Any]) -> str:
    """Recompute a gate report's evidence digest from the evidence it shows.

    The same definition as the server's (`govflow.gates.engine.evidence_digest`): so
    a signer checks that the digest they sign covers the evidence they were shown,
    rather than taking the server's word for it.
    """
    return recompute_evidence_digest(report)


def describe(statement: dict[str, Any]) -> str:
    """One line saying what a sign-off statement approves or rejects."""
    if statement.get("predicateType") != SIGNOFF_PREDICATE:
        return f"statement of type {statement.get('predicateType')}"
    p = statement["predicate"]
    subject = statement["subject"][0]["name"]
    transition = p.get("transition") or {}
    text = (f"{p.get('decision')} release {p.get('release')} ({subject}) "
            f"{transition.get('from')} -> {transition.get('to')} as {p.get('role')}, "
            f"gate report {p.get('gate_report_digest')}")
    if p.get("comment"):
        text += f", comment {p['comment']!r}"
    return text
