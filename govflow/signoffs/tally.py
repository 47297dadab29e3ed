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
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
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
