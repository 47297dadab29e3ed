"""Idempotency-Key: a retried request gets the first answer again and changes nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from govflow.audit.models import AuditEvent
from govflow.core.models import IdempotencyRecord
from govflow.releases.models import EvidenceDocument, Release, StageTransition, TransitionKind
from tests import factories

pytestmark = pytest.mark.django_db


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def events_since(mark: int) -> list[str]:
    return list(AuditEvent.objects.filter(pk__gt=mark).values_list("event_type", flat=True))


def advances(release) -> int:
    return StageTransition.objects.filter(release=release, kind=TransitionKind.ADVANCE).count()


def test_a_retried_advance_replays_the_first_response_and_changes_nothing(
    api, lab, release_manager
):
    # given a release whose gates are met
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    client = api(release_manager)
    mark = last_event_id()
    url = f"/api/releases/{release.pk}/advance"

    # when the same request is sent twice with one key (the If-Match is stale the
    # second time: a replay answers before anything is checked again)
    first = client.post(
        url, {}, format="json", HTTP_IF_MATCH=release.etag, HTTP_IDEMPOTENCY_KEY="adv-1"
    )
    second = client.post(
        url, {}, format="json", HTTP_IF_MATCH=release.etag, HTTP_IDEMPOTENCY_KEY="adv-1"
    )

    # then the second answer is the first one, marked as a replay
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second["ETag"] == first["ETag"] == f'"{release.pk}-2"'
    assert "Idempotent-Replayed" not in first
    assert second["Idempotent-Replayed"] == "true"
    # and the release moved once
    assert events_since(mark) == ["release.advanced"]
    assert advances(release) == 1
    release.refresh_from_db()
    assert (release.stage, release.version) == ("third_party_audit", 2)


def test_the_same_key_with_a_different_body_is_422_and_does_nothing(api, lab, release_manager):
    version = factories.system_version(lab, release_manager)
    client = api(release_manager)
    first = client.post(
        "/api/releases/open", {"system_version": version.pk, "title": "first"}, format="json",
        HTTP_IDEMPOTENCY_KEY="open-1",
    )
    mark = last_event_id()

    second = client.post(
        "/api/releases/open", {"system_version": version.pk, "title": "second"}, format="json",
        HTTP_IDEMPOTENCY_KEY="open-1",
    )

    assert first.status_code == 201
    assert second.status_code == 422
    assert second.json()["error"] == "idempotency_key_reused"
    assert "Idempotent-Replayed" not in second
    assert events_since(mark) == []
    assert list(Release.objects.values_list("title", flat=True)) == ["first"]


def test_keys_belong_to_one_user(api, lab, release_manager):
    # given two release managers of one lab sending the same body with the same key
    colleague = factories.person(lab, "release_manager")
    version = factories.system_version(lab, release_manager)
    body = {"system_version": version.pk, "title": "same"}
    mine = api(release_manager)
    theirs = api(colleague)
    mark = last_event_id()

    # when each sends it once
    first = mine.post("/api/releases/open", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    second = theirs.post("/api/releases/open", body, format="json", HTTP_IDEMPOTENCY_KEY="k")

    # then both requests ran: the colleague's key is not the user's key
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert first.json()["id"] != second.json()["id"]
    assert events_since(mark) == ["policy.registered", "release.opened", "release.opened"]
    assert IdempotencyRecord.objects.filter(key="k").count() == 2


def test_a_refused_request_is_not_remembered(api, lab, release_manager):
    # given an advance refused (409) under a key, because the gates are not met
    release = factories.release(lab, release_manager)
    client = api(release_manager)
    url = f"/api/releases/{release.pk}/advance"
    refused = client.post(
        url, {}, format="json", HTTP_IF_MATCH=release.etag, HTTP_IDEMPOTENCY_KEY="adv-2"
    )
    assert refused.status_code == 409
    assert not IdempotencyRecord.objects.filter(key="adv-2").exists()

    # when the state then allows it and the client retries with the same key
    factories.attach(release, release_manager)
    mark = last_event_id()
    retried = client.post(
        url, {}, format="json", HTTP_IF_MATCH=release.etag, HTTP_IDEMPOTENCY_KEY="adv-2"
    )

    # then the retry runs for real, and is remembered from now on
    assert retried.status_code == 200
    assert "Idempotent-Replayed" not in retried
    assert events_since(mark) == ["release.advanced"]
    assert IdempotencyRecord.objects.filter(key="adv-2", status_code=200).count() == 1


def test_a_retried_evidence_upload_stores_one_document(api, lab, release_manager):
    release = factories.release(lab, release_manager)
    client = api(release_manager)
    mark = last_event_id()
    url = f"/api/releases/{release.pk}/evidence"

    def upload():
        file = SimpleUploadedFile("report.txt", b"red team findings", content_type="text/plain")
        return client.post(
            url, {"file": file, "document_type": "red_team_report"}, format="multipart",
            HTTP_IDEMPOTENCY_KEY="upload-1",
        )

    first = upload()
    second = upload()

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert EvidenceDocument.objects.filter(release=release).count() == 1
    assert events_since(mark) == ["evidence.attached"]


def test_a_different_file_under_the_same_key_is_422(api, lab, release_manager):
    release = factories.release(lab, release_manager)
    client = api(release_manager)
    url = f"/api/releases/{release.pk}/evidence"

    def upload(content: bytes):
        file = SimpleUploadedFile("report.txt", content, content_type="text/plain")
        return client.post(
            url, {"file": file, "document_type": "red_team_report"}, format="multipart",
            HTTP_IDEMPOTENCY_KEY="upload-2",
        )

    first = upload(b"version one")
    mark = last_event_id()
    second = upload(b"version two")

    assert first.status_code == 201
    assert second.status_code == 422
    assert events_since(mark) == []
    assert EvidenceDocument.objects.filter(release=release).count() == 1


@pytest.mark.parametrize("key", ["", " ", "caf\u00e9", "x" * 256])
def test_an_empty_or_unprintable_key_is_400_not_ignored(api, lab, release_manager, key):
    # given a release manager registering a customer with a key that identifies nothing
    client = api(release_manager)
    # when it is sent
    response = client.post("/api/customers", {"external_id": "c-1", "display_name": "C"},
                           format="json", HTTP_IDEMPOTENCY_KEY=key)
    # then 400 naming the header, and nothing registered
    assert response.status_code == 400
    assert response.json()["fields"][0]["path"] == "Idempotency-Key"
    assert not IdempotencyRecord.objects.exists()


def test_a_replay_is_the_first_response_byte_for_byte(api, lab, release_manager):
    client = api(release_manager)
    body = {"external_id": "c-bytes", "display_name": "Bytes"}
    first = client.post("/api/customers", body, format="json", HTTP_IDEMPOTENCY_KEY="bytes")
    second = client.post("/api/customers", body, format="json", HTTP_IDEMPOTENCY_KEY="bytes")
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second["Idempotent-Replayed"] == "true"
