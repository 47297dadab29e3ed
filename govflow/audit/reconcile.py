"""Tables against the log: `manage.py audit reconcile` and its beat task.

The governed tables (a release's stage and status, standing holds, sign-offs, findings,
cohort members) are a cache of what the log says: the log is what checkpoints sign
and regulators verify. This replays the sequenced events through the same state
machine the offline verifier runs (govflow.verify.replay.machine) and reports every
place a table disagrees — a row changed, added or removed past the services.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field

from govflow.audit.models import AuditEvent, LogNode, node_key
from govflow.policy.yamlsource import load_located
from govflow.verify.replay.machine import (
    Machine,
    Policy,
    Refused,
    ReleaseState,
    apply_advance,
    check_advance,
)

# Tables whose rows are created by exactly one event type, keyed by the event's subject.
_CREATED_BY = {"signoff.recorded": "signoffs", "finding.filed": "findings"}


@dataclass
class Replayed:
    releases: dict[int, ReleaseState] = field(default_factory=dict)
    rows: dict[str, dict[int, set[int]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    drift: list[str] = field(default_factory=list)


def _policies() -> dict[str, Policy]:
    from govflow.policy.models import PolicyVersion

    return {p.digest: Policy(load_located(p.source).value)
            for p in PolicyVersion.objects.only("digest", "source")}


def replay_log(*, chunk: int = 5000) -> Replayed:
    """Replay every sequenced release event, each checked against the tree's leaf."""
    out = Replayed()
    machine = Machine(_policies())
    rows = (AuditEvent.objects.filter(leaf__isnull=False, release_id__isnull=False)
            .order_by("leaf__index").values_list("leaf__index", "canonical"))
    batch: list[tuple[int, str]] = []

    def flush() -> None:
        keys = {node_key(0, i): i for i, _ in batch}
        leaves = {keys[k]: bytes(h) for k, h in
                  LogNode.objects.filter(key__in=list(keys)).values_list("key", "hash")}
        for index, canonical in batch:
            if hashlib.sha256(b"\x00" + canonical.encode()).digest() != leaves.get(index):
                out.drift.append(f"event #{index}: its stored bytes are not the logged leaf")
                continue
            _apply(machine, out, index, json.loads(canonical))
        batch.clear()

    for row in rows.iterator(chunk_size=chunk):
        batch.append(row)
        if len(batch) >= chunk:
            flush()
    if batch:
        flush()
    out.releases = machine.releases
    return out


def _apply(machine: Machine, out: Replayed, index: int, body: dict) -> None:
    kind, release = body["type"], body["release"]
    subject = int(body["subject"]["id"]) if body["subject"]["id"].isdigit() else None
    try:
        if kind == "release.advanced":
            state = machine.state(body)
            check_advance(state, body, machine.policy_of(state))
            apply_advance(state, body, machine.policy_of(state))
        else:
            machine.apply(body)
    except Refused as refusal:
        out.drift.append(f"event #{index} ({kind}) breaks rule {refusal.rule}: "
                         f"{refusal.message}")
    if kind in _CREATED_BY and subject is not None:
        out.rows[_CREATED_BY[kind]][release].add(subject)
    elif kind == "cohort.member_admitted" and subject is not None:
        out.rows["cohort_members"][release].add(subject)
    elif kind == "cohort.member_removed" and subject is not None:
        out.rows["cohort_members"][release].discard(subject)


def _table_rows() -> dict[str, dict[int, set[int]]]:
    from govflow.auditing.models import Finding
    from govflow.rollout.models import CohortMember
    from govflow.signoffs.models import SignOff

    tables: dict[str, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for name, pairs in (
        ("signoffs", SignOff.objects.values_list("release_id", "pk")),
        ("findings", Finding.objects.values_list("release_id", "pk")),
        ("cohort_members", CohortMember.objects.filter(removed_at__isnull=True)
         .values_list("cohort__release_id", "pk")),
    ):
        for release, pk in pairs:
            tables[name][release].add(pk)
    return tables


def audit_reconcile() -> list[str]:
    """Every disagreement between the governed tables and the log, as sentences."""
    from govflow.oversight.models import RegulatoryHold
    from govflow.releases.models import Release

    replayed = replay_log()
    drift = list(replayed.drift)
    standing: dict[int, set[int]] = defaultdict(set)
    for release, pk in RegulatoryHold.objects.filter(lifted_at__isnull=True).values_list(
            "release_id", "pk"):
        standing[release].add(pk)
    seen = set()
    for row in Release.objects.order_by("pk"):
        seen.add(row.pk)
        state = replayed.releases.get(row.pk)
        if state is None:
            drift.append(f"release {row.pk}: in the table, but the log never opened it")
            continue
        for name, table, logged in (("stage", row.stage, state.stage),
                                    ("status", row.status, state.status)):
            if table != logged:
                drift.append(f"release {row.pk}: {name} is {table!r} in the table, "
                             f"{logged!r} in the log")
        if standing[row.pk] != state.holds:
            drift.append(f"release {row.pk}: standing holds {sorted(standing[row.pk])}"
                         f" in the table, {sorted(state.holds)} in the log")
    for release in sorted(set(replayed.releases) - seen):
        drift.append(f"release {release}: opened in the log, missing from the table")
    tables = _table_rows()
    for kind in ("signoffs", "findings", "cohort_members"):
        in_log, in_table = replayed.rows[kind], tables[kind]
        for release in sorted(set(in_log) | set(in_table)):
            extra = in_table[release] - in_log[release]
            missing = in_log[release] - in_table[release]
            if extra or missing:
                drift.append(f"release {release}: {kind} rows {sorted(extra)[:10]} are not in "
                             f"the log, logged {sorted(missing)[:10]} are not in the table")
    return drift


def audit_reconcile_and_alert() -> list[str]:
    """Run the reconciliation and record it for the console (govflow.audit.selectors.
    drift_now); on drift, notify every regulator (beat runs this)."""
    from django.db import transaction

    from govflow.audit.models import ReconcileRun
    from govflow.monitoring.services.notifications import notify, regulators

    drift = audit_reconcile()
    with transaction.atomic():
        ReconcileRun.objects.create(drift=drift[:100], count=len(drift))
        if drift:
            notify(organizations=regulators(), release=None, kind="log_drift",
                   subject=f"The governed tables disagree with the audit log in "
                           f"{len(drift)} place(s)",
                   body={"drift": drift[:100]})
    return drift
