"""After a sequencing alarm: the operator sees the refused row, and resuming leaves it,
its alarm and the quarantine itself in the record (govflow.audit.quarantine)."""

from __future__ import annotations

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse

from govflow.audit import log
from govflow.audit.export import build_bundle
from govflow.audit.logkey import log_verifier_key
from govflow.audit.models import AuditEvent, QuarantinedEvent, SequencingAlarm
from govflow.monitoring.models import Notification
from govflow.verify.bundle import verify_bundle
from tests import factories
from tests.audit.test_sequencer import forged_advance

pytestmark = pytest.mark.django_db


def refused_row(lab, release_manager):
    """A row whose bytes name one release and whose column another, then an honest event
    behind it; the checkpoint task stops at the row."""
    release = factories.release(lab, release_manager)
    other = factories.release(lab, release_manager)
    event_uuid, canonical = forged_advance(release.pk)
    forged = AuditEvent.objects.create(
        uuid=event_uuid, event_type="release.advanced", created_at=release.opened_at,
        release_id=other.pk, subject_type="releases.release", subject_id=str(release.pk),
        payload=json.loads(canonical)["payload"], canonical=canonical,
        leaf_hash=hashlib.sha256(b"\x00" + canonical.encode()).hexdigest(),
    )
    factories.attach(release, release_manager)  # honest, and stuck behind the row
    stopped = log.checkpoint_create()
    return forged, stopped


def command(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("audit", *args, stdout=out)
        return 0, out.getvalue()
    except SystemExit as exit_:
        return int(exit_.code), out.getvalue()


def test_the_operator_sees_the_alarm_the_row_and_what_waits_behind_it(lab, release_manager):
    forged, _ = refused_row(lab, release_manager)

    code, out = command("alarms")

    assert code == 1  # an alarm is open
    alarm = SequencingAlarm.objects.get()
    assert f"ALARM {alarm.pk}" in out
    assert "open: sequencing is stopped" in out
    assert f"#{forged.pk} {forged.uuid}" in out
    assert forged.leaf_hash in out  # stored and computed (equal here: the columns lie)
    assert "waiting behind it: 1 event(s)" in out


def test_quarantine_resumes_sequencing_and_logs_the_refused_row(lab, release_manager,
                                                                 regulator):
    # given: sequencing stopped at a refused row
    forged, stopped = refused_row(lab, release_manager)
    honest = AuditEvent.objects.filter(pk__gt=forged.pk).order_by("id").first()
    alarm = SequencingAlarm.objects.get()

    # when: the operator quarantines it, and the checkpoint task runs
    code, out = command("quarantine", str(alarm.pk), "--reason", "inserted by hand in a test")
    resumed = log.checkpoint_create()

    # then: the honest event and the quarantine record are signed, the row never is
    assert code == 0, out
    quarantine = QuarantinedEvent.objects.get()
    assert resumed.size > stopped.size
    assert not AuditEvent.objects.filter(pk=forged.pk, leaf__isnull=False).exists()
    assert AuditEvent.objects.filter(pk__in=[honest.pk, quarantine.record_id],
                                     leaf__isnull=False).count() == 2
    record = AuditEvent.objects.get(pk=quarantine.record_id)
    body = json.loads(record.canonical)
    assert body["type"] == "log.event_quarantined"
    assert body["payload"]["row"]["canonical"] == forged.canonical
    assert body["payload"]["row"]["stored_leaf_hash"] == forged.leaf_hash
    assert body["payload"]["alarm_reason"] == alarm.reason
    # the alarm is answered, not gone; and regulators hear of the quarantine too
    assert SequencingAlarm.objects.filter(pk=alarm.pk).exists()
    assert log.open_alarm() is None
    assert Notification.objects.filter(kind="log_event_quarantined",
                                       organization__kind="regulator").count() == 1
    # and the offline verifier names it in the full export
    report = verify_bundle(json.loads(json.dumps(build_bundle(release=None), default=str)),
                           log_key=log_verifier_key())
    assert report.passed, report.render()
    assert any(f"row {forged.pk} ({forged.uuid})" in w and "quarantined" in w
               for w in report.warnings)


def test_an_alarm_is_quarantined_once_and_never_deleted(lab, release_manager):
    refused_row(lab, release_manager)
    alarm = SequencingAlarm.objects.get()
    assert command("quarantine", str(alarm.pk), "--reason", "first")[0] == 0

    with pytest.raises(CommandError, match="already quarantined"):
        call_command("audit", "quarantine", str(alarm.pk), "--reason", "again")
    with pytest.raises(CommandError, match="--reason"):
        call_command("audit", "quarantine", str(alarm.pk), "--reason", "  ")
    for rows in (SequencingAlarm.objects.all(), QuarantinedEvent.objects.all()):
        with pytest.raises(DatabaseError), transaction.atomic():
            rows.delete()
    assert SequencingAlarm.objects.count() == QuarantinedEvent.objects.count() == 1


def test_every_console_user_sees_the_stopped_log_until_the_quarantine(lab, release_manager):
    refused_row(lab, release_manager)
    console = Client()
    console.force_login(release_manager)
    page = console.get(reverse("console:releases")).text
    assert 'id="sequencing-alarm"' in page
    assert "Audit log sequencing is stopped" in page

    command("quarantine", str(SequencingAlarm.objects.get().pk), "--reason", "seen")

    assert 'id="sequencing-alarm"' not in console.get(reverse("console:releases")).text
