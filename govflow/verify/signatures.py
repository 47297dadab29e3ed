"""Signed statements in the log: keys from key events, envelopes from sign-off events.

Keys are taken only from the log (never from the bundle's convenience `keys` list),
and a key counts for an envelope only if it was registered to the signer before the
sign-off was logged and not revoked or expired by then (the server's logged time, not
the signer's claimed `signed_at`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import govflow.auditing.predicates
import govflow.keys.certificate_predicates
import govflow.monitoring.predicates
import govflow.oversight.predicates
import govflow.rollout.predicates
import govflow.signoffs.predicate  # noqa: F401 (registers the predicates read below)
from govflow.signoffs.tally import certificate_refusal, certified_only, set_aside_note, tally
from govflow.trust import dsse
from govflow.trust.keys import KeyFormatError, parse_public_key, public_key_id
from govflow.trust.statements import StatementError, parse_payload
from govflow.verify import key_certificates
from govflow.verify.key_certificates import RegulatorTrust
from govflow.verify.log_checks import Event, describe, logged_time
from govflow.verify.replay.machine import Refused
from govflow.verify.report import Report, VerificationFailed

STATEMENT_TYPE = "application/vnd.in-toto+json"
SIGNOFF_PREDICATE = "https://govflow.dev/attestations/signoff/v1"
_A = "https://govflow.dev/attestations/"
# The one predicate each signed event's envelope must carry, read with the server's own
# predicate code (govflow.trust.statements): a signature over a statement of another
# kind (a hold's envelope replayed into a finding's event) does not count.
EVENT_PREDICATES = {
    "signoff.recorded": SIGNOFF_PREDICATE,
    "certificate.issued": _A + "auditor-certificate/v1",
    "certificate.suspended": _A + "certificate-status/v1",
    "certificate.reinstated": _A + "certificate-status/v1",
    "certificate.revoked": _A + "certificate-status/v1",
    "assignment.created": _A + "assignment/v1",
    "assignment.ended": _A + "assignment-end/v1",
    "finding.filed": _A + "finding/v1",
    "finding.statement_appended": _A + "finding-statement/v1",
    "conclusion.recorded": _A + "audit-conclusion/v1",
    "hold.placed": _A + "regulatory-hold/v1",
    "hold.lifted": _A + "regulatory-hold/v1",
    "sanction.imposed": _A + "sanction/v1",
    "sanction.lifted": _A + "sanction/v1",
    "cohort.growth_signed": _A + "cohort-growth/v1",
    "incident.reported": _A + "incident/v1",
    "incident.resolved": _A + "incident-resolution/v1",
    "cohort.snapshot_published": _A + "cohort-snapshot-order/v1",
    "key_certificate.issued": _A + "key-certificate/v1",
    "key_certificate.revoked": _A + "key-certificate-revocation/v1",
}
# Events that exist only as signed acts: one without its envelope is a forgery.
ALWAYS_SIGNED = {"signoff.recorded", "certificate.issued", "finding.filed",
                 "finding.statement_appended", "conclusion.recorded", "hold.placed",
                 "hold.lifted", "sanction.imposed", "sanction.lifted", "cohort.growth_signed",
                 "incident.resolved", "assignment.created", "key_certificate.issued",
                 "key_certificate.revoked"}


@dataclass
class LoggedKey:
    key_id: str
    user_id: int
    public_key: Any
    registered_at: int  # leaf index of the registration event
    expires_at: datetime | None
    revoked_at: int | None = None  # leaf index of the revocation event


def _keys_from(events: list[Event]) -> dict[str, LoggedKey]:
    keys: dict[str, LoggedKey] = {}
    for event in events:
        if not event.may_be("key."):
            continue
        body = event.body
        if not body["type"].startswith("key."):
            continue
        payload = body["payload"]
        if "public_key" in payload:
            try:
                public = parse_public_key(payload["public_key"])
            except KeyFormatError as exc:
                raise VerificationFailed(f"{describe(event)}: bad public key: {exc}") from exc
            # A key's id is its SHA-256: else an event could borrow a certified key's id
            # for another key, and a certificate for the id would cover it.
            if public_key_id(public) != payload.get("key_id"):
                raise VerificationFailed(f"{describe(event)}: key id {payload.get('key_id')} "
                                         "is not the id (SHA-256) of the key it registers")
        if "public_key" in payload and payload["key_id"] not in keys:
            keys[payload["key_id"]] = LoggedKey(
                key_id=payload["key_id"],
                user_id=payload["user_id"],
                public_key=public,
                registered_at=event.index,
                expires_at=logged_time(payload.get("expires_at")),
            )
        revoked = payload.get("revoked_key_id") or (
            payload.get("key_id") if body["type"] == "key.revoked" else None
        )
        if revoked in keys and keys[revoked].revoked_at is None:
            keys[revoked].revoked_at = event.index
    return keys


def check(events: list[Event], report: Report,
          regulators: RegulatorTrust | None = None) -> list[dict[str, Any]]:
    """Verify every signed statement in the log (sign-offs, findings, certificates,
    holds, …); return the verified sign-offs in log order for the transition checks,
    each with ``uncertified``: why its key had no key certificate from a trusted
    regulator in force when it was logged (None when it had one)."""
    keys = _keys_from(events)
    verified = []
    others = 0
    spent: dict[str, Event] = {}
    for event in events:
        body = event.body
        payload = body["payload"]
        if "envelope" not in payload:
            if body["type"] in ALWAYS_SIGNED:
                raise VerificationFailed(f"{describe(event)}: a signed act without its envelope")
            continue
        payload_type, statement = _verify_signed(event, payload, keys)
        _check_predicate(event, payload)
        _check_once(event, statement, spent)
        if body["type"] != "signoff.recorded":
            others += 1
            continue
        if payload_type != STATEMENT_TYPE or statement.get("predicateType") != SIGNOFF_PREDICATE:
            raise VerificationFailed(f"{describe(event)}: not a govflow sign-off statement")
        predicate = statement["predicate"]
        if predicate["release"] != body["release"]:
            raise VerificationFailed(f"{describe(event)}: statement is for another release")
        verified.append(
            {"index": event.index, "signer": body["actor"]["id"],
             "label": body["actor"].get("username"), "predicate": predicate,
             "key_id": payload["key_id"], "organization": body["organization"],
             "at": logged_time(body["at"])}
        )
    report.ok(f"{len(verified)} sign-off envelope(s) and {others} other signed statement(s) "
              "verified against keys registered in the log")
    certificates = key_certificates.collect(events, regulators or RegulatorTrust(), report)
    for s in verified:
        why = certificate_refusal(
            {"key_id": s["key_id"], "signer": s["signer"], "organization": s["organization"],
             "role": s["predicate"]["role"], "signed": s["index"], "at": s["at"]},
            certificates.counted)
        s["uncertified"] = None if why is None else why + certificates.note(s["key_id"])
    return verified


def _verify_signed(
    event: Event, payload: dict[str, Any], keys: dict[str, LoggedKey]
) -> tuple[str, dict[str, Any]]:
    """Check the key was the actor's, live when the event was logged, and signed it."""
    body = event.body
    if "key_id" not in payload:
        raise VerificationFailed(f"{describe(event)}: carries an envelope but names no key")
    key = keys.get(payload["key_id"])
    at = logged_time(body["at"])
    if key is None:
        raise VerificationFailed(f"{describe(event)}: signed by key {payload['key_id']} "
                                 "whose registration is not in the bundle")
    if key.user_id != (body["actor"] or {}).get("id"):
        raise VerificationFailed(f"{describe(event)}: key belongs to another user")
    if key.registered_at > event.index:
        raise VerificationFailed(f"{describe(event)}: key registered after it was used")
    if key.revoked_at is not None and key.revoked_at < event.index:
        raise VerificationFailed(f"{describe(event)}: key was revoked before it was used")
    if key.expires_at is not None and at is not None and at >= key.expires_at:
        raise VerificationFailed(f"{describe(event)}: key had expired when it was used")
    try:
        payload_type, raw, _ = dsse.verify_envelope(
            payload["envelope"], {key.key_id: key.public_key}
        )
    except dsse.EnvelopeError as exc:
        raise VerificationFailed(f"{describe(event)}: envelope does not verify: {exc}") from exc
    try:
        return payload_type, json.loads(raw)
    except ValueError as exc:
        raise VerificationFailed(f"{describe(event)}: signed payload is not JSON") from exc


