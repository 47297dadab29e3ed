"""Signed cohort snapshots: a regulator confirms root, size and cap without any customer
id; a gateway checks members locally against the signed root."""

from __future__ import annotations

import copy

import pytest
from rest_framework.test import APIClient

from govflow.audit.logkey import log_signing_key
from govflow.audit.models import AuditEvent
from govflow.rollout.membership import SnapshotError, SnapshotIndex, verify_snapshot
from govflow.rollout.models import CohortSnapshot
from govflow.rollout.predicates import build_snapshot_order
from govflow.rollout.services import cohort_admit, cohort_remove, snapshot_publish
from govflow.trust.note import parse_verifier_key
from tests.auditing.support import release_json
from tests.rollout.support import customer


def _client(person) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {person.token}")
    return client


def _cohort(world, *ids):
    for external_id in ids:
        customer(world.lab, world.manager.user, external_id)
    members = cohort_admit(release_id=world.release.pk, stage="limited_rollout",
                           external_ids=list(ids), actor=world.manager.user)
    return members[0].cohort


def _log_key(client):
    """The key a regulator pins: the audit log's, as /api/log/key publishes it."""
    return parse_verifier_key(client.get("/api/log/key").json()["verifier_key"]).public_key


def test_a_regulator_confirms_root_size_and_cap_without_seeing_any_customer(world):
    cohort = _cohort(world, "ada-lovelace", "grace-hopper")
    mark = AuditEvent.objects.order_by("-id").first().pk
    snapshot_publish(cohort_id=cohort.pk)
    assert list(AuditEvent.objects.filter(pk__gt=mark).values_list("event_type", flat=True)) \
        == ["cohort.snapshot_published"]
    regulator = _client(world.regulator)
    response = regulator.get(f"/api/releases/{world.release.pk}/cohorts/limited_rollout/snapshot")
    assert response.status_code == 200
    body = response.json()
    # the regulator's copy names nobody
    assert body["members"] is None
    assert "lovelace" not in response.content.decode()
    verified = verify_snapshot(body, _log_key(regulator))
    assert verified.size == 2
    assert verified.cap == 4
    assert verified.root.hex() == body["root"]
    logged = AuditEvent.objects.get(event_type="cohort.snapshot_published")
    assert (logged.payload["root"], logged.payload["size"]) == (body["root"], 2)


def test_a_gateway_checks_membership_locally_with_an_inclusion_proof(world):
    cohort = _cohort(world, "cust-1", "cust-2")
    customer(world.lab, world.manager.user, "cust-3")  # a customer, not a member
    snapshot_publish(cohort_id=cohort.pk)
    lab = _client(world.manager)
    body = lab.get(f"/api/releases/{world.release.pk}/cohorts/limited_rollout/snapshot").json()
    index = SnapshotIndex(body, _log_key(lab))
    assert index.contains("cust-1")
    assert index.contains("cust-2")
    assert not index.contains("cust-3")
    position, proof = index.proof("cust-2")
    assert 0 <= position < 2
    assert len(proof) >= 1
    # a member list tampered with locally admits nobody the signed root does not
    forged = copy.deepcopy(body)
    forged["members"].append({"customer": "intruder", "salt": "00" * 16})
    assert not SnapshotIndex(forged, _log_key(lab)).contains("intruder")


def test_tampered_snapshots_do_not_verify(world):
    cohort = _cohort(world, "cust-1", "cust-2")
    snapshot = snapshot_publish(cohort_id=cohort.pk)
    body = {"envelope": snapshot.envelope, "leaves": list(snapshot.leaves)}
    key = log_signing_key().public_key()
    assert verify_snapshot(body, key).size == 2
    dropped = {**body, "leaves": body["leaves"][:1]}
    with pytest.raises(SnapshotError, match="hash to"):
        verify_snapshot(dropped, key)
    from govflow.trust.keys import generate_private_key

    with pytest.raises(SnapshotError, match="signature"):
        verify_snapshot(body, generate_private_key().public_key())


def test_one_snapshot_per_cohort_version_and_a_new_one_after_a_change(world):
    cohort = _cohort(world, "cust-1", "cust-2")
    first = snapshot_publish(cohort_id=cohort.pk)
    assert snapshot_publish(cohort_id=cohort.pk).pk == first.pk
    cohort_remove(release_id=world.release.pk, stage="limited_rollout", external_id="cust-1",
                  reason="left", actor=world.manager.user)
    second = snapshot_publish(cohort_id=cohort.pk)
    assert second.size == 1
    assert second.cohort_version > first.cohort_version
    assert CohortSnapshot.objects.count() == 2


def test_a_snapshot_is_published_after_each_change_committed(live_world):
    cohort = _cohort(live_world, "cust-1")
    # the task queued after the admission's commit ran (in-process in the tests)
    assert CohortSnapshot.objects.filter(cohort=cohort, size=1).exists()


def test_another_lab_gets_404_for_the_snapshot_and_auditors_see_nothing(world):
    cohort = _cohort(world, "cust-1")
    snapshot_publish(cohort_id=cohort.pk)
    url = f"/api/releases/{world.release.pk}/cohorts/limited_rollout/snapshot"
    assert _client(world.outsider).get(url).status_code == 404
    assert _client(world.outsider).post(url).status_code == 404
    order = build_snapshot_order(release=release_json(world.release), stage="limited_rollout")
    assert _client(world.regulator).post(url, {"envelope": world.regulator.sign(order)},
                                         format="json").status_code == 201
