"""What the lab's operator (a PostgreSQL superuser who also holds the log key) can do to
the log's tables: the attacks the witness, the verifier and receipts must catch."""

from __future__ import annotations

import hashlib

from django.db import connection

from govflow.audit.dbtriggers import APPEND_ONLY_TABLES, uninstall_sql
from govflow.audit.models import AuditEvent, LogState


def drop_log_triggers() -> None:
    # In a test transaction PostgreSQL rolls the DDL back afterwards.
    with connection.cursor() as cursor:
        for table in APPEND_ONLY_TABLES:
            for statement in uninstall_sql(connection.vendor, table):
                cursor.execute(statement)


def edit_event(event: AuditEvent) -> None:
    """Change an event's content and store the matching leaf hash, as a careful forger would."""
    edited = event.canonical.replace('"payload":{', '"payload":{"rewritten":true,', 1)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET canonical = %s, leaf_hash = %s WHERE id = %s",
                       [edited, hashlib.sha256(b"\x00" + edited.encode()).hexdigest(), event.pk])


def discard_tree() -> None:
    """Throw away the tree, checkpoints and cosignatures: the sequencer rebuilds and the
    checkpoint task re-signs whatever the events table now holds."""
    with connection.cursor() as cursor:
        for table in ("audit_cosignature", "audit_checkpoint", "audit_lognode", "audit_logleaf"):
            cursor.execute(f"DELETE FROM {table}")
    LogState.objects.filter(pk=1).update(size=0)
