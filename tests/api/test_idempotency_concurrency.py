"""Idempotency-Key under a race: 20 identical requests with one key, sent in parallel to a
live server, all get the first response byte for byte and make one change; one that
waits past the bound gets 409 in_progress with Retry-After. PostgreSQL only: SQLite
serialises writers, so its requests never overlap."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import requests
from django.db import connection, transaction

from govflow.core.models import IdempotencyRecord
from govflow.releases.models import EvidenceDocument, StageTransition, TransitionKind
from govflow.rollout.models import Customer
from tests import factories

pytestmark = [pytest.mark.postgres]
PARALLEL = 20


@pytest.fixture
def server(live_db, request):
    return request.getfixturevalue("live_server")


def send_together(count: int, send) -> list[requests.Response]:
    barrier = threading.Barrier(count)
    out: list = [None] * count

    def worker(index: int) -> None:
        with requests.Session() as session:
            barrier.wait(timeout=10)
            try:
                out[index] = send(session)
            except Exception as exc:  # noqa: BLE001 (reported by the assertion below)
                out[index] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return out


def assert_all_the_first_response(responses: list, status: int) -> None:
    assert all(isinstance(r, requests.Response) for r in responses), responses
    assert Counter(r.status_code for r in responses) == {status: len(responses)}, [
        (r.status_code, r.text[:200]) for r in responses]
    first = [r for r in responses if "Idempotent-Replayed" not in r.headers]
    assert len(first) == 1
    assert {r.content for r in responses} == {first[0].content}
    assert {r.headers.get("ETag") for r in responses} == {first[0].headers.get("ETag")}


def test_twenty_parallel_advances_with_one_key_all_get_the_first_response(server):
    # given a release whose gates are met
    lab = factories.organization(kind="lab")
    manager = factories.person(lab, "release_manager")
    release = factories.release(lab, manager)
    factories.attach(release, manager)
    headers = {"Authorization": f"Bearer {factories.token_for(manager)}",
               "If-Match": release.etag, "Idempotency-Key": "race-advance"}
    url = f"{server.url}/api/releases/{release.pk}/advance"

    # when 20 identical requests with one key arrive at once
    responses = send_together(PARALLEL, lambda s: s.post(url, json={}, headers=headers,
                                                         timeout=30))

    # then every one is the first 200, and the release moved once
    assert_all_the_first_response(responses, 200)
    assert StageTransition.objects.filter(release=release,
                                          kind=TransitionKind.ADVANCE).count() == 1


def test_twenty_parallel_customer_registrations_with_one_key_make_one_customer(server):
    lab = factories.organization(kind="lab")
    manager = factories.person(lab, "release_manager")
    headers = {"Authorization": f"Bearer {factories.token_for(manager)}",
               "Idempotency-Key": "race-customer"}
    body = {"external_id": "cust-race", "display_name": "Race"}

    responses = send_together(PARALLEL, lambda s: s.post(f"{server.url}/api/customers",
                                                         json=body, headers=headers, timeout=30))

    assert_all_the_first_response(responses, 201)
    assert Customer.objects.filter(external_id="cust-race").count() == 1


def test_twenty_parallel_evidence_uploads_with_one_key_store_one_document(server):
    lab = factories.organization(kind="lab")
    manager = factories.person(lab, "release_manager")
    release = factories.release(lab, manager)
    headers = {"Authorization": f"Bearer {factories.token_for(manager)}",
               "Idempotency-Key": "race-evidence"}
    url = f"{server.url}/api/releases/{release.pk}/evidence"

    responses = send_together(PARALLEL, lambda s: s.post(
        url, headers=headers, timeout=30, data={"document_type": "red_team_report"},
        files={"file": ("report.txt", b"red team findings", "text/plain")}))

    assert_all_the_first_response(responses, 201)
    assert EvidenceDocument.objects.filter(release=release).count() == 1


def test_a_request_that_waits_too_long_is_409_in_progress_with_retry_after(server, settings):
    # given a first request with the key still running (its reservation is held,
    # uncommitted, by another connection)
    settings.GOVFLOW_IDEMPOTENCY_WAIT_MS = 300
    lab = factories.organization(kind="lab")
    manager = factories.person(lab, "release_manager")
    token = factories.token_for(manager)
    reserved, release_it = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(user=manager, key="slow", fingerprint="x")
                reserved.set()
                release_it.wait(timeout=30)
                transaction.set_rollback(True)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert reserved.wait(timeout=10)
        # when a second request with that key arrives
        response = requests.post(f"{server.url}/api/customers", timeout=30,
                                 json={"external_id": "c-slow", "display_name": "Slow"},
                                 headers={"Authorization": f"Bearer {token}",
                                          "Idempotency-Key": "slow"})
    finally:
        release_it.set()
        holder.join(timeout=30)

    # then it is told to come back, and did nothing
    assert response.status_code == 409
    assert response.json()["error"] == "in_progress"
    assert response.headers["Retry-After"] == "1"
    assert not Customer.objects.filter(external_id="c-slow").exists()
