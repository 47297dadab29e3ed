"""The same signed envelope submitted twice at the same moment: exactly one is stored.

Real commits across connections, so PostgreSQL with ``live_db``; each thread closes its
own connection when done.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from govflow.audit.models import AuditEvent
from govflow.core.errors import Conflict
from govflow.keys.acts import act_record, act_verify
from govflow.signoffs.acts import SIGNOFF
from govflow.signoffs.models import SignOff
from tests import factories
from tests.signoffs.support import SIGNOFF_POLICY, signer

pytestmark = [pytest.mark.postgres]


def test_a_twice_submitted_envelope_is_stored_once(live_db):
    lab = factories.organization(kind="lab")
    manager = factories.person(lab, "release_manager")
    release = factories.release(lab, manager, policy_text=SIGNOFF_POLICY)
    factories.attach(release, manager)
    bob = signer(lab, "lab_signer")
    envelope = bob.envelope(release, "lab_signer")
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def submit(index: int) -> None:
        try:
            verified, _ = act_verify(SIGNOFF, envelope=envelope, actor=bob.user)
            barrier.wait(timeout=10)
            outcomes[index] = act_record(SIGNOFF, verified, actor=bob.user)
        except BaseException as exc:  # noqa: BLE001 (reported to the test, not swallowed)
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive(), "a concurrent sign-off did not finish (deadlock?)"

    stored = [o for o in outcomes if isinstance(o, SignOff)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(stored), len(refused)) == (1, 1), outcomes
    assert refused[0].detail["rule"] == "replayed"
    assert SignOff.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="signoff.recorded").count() == 1
