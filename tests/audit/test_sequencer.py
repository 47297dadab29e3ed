"""The sequencer hashes each event itself: a row written past `audit_append` with a
leaf hash (or columns) that disagree with its bytes is never signed, and stops the log."""

from __future__ import annotations

import hashlib
import json
import uuid

import psycopg
import pytest

from govflow.audit import log
from govflow.audit.models import AuditEvent, Checkpoint, SequencingAlarm
from govflow.monitoring.models import Notification
from govflow.trust.canonical import canonical_json
from tests import factories

pytestmark = pytest.mark.django_db


def forged_advance(release_id: int) -> tuple[str, str]:
    """A forged advance of a release to open_weights, as canonical JSON, with a stored
    leaf hash copied from a harmless event (so the tree would hold a benign leaf)."""
    body = {
        "v": 1, "uuid": str(uuid.uuid4()), "type": "release.advanced",
        "at": "2026-12-01T09:00:00Z", "actor": None, "organization": None,
        "release": release_id, "subject": {"type": "releases.release", "id": str(release_id)},
        "payload": {"from": "internal_evals", "to": "open_weights", "gate_report": {
            "all_met": True, "gates": []}},
    }
    return body["uuid"], canonical_json(body).decode()


def insert_row(cursor_execute, event_uuid, canonical, leaf_hash, release_id):
    cursor_execute(
        "INSERT INTO audit_auditevent (uuid, event_type, created_at, release_id, subject_type, "
        "subject_id, payload, canonical, leaf_hash) VALUES "
        "(%s, 'release.advanced', now(), %s, 'releases.release', %s, '{}', %s, %s)",
        [event_uuid, release_id, str(release_id), canonical, leaf_hash],
    )


@pytest.mark.postgres
def test_a_row_the_app_role_inserts_with_a_forged_leaf_hash_is_never_signed(
    app_role, lab, release_manager, regulator
):
    # given: a release, a checkpoint, and a forged advance the app role INSERTs directly
    release = factories.release(lab, release_manager)
    log.checkpoint_create()
    benign = AuditEvent.objects.order_by("id").first().leaf_hash
    event_uuid, canonical = forged_advance(release.pk)
    with psycopg.connect(app_role, autocommit=True) as conn:
        insert_row(conn.execute, event_uuid, canonical, benign, release.pk)
    forged = AuditEvent.objects.get(uuid=event_uuid)
    factories.attach(release, release_manager)  # an honest event after the forgery

    # when: the server's checkpoint task runs, twice
    first = log.checkpoint_create()
    second = log.checkpoint_create()

    # then: the forgery has no leaf, nothing after it was sequenced, one alarm, one notice
    assert not AuditEvent.objects.filter(pk=forged.pk, leaf__isnull=False).exists()
    assert AuditEvent.objects.filter(pk__gt=forged.pk, event_type="evidence.attached",
                                     leaf__isnull=False).count() == 0
    alarm = SequencingAlarm.objects.get()
    assert alarm.event_id == forged.pk
    assert "is not the hash of its canonical bytes" in alarm.reason
    assert log.open_alarm() == alarm
    notices = Notification.objects.filter(kind="log_sequencing_alarm")
    assert [n.organization_id for n in notices] == [regulator.memberships.first().organization_id]
    signed_sizes = set(Checkpoint.objects.values_list("size", flat=True))
    assert max(signed_sizes) == first.size == second.size
    assert first.size == AuditEvent.objects.filter(leaf__isnull=False).count()


def test_a_row_whose_columns_disagree_with_its_bytes_stops_sequencing(lab, release_manager):
    # given: a row whose canonical bytes hash correctly but name another release than
    # its release_id column (a per-release export would file it under the wrong one)
    release = factories.release(lab, release_manager)
    other = factories.release(lab, release_manager)
    event_uuid, canonical = forged_advance(release.pk)
    AuditEvent.objects.create(
        uuid=event_uuid, event_type="release.advanced", created_at=release.opened_at,
        release_id=other.pk, subject_type="releases.release", subject_id=str(release.pk),
        payload=json.loads(canonical)["payload"], canonical=canonical,
        leaf_hash=hashlib.sha256(b"\x00" + canonical.encode()).hexdigest(),
    )

    # when
    checkpoint = log.checkpoint_create()

    # then: everything before it is signed, the row itself is not
    alarm = SequencingAlarm.objects.get()
    assert f"column release={other.pk}" in alarm.reason
    assert not AuditEvent.objects.filter(uuid=event_uuid, leaf__isnull=False).exists()
    assert checkpoint.size == AuditEvent.objects.filter(leaf__isnull=False).count()


def test_honest_events_raise_no_alarm(lab, release_manager):
    factories.release(lab, release_manager)
    checkpoint = log.checkpoint_create()
    assert SequencingAlarm.objects.count() == 0
    assert checkpoint.size == AuditEvent.objects.count()