# Statements whose replay into a new event would change a count: a sign-off logged again
# after its signer's newer statement would withdraw that one (her reject, say), and a key
# certificate logged again after its revocation would stand anew. The server spends each
# nonce once (StatementNonce is unique), so a second event with the same nonce is forged.
SPENT_ONCE = {"signoff.recorded", "key_certificate.issued", "key_certificate.revoked"}


def _check_once(event: Event, statement: dict[str, Any], spent: dict[str, Event]) -> None:
    if event.body["type"] not in SPENT_ONCE:
        return
    nonce = str((statement.get("predicate") or {}).get("nonce"))
    if nonce in spent:
        raise VerificationFailed(f"{describe(event)}: replays the signed statement of "
                                 f"{describe(spent[nonce])} (the same nonce)")
    spent[nonce] = event


def _check_predicate(event: Event, payload: dict[str, Any]) -> None:
    expected = EVENT_PREDICATES.get(event.body["type"])
    if expected is None:
        return
    try:
        _, raw, _ = dsse.parse_envelope(payload["envelope"])
        parse_payload(raw, expected)
    except (dsse.EnvelopeError, StatementError) as exc:
        raise VerificationFailed(f"{describe(event)}: not a {expected} statement: {exc}") from exc


def recheck_approvals(
    event: Event,
    gate_report: dict[str, Any],
    signoffs: list[dict[str, Any]],
    stage_entry: int | None,
) -> None:
    """Re-tally each approval gate of a logged advance from the logged sign-offs; where
    the gate requires certified keys, only approvals whose key a trusted regulator had
    certified when they were logged count (`tally.certified_only`)."""
    body = event.body
    requester = (body["actor"] or {}).get("id")
    for gate in gate_report["gates"]:
        if not gate.get("approval"):
            continue
        statements: list[Mapping[str, Any]] = [
            {
                "signer": s["signer"],
                "role": s["predicate"]["role"],
                "decision": s["predicate"]["decision"],
                "order": s["index"],
                "label": s["label"],
                "key_id": s["key_id"],
                "uncertified": s["uncertified"],
            }
            for s in signoffs
            if s["index"] < event.index
            and s["predicate"]["release"] == body["release"]
            and s["predicate"]["transition"]["to"] == gate_report["target"]
            and s["predicate"]["stage_entry"] == stage_entry
            and s["predicate"]["gate_report_digest"] == gate_report["evidence_digest"]
        ]
        set_aside: list[dict[str, Any]] = []
        certified = gate["params"].get("certified_keys") is True
        if certified:
            statements, set_aside = certified_only(statements, lambda s: s["uncertified"])
        met, reason, _ = tally(
            statements,
            roles=gate["params"]["roles"],
            exclude_requester=gate["params"].get("exclude_requester", True),
            requester=requester,
        )
        if not met:
            raise Refused(
                "signoffs_uncertified" if certified and set_aside else "signoffs_not_met",
                f"gate {gate['id']} was not met by the logged sign-offs"
                + (" under regulator-certified keys" if certified else "")
                + f": {reason}{set_aside_note(set_aside)}")
