"""The audit log is append-only in the database itself, whatever the application does."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from govflow.accounts.models import Organization
from govflow.audit.events import EventType
from govflow.audit.models import AuditEvent
from govflow.audit.services import audit_append
from tests import factories

REFUSED = "append-only"


# Not a module-wide django_db mark: with it, pytest-django's own database fixture would
# be set up before live_db's trigger handling below and flush after it had finished.
@pytest.fixture
def event(db) -> AuditEvent:
    factories.organization()
    return AuditEvent.objects.get(event_type="organization.created")


def unchanged(event: AuditEvent) -> bool:
    stored = AuditEvent.objects.get(pk=event.pk)
    return (stored.event_type, stored.payload, stored.canonical) == (
        event.event_type, event.payload, event.canonical
    )


def test_raw_update_is_refused(event):
    # the savepoint lets the test's own transaction go on after the refusal
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET event_type = %s WHERE id = %s", ["forged", event.pk]
        )
    assert unchanged(event)


def test_raw_delete_is_refused(event):
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert unchanged(event)


def test_orm_update_is_refused(event):
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(payload={"forged": True})
    assert unchanged(event)


def test_orm_save_of_a_changed_row_is_refused(event):
    event.event_type = "forged"
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).event_type == "organization.created"


def test_orm_delete_is_refused(event):
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert unchanged(event)


def test_appending_still_works(event):
    with transaction.atomic():
        appended = audit_append(
            event_type=EventType.ORGANIZATION_CREATED, actor=None,
            subject=Organization.objects.get(), payload={"n": 1},
        )
    assert AuditEvent.objects.filter(pk__in=[event.pk, appended.pk]).count() == 2


@pytest.mark.postgres
def test_truncate_is_refused_on_postgresql(event):
    # CASCADE: the refusal must come from the log's own trigger, not from a foreign key
    # of some table that happens to point at it. The deferred foreign-key checks of the
    # row just written would also block a TRUNCATE ("pending trigger events"), so run them.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
            cursor.execute("TRUNCATE audit_auditevent CASCADE")
    assert unchanged(event)


# --- outside a transaction --------------------------------------------------------------------


def test_audit_append_outside_a_transaction_raises(live_db):
    # given autocommit: no transaction that a change and its event could share
    assert not connection.in_atomic_block
    subject = Organization(name="Unsaved", slug="unsaved", kind="lab")

    # when an event is appended on its own, then it is refused and nothing is written
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_append(
            event_type=EventType.ORGANIZATION_CREATED, actor=None, subject=subject,
            payload={"name": "Unsaved"},
        )
    assert not AuditEvent.objects.exists()
