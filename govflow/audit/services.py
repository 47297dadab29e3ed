"""Appending to the audit log.

`audit_append` must be called inside the transaction of the change it records
(CONVENTIONS rule 3): if the change rolls back, so does its event, and an event
cannot be written without the change because nothing else calls it outside one.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.db import connections, transaction
from django.db.models import Model
from django.utils import timezone

from govflow.audit.events import EventType
from govflow.audit.models import AuditEvent
from govflow.audit.receipts import note_recorded
from govflow.core.digests import canonical_json
from govflow.core.times import rfc3339


def audit_append(
    *,
    event_type: EventType,
    actor: Any | None,
    subject: Model,
    payload: dict[str, Any],
    organization_id: int | None = None,
    release_id: int | None = None,
    day_only: bool = False,
) -> AuditEvent:
    """``day_only``: the event's time is the start of its (UTC) day, for events whose
    exact time would identify a person (a whistleblower's report)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_append must run inside the transaction of the change")
    now = timezone.now()
    if day_only:
        now = now.replace(hour=0, minute=0, second=0, microsecond=0)
    event_uuid = uuid.uuid4()
    subject_type = subject._meta.label_lower
    body = {
        "v": 1,
        "uuid": str(event_uuid),
        "type": str(event_type),
        "at": rfc3339(now),
        "actor": (
            {"id": actor.pk, "username": actor.get_username()} if actor is not None else None
        ),
        "organization": organization_id,
        "release": release_id,
        "subject": {"type": subject_type, "id": str(subject.pk)},
        "payload": payload,
    }
    data = canonical_json(body)
    event = AuditEvent(
        uuid=event_uuid,
        event_type=str(event_type),
        created_at=now,
        actor=actor,
        organization_id=organization_id,
        release_id=release_id,
        subject_type=subject_type,
        subject_id=str(subject.pk),
        payload=payload,
        canonical=data.decode("utf-8"),
        leaf_hash=hashlib.sha256(b"\x00" + data).hexdigest(),
    )
    _insert(event)
    note_recorded(event.pk)  # the request's receipt (govflow.audit.receipts)
    return event


_COLUMNS = [f.column for f in AuditEvent._meta.concrete_fields if not f.primary_key]


def _insert(event: AuditEvent) -> None:
    """One INSERT … RETURNING id, written out rather than through ``Model.save``.

    Every governed change pays for its event, and with several writers the append rate
    is bound by CPU: the ORM's save path (signals, per-field compilation, the model
    state machinery) cost about as much as the rest of the append together
    (bench/audit_log.py). The values still pass through each field's own conversion for
    this database, so what is stored is what ``save`` would have stored.
    """
    connection = connections[AuditEvent.objects.db]
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    params = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
    sql = _insert_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = connection.alias


_SQL: dict[str, str] = {}


def _insert_sql(vendor: str) -> str:
    sql = _SQL.get(vendor)
    if sql is None:
        table = AuditEvent._meta.db_table
        columns = ", ".join(f'"{c}"' for c in _COLUMNS)
        marks = ", ".join(["%s"] * len(_COLUMNS))
        sql = _SQL[vendor] = (f'INSERT INTO "{table}" ({columns}) VALUES ({marks}) '
                              'RETURNING "id"')
    return sql
