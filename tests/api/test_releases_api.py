"""The releases REST API: who sees what, the gates report, advance and rollback, open."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from govflow.audit.models import AuditEvent
from govflow.releases.models import Release, StageTransition, TransitionKind
from tests import factories

pytestmark = pytest.mark.django_db


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def events_since(mark: int) -> list[str]:
    return list(AuditEvent.objects.filter(pk__gt=mark).values_list("event_type", flat=True))


@pytest.fixture
def release(lab, release_manager):
    return factories.release(lab, release_manager)


@pytest.fixture
def others_release(outsider):
    """A release of the outsider's lab, with a document attached, so every URL has a target."""
    org = outsider.memberships.get().organization
    release = factories.release(org, outsider)
    document = factories.attach(release, outsider)
    return release, document


# --- who sees what ---------------------------------------------------------------------------


def test_a_lab_lists_only_its_own_releases(api, lab, release_manager, release, others_release):
    response = api(release_manager).get("/api/releases")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [release.pk]


def test_a_regulator_lists_every_labs_releases(api, regulator, release, others_release):
    response = api(regulator).get("/api/releases")

    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {release.pk, others_release[0].pk}


def test_an_auditor_firm_sees_no_releases(api, release):
    auditor = factories.person(factories.organization(kind="auditor"), "auditor")
    client = api(auditor)

    listed = client.get("/api/releases")
    detail = client.get(f"/api/releases/{release.pk}")

    assert listed.status_code == 200
    assert listed.json()["results"] == []
    assert detail.status_code == 404


def test_anonymous_gets_401(api, release):
    client = api()
    for url in ("/api/releases", f"/api/releases/{release.pk}"):
        assert client.get(url).status_code == 401
    assert client.post(f"/api/releases/{release.pk}/advance", {}, format="json").status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/releases/{release}"),
        ("get", "/api/releases/{release}/gates"),
        ("get", "/api/releases/{release}/transitions"),
        ("get", "/api/releases/{release}/evidence"),
        ("post", "/api/releases/{release}/evidence"),
        ("post", "/api/releases/{release}/advance"),
        ("post", "/api/releases/{release}/rollback"),
        ("get", "/api/evidence/{document}/download"),
    ],
)
def test_another_labs_release_is_404_not_403(api, release_manager, others_release, method, path):
    # given a release manager of one lab, and a release (with evidence) of another lab
    other, document = others_release
    client = api(release_manager)
    mark = last_event_id()
    url = path.format(release=other.pk, document=document.pk)

    # when they touch it, even with a well-formed request and the right If-Match
    if method == "get":
        response = client.get(url)
    elif url.endswith("/evidence"):
        upload = SimpleUploadedFile("r.txt", b"report", content_type="text/plain")
        response = client.post(
            url, {"file": upload, "document_type": "red_team_report"}, format="multipart"
        )
    else:
        response = client.post(
            url, {"target": "internal_evals", "reason": "x"}, format="json",
            HTTP_IF_MATCH=other.etag,
        )

    # then it does not exist for them, and nothing happened
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert events_since(mark) == []
    other.refresh_from_db()
    assert other.version == 1


# --- gates ------------------------------------------------------------------------------------


def test_gates_reports_without_changing_anything(api, release_manager, release):
    client = api(release_manager)
    mark = last_event_id()

    response = client.get(f"/api/releases/{release.pk}/gates")

    body = response.json()
    assert response.status_code == 200
    assert response["ETag"] == release.etag
    assert body["target"] == "third_party_audit"
    assert body["all_met"] is False
    assert [(g["kind"], g["met"]) for g in body["gates"]] == [("evidence_document", False)]
    assert events_since(mark) == []
    release.refresh_from_db()
    assert (release.stage, release.version) == ("internal_evals", 1)
    assert StageTransition.objects.filter(release=release).count() == 1


# --- advance ----------------------------------------------------------------------------------


def test_advance_without_if_match_is_428(api, release_manager, release):
    factories.attach(release, release_manager)
    client = api(release_manager)
    mark = last_event_id()

    response = client.post(f"/api/releases/{release.pk}/advance", {}, format="json")

    assert response.status_code == 428
    assert response.json()["error"] == "precondition_required"
    assert events_since(mark) == []


def test_advance_with_a_stale_if_match_is_412(api, release_manager, release):
    factories.attach(release, release_manager)
    client = api(release_manager)
    mark = last_event_id()

    response = client.post(
        f"/api/releases/{release.pk}/advance", {}, format="json",
        HTTP_IF_MATCH=f'"{release.pk}-0"',
    )

    assert response.status_code == 412
    assert response.json() == {
        "error": "stale_version",
        "message": response.json()["message"],
        "current_version": 1,
    }
    assert events_since(mark) == []
    release.refresh_from_db()
    assert release.stage == "internal_evals"


