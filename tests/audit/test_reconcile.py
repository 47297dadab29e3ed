"""`manage.py audit reconcile`: the governed tables are a cache of the log, and a row
changed past the services is reported as drift (and regulators are told)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from govflow.audit import log
from govflow.audit.models import AuditEvent
from govflow.audit.reconcile import audit_reconcile
from govflow.audit.tasks import reconcile
from govflow.monitoring.models import Notification
from govflow.oversight.models import RegulatoryHold
from govflow.releases.models import Release
from govflow.releases.services import release_advance
from tests import factories
from tests.oversight.support import regulator_with_key
from tests.oversight.test_holds import _place
from tests.verify.test_offline_verifier import _drop_log_triggers

pytestmark = pytest.mark.django_db


def history(lab, release_manager):
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    release_advance(release_id=release.pk, actor=release_manager)
    log.checkpoint_create()
    return release


def run_command(capsys, *args) -> tuple[int, str]:
    try:
        call_command("audit", "reconcile", *args)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().out


def test_tables_written_by_the_services_agree_with_the_log(capsys, lab, release_manager):
    history(lab, release_manager)

    code, out = run_command(capsys)

    assert code == 0
    assert "the governed tables agree with the log" in out


def test_a_stage_changed_in_the_table_is_reported(capsys, lab, release_manager, regulator):
    # given: the operator moves a release on in the table, past the services
    release = history(lab, release_manager)
    Release.objects.filter(pk=release.pk).update(stage="open_weights", status="completed")

    # when
    code, out = run_command(capsys)

    # then
    assert code == 1
    assert (f"DRIFT release {release.pk}: stage is 'open_weights' in the table, "
            "'third_party_audit' in the log") in out
    assert f"release {release.pk}: status is 'completed' in the table" in out


def test_a_hold_lifted_in_the_table_is_reported_and_regulators_told(api, lab, release_manager,
                                                                     regulator):
    release = history(lab, release_manager)
    placer, key = regulator_with_key()
    assert _place(api, placer, key, release).status_code == 201
    log.checkpoint_create()
    RegulatoryHold.objects.filter(release=release).update(lifted_at=release.opened_at)

    drifted = reconcile()

    assert drifted == 1
    assert "standing holds [] in the table" in audit_reconcile()[0]
    notice = Notification.objects.get(kind="log_drift", organization=regulator.memberships
                                      .first().organization)
    assert "disagree with the audit log in 1 place" in notice.subject


@pytest.mark.postgres
def test_the_api_serves_the_logged_payload_not_the_column(api, lab, release_manager):
    # given: the operator rewrites an event's payload column (not its hashed bytes)
    release = history(lab, release_manager)
    event = AuditEvent.objects.get(release_id=release.pk, event_type="release.advanced")
    _drop_log_triggers()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET payload = '{\"to\": \"open_weights\"}' "
                       "WHERE id = %s", [event.pk])

    # when
    rows = api(release_manager).get("/api/log/events?page_size=500").json()

    # then
    served = next(r for r in rows["results"] if r["id"] == event.pk)
    assert served["payload"]["to"] == "third_party_audit"


def test_a_stage_changed_in_the_table_reaches_the_regulators_console(lab, release_manager,
                                                                     regulator):
    # given: the operator moves a release on in the table, past the services
    release = history(lab, release_manager)
    Release.objects.filter(pk=release.pk).update(stage="open_weights")
    console, lab_console = Client(), Client()
    console.force_login(regulator)
    lab_console.force_login(release_manager)
    assert 'id="log-drift"' not in console.get(reverse("console:releases")).text

    # when: beat's reconciliation runs
    drifted = reconcile()

    # then: regulators are notified and see it on every console page; the lab is not shown
    assert drifted == 1
    assert Notification.objects.filter(kind="log_drift", organization__kind="regulator").exists()
    page = console.get(reverse("console:releases")).text
    assert 'id="log-drift"' in page
    assert (f"release {release.pk}: stage is &#x27;open_weights&#x27; in the table" in page)
    assert 'id="log-drift"' not in lab_console.get(reverse("console:releases")).text

    # and once the table agrees again, the next run clears the banner
    Release.objects.filter(pk=release.pk).update(stage="third_party_audit")
    assert reconcile() == 0
    assert 'id="log-drift"' not in console.get(reverse("console:releases")).text
