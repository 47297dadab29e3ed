"""Governed events that carry no signature, and what the verifier can still check of them.

A person's incident, resolution and snapshot order are signed acts (`signatures.py`
checks them). Two kinds of event may come without an envelope:

- an incident filed by a monitoring source's or gateway's *machine token*: the event
  names the token (``machine_token``), and the token must have been issued in this log
  (`token.issued` with its id, purpose ``incident:file`` and the same release) by the
  same user, before the incident, and been neither revoked nor expired by then. Its
  content is the operator's word, and the report says how many there are;
- a cohort snapshot the scheduled task published (no actor).

Any other unsigned incident, resolution or ordered snapshot is refused: it is a bare
token's say, which the server no longer accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from govflow.verify.log_checks import Event, describe, logged_time
from govflow.verify.report import Report, VerificationFailed

MACHINE_FILED = {"incident.reported": "incident:file"}


@dataclass
class IssuedToken:
    index: int
    user_id: int | None
    purpose: str
    release: int | None
    expires_at: datetime | None
    revoked_at: int | None = None


def _machine_tokens(events: list[Event]) -> dict[int, IssuedToken]:
    tokens: dict[int, IssuedToken] = {}
    for event in events:
        if not event.may_be("token."):
            continue
        body = event.body
        payload = body["payload"]
        if "token" not in payload:
            continue  # a person's token: its events name no release
        if body["type"] == "token.issued" and payload["token"] not in tokens:
            tokens[payload["token"]] = IssuedToken(
                index=event.index, user_id=(body.get("actor") or {}).get("id"),
                purpose=payload.get("purpose", ""), release=payload.get("release"),
                expires_at=logged_time(payload.get("expires_at")))
        elif (body["type"] == "token.revoked" and payload["token"] in tokens
              and tokens[payload["token"]].revoked_at is None):
            tokens[payload["token"]].revoked_at = event.index
    return tokens


def check(events: list[Event], report: Report) -> None:
    tokens: dict[int, IssuedToken] | None = None
    machine_filed = 0
    for event in events:
        if event.type not in ("incident.reported", "incident.resolved",
                              "cohort.snapshot_published"):
            continue
        body = event.body
        payload = body["payload"]
        if "envelope" in payload:
            continue  # signatures.check verified it
        if body["type"] == "cohort.snapshot_published" and body.get("actor") is None:
            continue  # the scheduled publication after a change of the cohort
        if body["type"] not in MACHINE_FILED or "machine_token" not in payload:
            raise VerificationFailed(f"{describe(event)}: neither signed nor filed with a "
                                     "machine token")
        if tokens is None:
            tokens = _machine_tokens(events)
        _check_machine(event, payload["machine_token"], tokens)
        machine_filed += 1
    if machine_filed:
        report.ok(f"{machine_filed} incident(s) filed with a machine token, each issued in "
                  "the log for its release and live when used (not signed: their content is "
                  "the operator's word)")


def _check_machine(event: Event, named: Any, tokens: dict[int, IssuedToken]) -> None:
    body = event.body
    token_id = named.get("token") if isinstance(named, dict) else None
    token = tokens.get(token_id) if isinstance(token_id, int) else None
    if token is None:
        raise VerificationFailed(f"{describe(event)}: filed with a machine token whose "
                                 "issuance is not in the bundle")
    if token.purpose != MACHINE_FILED[body["type"]] or token.release != body.get("release"):
        raise VerificationFailed(f"{describe(event)}: the machine token was issued for "
                                 f"{token.purpose} on release {token.release}")
    if token.user_id != (body.get("actor") or {}).get("id"):
        raise VerificationFailed(f"{describe(event)}: the machine token belongs to another user")
    if token.index > event.index:
        raise VerificationFailed(f"{describe(event)}: machine token issued after it was used")
    if token.revoked_at is not None and token.revoked_at < event.index:
        raise VerificationFailed(f"{describe(event)}: machine token revoked before it was used")
    at = logged_time(body.get("at"))
    if token.expires_at is not None and at is not None and at >= token.expires_at:
        raise VerificationFailed(f"{describe(event)}: machine token had expired when used")