def test_advance_with_unmet_gates_is_409_with_the_report_and_writes_nothing(
    api, release_manager, release
):
    client = api(release_manager)
    mark = last_event_id()

    response = client.post(
        f"/api/releases/{release.pk}/advance", {}, format="json", HTTP_IF_MATCH=release.etag
    )

    body = response.json()
    assert response.status_code == 409
    assert body["error"] == "gates_not_met"
    assert body["gate_report"]["all_met"] is False
    assert body["gate_report"]["target"] == "third_party_audit"
    assert events_since(mark) == []
    release.refresh_from_db()
    assert (release.stage, release.version) == ("internal_evals", 1)
    assert not StageTransition.objects.filter(release=release, kind=TransitionKind.ADVANCE).exists()


def test_advance_with_gates_met_moves_the_release_and_returns_a_new_etag(
    api, release_manager, release
):
    factories.attach(release, release_manager)
    client = api(release_manager)
    mark = last_event_id()

    response = client.post(
        f"/api/releases/{release.pk}/advance", {}, format="json", HTTP_IF_MATCH=release.etag
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["kind"], body["from_stage"], body["to_stage"]) == (
        "advance", "internal_evals", "third_party_audit"
    )
    assert body["gate_report"]["all_met"] is True
    assert response["ETag"] == f'"{release.pk}-2"'
    assert events_since(mark) == ["release.advanced"]
    release.refresh_from_db()
    assert (release.stage, release.version) == ("third_party_audit", 2)


def test_a_lab_signer_of_the_same_lab_may_not_advance(api, lab, release_manager, release):
    factories.attach(release, release_manager)
    signer = factories.person(lab, "lab_signer")
    client = api(signer)
    mark = last_event_id()

    response = client.post(
        f"/api/releases/{release.pk}/advance", {}, format="json", HTTP_IF_MATCH=release.etag
    )

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert events_since(mark) == []
    release.refresh_from_db()
    assert release.stage == "internal_evals"


# --- rollback ---------------------------------------------------------------------------------


def test_rollback_returns_the_release_to_an_earlier_stage(api, release_manager, release):
    factories.attach(release, release_manager)
    client = api(release_manager)
    client.post(
        f"/api/releases/{release.pk}/advance", {}, format="json", HTTP_IF_MATCH=release.etag
    )
    mark = last_event_id()

    response = client.post(
        f"/api/releases/{release.pk}/rollback",
        {"target": "internal_evals", "reason": "critical finding"},
        format="json",
        HTTP_IF_MATCH=f'"{release.pk}-2"',
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["kind"], body["to_stage"], body["reason"]) == (
        "rollback", "internal_evals", "critical finding"
    )
    assert response["ETag"] == f'"{release.pk}-3"'
    assert events_since(mark) == ["release.rolled_back"]
    release.refresh_from_db()
    assert release.stage == "internal_evals"


def test_rollback_without_a_reason_is_400_naming_the_field(api, release_manager, release):
    client = api(release_manager)
    mark = last_event_id()

    response = client.post(
        f"/api/releases/{release.pk}/rollback", {"target": "internal_evals"}, format="json",
        HTTP_IF_MATCH=release.etag,
    )

    body = response.json()
    assert response.status_code == 400
    assert body["error"] == "invalid"
    assert [f["path"] for f in body["fields"]] == ["reason"]
    assert events_since(mark) == []


# --- open -------------------------------------------------------------------------------------


def test_a_release_manager_opens_a_release_under_the_default_policy(api, lab, release_manager):
    version = factories.system_version(lab, release_manager)
    client = api(release_manager)
    mark = last_event_id()

    response = client.post(
        "/api/releases/open", {"system_version": version.pk, "title": "v1"}, format="json"
    )

    body = response.json()
    assert response.status_code == 201
    assert (body["policy_name"], body["stage"], body["status"]) == (
        "default", "internal_evals", "active"
    )
    assert body["organization"] == lab.slug
    assert response["ETag"] == f'"{body["id"]}-1"'
    # the default policy is registered on first use, then the release opens
    assert events_since(mark) == ["policy.registered", "release.opened"]
    assert Release.objects.get(pk=body["id"]).system_version == version


def test_open_with_an_unknown_policy_is_404(api, lab, release_manager):
    version = factories.system_version(lab, release_manager)
    client = api(release_manager)
    mark = last_event_id()

    response = client.post(
        "/api/releases/open",
        {"system_version": version.pk, "title": "v1", "policy": "no-such-policy"},
        format="json",
    )

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert events_since(mark) == []
    assert not Release.objects.exists()


def test_open_of_another_labs_system_version_is_404(api, release_manager, outsider):
    theirs = factories.system_version(outsider.memberships.get().organization, outsider)
    client = api(release_manager)
    mark = last_event_id()

    response = client.post(
        "/api/releases/open", {"system_version": theirs.pk, "title": "v1"}, format="json"
    )

    assert response.status_code == 404
    assert events_since(mark) == []
    assert not Release.objects.exists()


def test_open_with_invalid_fields_is_400_listing_each_path(api, release_manager):
    client = api(release_manager)

    response = client.post(
        "/api/releases/open", {"system_version": "not-a-number"}, format="json"
    )

    body = response.json()
    assert response.status_code == 400
    assert body["error"] == "invalid"
    assert sorted(f["path"] for f in body["fields"]) == ["system_version", "title"]
    assert all(set(f) == {"path", "message"} and f["message"] for f in body["fields"])
    assert not Release.objects.exists()
