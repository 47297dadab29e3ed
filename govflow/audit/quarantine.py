"""After a sequencing alarm: what it was, and resuming without hiding it.

The sequencer stops at the first row whose stored leaf hash or columns disagree with its
canonical bytes (`log.SequencingAlarm`): nothing after it is sequenced or signed, and
every regulator is told once. To resume, the operator quarantines the row (`manage.py
audit quarantine ALARM --reason …`). That deletes and edits nothing: the alarm stays
(its table is append-only), the refused row stays in the events table and never gets a
leaf, and a `log.event_quarantined` event is appended and sequenced with the rows that
waited behind it. It carries the refused row's canonical bytes, its stored leaf hash,
the hash the sequencer computed and the alarm's reason and time, so every later
checkpoint, and each witness that cosigns one, commits to the fact that the log was
written to past `audit_append` and to what was written. Regulators are notified again,
the console shows the alarm until then, and `python -m govflow.verify` names every
quarantine in a full export.

What this cannot do, against an operator who is a PostgreSQL superuser: stop them from
deleting the refused row and its alarm *before* anything about it was signed. Then the
regulator's evidence is the notification sent when the alarm was raised, and a log that
stopped growing for a while (its witnesses saw no new checkpoint).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction

from govflow.audit.events import EventType
from govflow.audit.models import AuditEvent, LogLeaf, QuarantinedEvent, SequencingAlarm
from govflow.core.errors import Conflict, NotFound
from govflow.core.times import rfc3339


def alarm_describe(alarm: SequencingAlarm) -> dict[str, Any]:
    """An alarm, its refused row and what stands behind it, for the operator's command."""
    event = AuditEvent.objects.get(pk=alarm.event_id)
    quarantine = QuarantinedEvent.objects.filter(alarm=alarm).first()
    waiting = AuditEvent.objects.filter(pk__gt=event.pk, leaf__isnull=True).count()
    return {
        "alarm": alarm.pk,
        "raised_at": rfc3339(alarm.raised_at),
        "reason": alarm.reason,
        "status": "quarantined" if quarantine else "open: sequencing is stopped",
        "quarantined_by_event": quarantine.record_id if quarantine else None,
        "event": _row(event),
        "events_waiting_behind_it": waiting if quarantine is None else 0,
    }


def _row(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "uuid": str(event.uuid),
        "columns": {"event_type": event.event_type, "release_id": event.release_id,
                    "organization_id": event.organization_id,
                    "subject": f"{event.subject_type}:{event.subject_id}"},
        "stored_leaf_hash": event.leaf_hash,
        "computed_leaf_hash": hashlib.sha256(b"\x00" + event.canonical.encode()).hexdigest(),
        "canonical": event.canonical,
    }


def _organization_of(event: AuditEvent) -> int | None:
    """Who may read the quarantine record: the organization the refused bytes name (they
    may copy a real event of that organization), else the row's column; regulators see
    every event regardless."""
    try:
        named = json.loads(event.canonical).get("organization")
    except (ValueError, AttributeError):
        named = None
    return named if isinstance(named, int) else event.organization_id


@transaction.atomic
def alarm_quarantine(*, alarm_id: int, reason: str, actor: Any | None) -> QuarantinedEvent:
    """Set the refused row aside and log that it was, so that sequencing resumes."""
    from govflow.audit.log import _lock_state
    from govflow.audit.services import audit_append
    from govflow.monitoring.services.notifications import notify, regulators

    _lock_state()  # the sequencer's lock: it must not be mid-run over this row
    alarm = SequencingAlarm.objects.filter(pk=alarm_id).first()
    if alarm is None:
        raise NotFound(f"no sequencing alarm {alarm_id}")
    if not reason.strip():
        raise Conflict("say why the row is quarantined (--reason)", detail={"rule": "reason"})
    if QuarantinedEvent.objects.filter(alarm=alarm).exists():
        raise Conflict(f"alarm {alarm_id} is already quarantined",
                       detail={"rule": "already_quarantined"})
    event = AuditEvent.objects.get(pk=alarm.event_id)
    if LogLeaf.objects.filter(event=event).exists():
        raise Conflict(f"event {event.pk} is in the tree: it was not refused",
                       detail={"rule": "sequenced"})
    record = audit_append(
        event_type=EventType.LOG_EVENT_QUARANTINED, actor=actor, subject=alarm,
        organization_id=_organization_of(event),
        payload={"alarm": alarm.pk, "raised_at": rfc3339(alarm.raised_at),
                 "alarm_reason": alarm.reason, "reason": reason.strip(), "row": _row(event)},
    )
    quarantine = QuarantinedEvent.objects.create(event=event, alarm=alarm, record=record)
    notify(organizations=regulators(), release=None, kind="log_event_quarantined",
           subject=f"Audit log: refused event {event.pk} quarantined, sequencing resumes",
           body={"alarm": alarm.pk, "event": event.pk, "record": record.pk,
                 "reason": reason.strip()})
    return quarantine
