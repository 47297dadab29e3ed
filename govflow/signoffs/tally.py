"""Counting sign-offs against a `signoffs` gate: pure, standard library only.

The server's gate and the offline verifier (`python -m govflow.verify`) both call
`tally`, so a recorded transition is re-checked by exactly the rule that allowed it.
Callers select the statements of one round first (same release, target stage, stage
entry and gate-report digest); this module only counts.

A statement is a plain dict:

    {"signer": <user id>, "role": "lab_signer", "decision": "approve" | "reject",
     "order": <position: later statements have larger values>, "label": "bob" (optional)}

Rules:

- a person's latest statement is their current one (a newer statement withdraws an older
  one, whichever its role or decision);
- a current reject from a role the gate lists vetoes the gate, whoever sent it;
- each listed role needs its count of current approvals from distinct people; a person's
  current statement names one role, so nobody counts twice across clauses;
- with ``exclude_requester``, the approval of the person requesting the advance does not
  count (their reject still vetoes: excluding someone must never make a gate easier).

With certified keys (`certified_only`, before `tally`): an approval counts only if a
regulator's key certificate in force when it was signed binds its key to its signer,
the release's lab and its role. An approval under any other key is set aside entirely: it
neither counts nor withdraws the signer's earlier statement (else a key the lab's server
minted in her name could withdraw her certified reject). A reject is kept whatever its
key: a veto can only make the gate harder, so its key needs no vouching.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import datetime
from typing import Any

APPROVE = "approve"
REJECT = "reject"


def _label(statement: Mapping[str, Any]) -> str:
    return str(statement.get("label") or f"user {statement['signer']}")


def current_statements(statements: Iterable[Mapping[str, Any]]) -> dict[Hashable, Mapping]:
    """Each signer's latest statement, by signer."""
    latest: dict[Hashable, Mapping[str, Any]] = {}
    for statement in sorted(statements, key=lambda s: s["order"]):
        latest[statement["signer"]] = statement
    return latest


def tally(
    statements: Iterable[Mapping[str, Any]],
    *,
    roles: Mapping[str, int],
    exclude_requester: bool,
    requester: Hashable | None,
) -> tuple[bool, str, dict[str, Any]]:
    """Whether the statements meet ``roles`` (role -> approvals needed): (met, reason, evidence)."""
    current = current_statements(statements)
    listed = [s for s in current.values() if s["role"] in roles]
    vetoes = sorted((s for s in listed if s["decision"] == REJECT), key=lambda s: s["order"])
    excluded = None
    approvals: dict[str, list[Mapping[str, Any]]] = {role: [] for role in roles}
    for s in sorted(listed, key=lambda s: s["order"]):
        if s["decision"] != APPROVE:
            continue
        if exclude_requester and requester is not None and s["signer"] == requester:
            excluded = s
            continue
        approvals[s["role"]].append(s)

    evidence: dict[str, Any] = {
        "required": dict(roles),
        "approvals": {role: [s["signer"] for s in found] for role, found in approvals.items()},
        "rejections": [{"signer": s["signer"], "role": s["role"]} for s in vetoes],
        "excluded_requester": excluded["signer"] if excluded is not None else None,
        # the `order` of each approval that counted (the server's sign-off ids)
        "counted": sorted(s["order"] for found in approvals.values() for s in found),
    }
    if vetoes:
        names = ", ".join(f"{_label(s)} ({s['role']})" for s in vetoes)
        return False, f"vetoed: rejected by {names}", evidence

    counts = [
        f"{role} {min(len(approvals[role]), need)}/{need}"
        + (f" ({', '.join(_label(s) for s in approvals[role])})" if approvals[role] else "")
        for role, need in roles.items()
    ]
    note = (
        f"; the approval of {_label(excluded)}, who requests the advance, does not count"
        if excluded is not None else ""
    )
    missing = [role for role, need in roles.items() if len(approvals[role]) < need]
    if missing:
        return False, "approvals missing: " + ", ".join(counts) + note, evidence
    return True, "approved: " + ", ".join(counts) + note, evidence


def certificate_refusal(statement: Mapping[str, Any],
                         certificates: Iterable[Mapping[str, Any]]) -> str | None:
    """None when a certificate in force when ``statement`` was signed binds its key to
    its signer, organization and role; otherwise why not.

    A certificate: {id, key_id, user_id, organization, role, valid_from, valid_until,
    issued, revoked}. ``issued`` and ``revoked`` (None while in force) are points of the
    same order as the statement's ``signed`` (the server: recording times; the verifier:
    log indexes); ``valid_from``/``valid_until`` are compared with its ``at`` (the time
    the server recorded it, never the signer's claimed time).
    """
    key_id = statement["key_id"]
    own = [c for c in certificates if c["key_id"] == key_id and c["issued"] <= statement["signed"]]
    if not own:
        return f"key {key_id[:16]}… has no regulator key certificate"
    wanted = (statement["signer"], statement["organization"], statement["role"])
    bound = [c for c in own if (c["user_id"], c["organization"], c["role"]) == wanted]
    if not bound:
        c = own[-1]
        return (f"key certificate {c['id']} binds key {key_id[:16]}… to user {c['user_id']} "
                f"as {c['role']} of organization {c['organization']}, not to this signer as "
                f"{statement['role']} of organization {statement['organization']}")
    at: datetime = statement["at"]
    live = [c for c in bound if c["revoked"] is None or c["revoked"] > statement["signed"]]
    if not live:
        return f"key certificate {bound[-1]['id']} was revoked before this was signed"
    if any(c["valid_from"] <= at < c["valid_until"] for c in live):
        return None
    c = live[-1]
    return (f"key certificate {c['id']} is valid from {c['valid_from'].isoformat()} to "
            f"{c['valid_until'].isoformat()}, not when this was signed ({at.isoformat()})")


def certified_only(
    statements: Iterable[Mapping[str, Any]],
    refusal: Callable[[Mapping[str, Any]], str | None],
) -> tuple[list[Mapping[str, Any]], list[dict[str, Any]]]:
    """(statements `tally` may count, approvals set aside with the reason for each).

    ``refusal(statement)`` says why a statement's key is not certified for it (None when
    it is): `certificate_refusal` over the certificates the caller trusts. Each statement
    carries, besides `tally`'s fields, ``key_id``."""
    kept: list[Mapping[str, Any]] = []
    set_aside: list[dict[str, Any]] = []
    for s in sorted(statements, key=lambda s: s["order"]):
        why = None if s["decision"] == REJECT else refusal(s)
        if why is None:
            kept.append(s)
        else:
            set_aside.append({"signer": s["signer"], "label": _label(s), "role": s["role"],
                              "key_id": s["key_id"], "order": s["order"], "reason": why})
    return kept, set_aside


def set_aside_note(set_aside: list[dict[str, Any]]) -> str:
    """What a gate's reason adds about approvals that did not count."""
    if not set_aside:
        return ""
    return "; not counted (key not certified by a regulator): " + "; ".join(
        f"{s['label']} ({s['role']}): {s['reason']}" for s in set_aside)
