"""A key revoked *while* a signed act is between its signature check and its write, on two
real PostgreSQL connections at once.

The kernel's recording transaction spends the nonce with ``INSERT … SELECT … FROM key
WHERE not revoked … FOR SHARE`` (`govflow.keys.acts`). The interleavings are forced, not
hoped for: each test waits until PostgreSQL itself reports the other connection blocked
on the key row's lock (``pg_stat_activity.wait_event_type = 'Lock'``) before letting the
first one commit.

- The revocation holds the key row when the act arrives: the act waits, PostgreSQL
  re-reads the row once the revocation commits, finds it revoked and inserts nothing:
  the act is refused (``key_revoked``) with nothing written.
- The act holds the key row (FOR SHARE) when the revocation arrives: the revocation waits
  for the act to commit; the act stands, logged before the revocation, as the offline
  verifier requires.
"""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from django.db import connection, transaction

from govflow.audit.models import AuditEvent
from govflow.core.errors import Conflict
from govflow.keys.acts import act_record, act_verify
from govflow.keys.models import SigningKey
from govflow.keys.services import key_revoke
from govflow.oversight.acts import HOLD_PLACE
from govflow.oversight.models import RegulatoryHold
from govflow.oversight.predicates import build_hold
from tests import factories
from tests.auditing.support import Person, person

pytestmark = [pytest.mark.postgres]


def _world() -> tuple[Person, object]:
    lab = factories.organization(kind="lab")
    manager = factories.person(lab, "release_manager")
    release = factories.release(lab, manager)
    rita = person(factories.organization(kind="regulator"), "regulator")
    return rita, release


def _hold(release) -> dict:
    version = release.system_version
    return build_hold(action="place", release=release.pk, system_id=version.system_id,
                      version_number=version.number, manifest_digest=version.manifest_digest,
                      reason="pending review")


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _wait_until_blocked_on_a_lock(pid_box: list, timeout: float = 10.0) -> None:
    """Until the connection whose pid lands in ``pid_box`` waits on a row lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid_box:
            with connection.cursor() as cursor:
                cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                               [pid_box[0]])
                row = cursor.fetchone()
            if row and row[0] == "Lock":
                return
        time.sleep(0.01)
    raise AssertionError("the other connection never blocked on the key row's lock")


def _run(target) -> tuple[threading.Thread, list]:
    outcome: list = []

    def body() -> None:
        try:
            outcome.append(target())
        except BaseException as exc:  # noqa: BLE001 (handed to the test)
            outcome.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread, outcome


def _join(*threads: threading.Thread) -> None:
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive(), "a connection did not finish (deadlock?)"


def test_an_act_arriving_while_its_key_is_being_revoked_is_refused(live_db):
    # given the regulator's hold, signature checked (the kernel's reads are done)
    rita, release = _world()
    verified, _ = act_verify(HOLD_PLACE, envelope=rita.sign(_hold(release)), actor=rita.user)
    key_pk = verified.key.pk
    revoking, commit_revocation = threading.Event(), threading.Event()
    act_pid: list[int] = []

    def revoke():
        with transaction.atomic():
            key_revoke(key_pk=key_pk, reason="laptop stolen", actor=rita.user)
            revoking.set()  # the key row is locked and updated, not yet committed
            assert commit_revocation.wait(timeout=20)
        return "revoked"

    def record():
        act_pid.append(_backend_pid())
        return act_record(HOLD_PLACE, verified, actor=rita.user)

    # when the revocation holds the key row and the act's write arrives
    revoker, revoked = _run(revoke)
    assert revoking.wait(timeout=10)
    recorder, recorded = _run(record)
    _wait_until_blocked_on_a_lock(act_pid)
    commit_revocation.set()
    _join(revoker, recorder)

    # then the act is refused, with nothing of it written
    assert revoked == ["revoked"]
    assert isinstance(recorded[0], Conflict), recorded
    assert recorded[0].detail["rule"] == "key_revoked"
    assert not RegulatoryHold.objects.exists()
    assert not AuditEvent.objects.filter(event_type="hold.placed").exists()
    assert SigningKey.objects.get(pk=key_pk).revoked_at is not None


def test_a_revocation_arriving_while_an_act_is_recorded_waits_for_it(live_db):
    # given the act's recording transaction holds the key row FOR SHARE and pauses inside
    rita, release = _world()
    verified, _ = act_verify(HOLD_PLACE, envelope=rita.sign(_hold(release)), actor=rita.user)
    key_pk = verified.key.pk
    recording, finish_recording = threading.Event(), threading.Event()
    revoke_pid: list[int] = []

    def paused_record(**kwargs):
        recording.set()  # the nonce is spent under the key's share lock
        assert finish_recording.wait(timeout=20)
        return HOLD_PLACE.record(**kwargs)

    pausing = dataclasses.replace(HOLD_PLACE, record=paused_record)

    def record():
        return act_record(pausing, verified, actor=rita.user)

    def revoke():
        revoke_pid.append(_backend_pid())
        return key_revoke(key_pk=key_pk, reason="laptop stolen", actor=rita.user)

    # when the revocation arrives while the act is being written
    recorder, recorded = _run(record)
    assert recording.wait(timeout=10)
    revoker, revoked = _run(revoke)
    _wait_until_blocked_on_a_lock(revoke_pid)
    finish_recording.set()
    _join(recorder, revoker)

    # then the act stands, logged before the revocation
    assert isinstance(recorded[0], RegulatoryHold), recorded
    assert isinstance(revoked[0], SigningKey), revoked
    placed = AuditEvent.objects.get(event_type="hold.placed")
    revocation = AuditEvent.objects.get(event_type="key.revoked")
    assert placed.pk < revocation.pk
