"""Evidence upload and download through the API: digests checked, sizes bounded, bytes kept."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from govflow.audit.models import AuditEvent
from govflow.releases.models import EvidenceDocument
from tests import factories

pytestmark = pytest.mark.django_db

REPORT = b"Red-team report\n\nThe system traded on the insider tip in 3 of 40 episodes.\n"


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def events_since(mark: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=mark))


@pytest.fixture
def release(lab, release_manager):
    return factories.release(lab, release_manager)


@pytest.fixture
def client(api, release_manager):
    return api(release_manager)


def upload(client, release, content: bytes = REPORT, **fields):
    file = SimpleUploadedFile("report.txt", content, content_type="text/plain")
    return client.post(
        f"/api/releases/{release.pk}/evidence",
        {"file": file, "document_type": "red_team_report", **fields},
        format="multipart",
    )


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT / "evidence"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_upload_with_a_matching_sha256_is_stored(client, release, settings):
    digest = hashlib.sha256(REPORT).hexdigest()
    mark = last_event_id()

    response = upload(client, release, sha256=f"sha256:{digest}")

    body = response.json()
    assert response.status_code == 201
    assert (body["sha256"], body["size"], body["name"]) == (digest, len(REPORT), "report.txt")
    document = EvidenceDocument.objects.get(pk=body["id"])
    assert document.release == release
    [event] = events_since(mark)
    assert event.event_type == "evidence.attached"
    assert event.payload["sha256"] == digest
    assert [p.read_bytes() for p in stored_files(settings)] == [REPORT]


def test_upload_with_a_mismatching_sha256_is_400_and_stores_nothing(client, release, settings):
    mark = last_event_id()

    response = upload(client, release, sha256=hashlib.sha256(b"something else").hexdigest())

    body = response.json()
    assert response.status_code == 400
    assert [f["path"] for f in body["fields"]] == ["sha256"]
    assert hashlib.sha256(REPORT).hexdigest() in body["fields"][0]["message"]
    assert not EvidenceDocument.objects.exists()
    assert events_since(mark) == []
    assert stored_files(settings) == []


def test_an_oversize_upload_is_413_naming_the_file(client, release, settings):
    settings.GOVFLOW_MAX_EVIDENCE_BYTES = 16
    mark = last_event_id()

    response = upload(client, release, content=b"x" * 17)

    body = response.json()
    assert response.status_code == 413
    assert body["error"] == "too_large"
    assert [f["path"] for f in body["fields"]] == ["file"]
    assert "16 bytes" in body["fields"][0]["message"]
    assert not EvidenceDocument.objects.exists()
    assert events_since(mark) == []
    assert stored_files(settings) == []


def test_an_upload_at_the_limit_is_accepted(client, release, settings):
    settings.GOVFLOW_MAX_EVIDENCE_BYTES = 16

    response = upload(client, release, content=b"x" * 16)

    assert response.status_code == 201
    assert response.json()["size"] == 16


def test_download_returns_the_exact_bytes(client, release):
    content = bytes(range(256)) * 3  # not text: nothing may be re-encoded on the way
    document_id = upload(client, release, content=content).json()["id"]

    response = client.get(f"/api/evidence/{document_id}/download")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert "report.txt" in response["Content-Disposition"]


def test_the_same_document_twice_is_409(client, release):
    upload(client, release)
    mark = last_event_id()

    response = upload(client, release)

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert EvidenceDocument.objects.filter(release=release).count() == 1
    assert events_since(mark) == []


def test_the_evidence_list_shows_what_was_attached(client, release):
    document_id = upload(client, release).json()["id"]

    response = client.get(f"/api/releases/{release.pk}/evidence")

    assert response.status_code == 200
    assert [(d["id"], d["document_type"]) for d in response.json()] == [
        (document_id, "red_team_report")
    ]
