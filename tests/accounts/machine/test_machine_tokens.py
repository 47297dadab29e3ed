"""Machine tokens: a monitoring source's or serving gateway's token files incidents on ONE
release and does nothing else; the lab's release manager issues it (audited, with the
release); it expires and is revocable; its incidents say they were filed with it.

The attack each test plays: the token leaks (it lives on a gateway host), and the thief
tries everything a bearer token could once do.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from govflow.accounts.models import ApiToken
from govflow.accounts.services import token_revoke
from govflow.audit.models import AuditEvent
from govflow.core.errors import Conflict
from govflow.monitoring.models import Incident
from govflow.monitoring.services import incident_report
from govflow.releases.models import ReleaseStatus
from tests import factories
from tests.auditing.conftest import World
from tests.auditing.support import audited_release, person
from tests.auditing.test_ended_auditor import ROUTES, _counts, _path

pytestmark = pytest.mark.django_db

INCIDENTS = "/api/incidents"


def _bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _issue(w: World, **body) -> dict:
    response = w.manager.client.post(f"/api/releases/{w.release.pk}/machine-tokens", {
        "name": "abuse classifier", "purpose": "incident:file", **body}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _incident(w: World, release=None, severity: str = "low") -> dict:
    return {"release": (release or w.release).pk, "severity": severity, "category": "misuse",
            "description": "bulk sign-ups through the browser tool"}


def test_the_release_manager_issues_one_and_it_files_an_incident_that_says_so(world):
    w = world
    made = _issue(w, ttl_days=30)
    issued = AuditEvent.objects.filter(event_type="token.issued").order_by("-id").first()

    filed = _bearer(made["secret"]).post(INCIDENTS, _incident(w), format="json")

    assert filed.status_code == 201, filed.json()
    assert made["token"]["purpose"] == "incident:file"
    assert made["token"]["release"] == w.release.pk
    assert issued.release_id == w.release.pk
    assert issued.payload["token"] == made["token"]["id"]
    assert issued.payload["purpose"] == "incident:file"
    event = AuditEvent.objects.filter(event_type="incident.reported").get()
    assert "envelope" not in event.payload
    assert event.payload["machine_token"] == {
        "token": made["token"]["id"], "prefix": made["token"]["prefix"],
        "purpose": "incident:file", "release": w.release.pk}
    assert event.actor_id == w.manager.user.pk


def test_a_critical_incident_from_the_machine_token_pauses_the_release(world):
    made = _issue(world)

    filed = _bearer(made["secret"]).post(INCIDENTS, _incident(world, severity="critical"),
                                         format="json")

    assert filed.status_code == 201
    world.release.refresh_from_db()
    assert world.release.status == ReleaseStatus.PAUSED


@pytest.mark.parametrize("who", ["safety_officer", "lab_signer", "other_lab", "regulator",
                                 "auditor"])
def test_only_the_labs_release_manager_issues_one(world, who):
    w = world
    people = {"safety_officer": lambda: person(w.lab, "safety_officer"),
              "lab_signer": lambda: person(w.lab, "lab_signer"),
              "other_lab": lambda: w.outsider, "regulator": lambda: w.rita,
              "auditor": lambda: w.erin}
    actor = people[who]()
    before = ApiToken.objects.count()

    response = actor.client.post(f"/api/releases/{w.release.pk}/machine-tokens", {
        "name": "x", "purpose": "incident:file"}, format="json")

    assert response.status_code in (403, 404), response.json()
    assert ApiToken.objects.count() == before


def test_it_files_on_its_own_release_only(world):
    w = world
    other = audited_release(w.lab, w.manager.user)  # the same lab's other release
    made = _issue(w)
    before = Incident.objects.count()

    response = _bearer(made["secret"]).post(INCIDENTS, _incident(w, release=other),
                                            format="json")

    assert response.status_code == 404
    assert Incident.objects.count() == before


def test_a_machine_token_does_nothing_but_file_incidents_on_its_release(world, engaged):
    # given a leaked machine token, when the thief walks every endpoint with every method
    made = _issue(world)
    thief = _bearer(made["secret"])
    checked = 0
    for route, name, methods in ROUTES:
        path, _ = _path(route, engaged)
        for method in methods:
            if path == INCIDENTS and method == "post":
                continue  # its one purpose: tested above
            before = _counts()
            if method == "get":
                response = thief.get(path, {"release": world.release.pk})
            else:
                response = getattr(thief, method)(path, {}, format="json")
            where = (method.upper(), path, name, response.status_code)
            body = response.content.decode("utf-8", "replace")
            for marker in engaged.markers:
                assert marker not in body, ("leaked", marker, *where)
            if route.startswith("api/"):
                assert response.status_code in (401, 403, 404, 405), where
            assert _counts() == before, ("recorded something", *where)
            checked += 1
    assert checked > 100


def test_it_cannot_resolve_nor_sign_even_with_a_valid_envelope(world):
    # given the release manager's own signed resolution, sent with the machine token
    from govflow.monitoring.predicates import build_resolution
    from tests.auditing.support import release_json

    incident = incident_report(release_id=world.release.pk, severity="low", category="misuse",
                               description="x", evidence_digests=[], actor=world.manager.user)
    made = _issue(world)
    envelope = world.manager.sign(build_resolution(release=release_json(world.release),
                                                   incident=incident.pk, resolution="done"))

    response = _bearer(made["secret"]).post(f"/api/incidents/{incident.pk}/resolve",
                                            {"envelope": envelope}, format="json")

    assert response.status_code == 403
    assert response.json()["rule"] == "machine_token_scope"
    incident.refresh_from_db()
    assert incident.status == "open"


def test_it_cannot_file_a_signed_incident_in_its_owners_name(world):
    # given an incident statement its owner signed (never submitted), in the thief's hands
    from govflow.monitoring.predicates import build_incident
    from tests.auditing.support import release_json

    made = _issue(world)
    envelope = world.manager.sign(build_incident(
        release=release_json(world.release), severity="critical", category="misuse",
        description="pause it"))

    response = _bearer(made["secret"]).post(INCIDENTS, {"envelope": envelope},
                                            format="json")

    assert response.status_code == 403
    assert response.json()["rule"] == "machine_token_scope"
    assert not Incident.objects.exists()


def test_a_person_files_no_bare_incident_any_more(world):
    lab_manager = world.manager.client

    response = lab_manager.post(INCIDENTS, _incident(world), format="json")

    assert response.status_code == 403
    assert response.json()["rule"] == "signature_required"
    assert not Incident.objects.exists()


def test_a_revoked_machine_token_is_refused_on_the_next_request(world):
    # given a safety officer (not the issuer) revokes it through the release
    w = world
    made = _issue(w)
    safety = person(w.lab, "safety_officer")
    revoked = safety.client.post(
        f"/api/releases/{w.release.pk}/machine-tokens/{made['token']['id']}/revoke")
    assert revoked.status_code == 200

    response = _bearer(made["secret"]).post(INCIDENTS, _incident(w), format="json")

    assert response.status_code == 401
    assert not Incident.objects.exists()
    event = AuditEvent.objects.filter(event_type="token.revoked").get()
    assert event.release_id == w.release.pk


def test_an_expired_machine_token_is_refused(world, later):
    made = _issue(world, ttl_days=1)
    later(days=2)

    response = _bearer(made["secret"]).post(INCIDENTS, _incident(world), format="json")

    assert response.status_code == 401


def test_it_dies_with_the_personal_token_it_was_made_with(world):
    # a thief holding the manager's leaked token mints a machine token to keep access
    made = _issue(world)
    personal = ApiToken.objects.get(pk=made["token"]["id"]).parent
    token_revoke(token_id=personal.pk, actor=world.manager.user)

    response = _bearer(made["secret"]).post(INCIDENTS, _incident(world), format="json")

    assert response.status_code == 401


def test_a_revocation_between_the_check_and_the_write_is_caught(world):
    # given the request authenticated the token, then it was revoked before the write
    factories.machine_token_for(world.manager.user, world.release)
    token = ApiToken.objects.get(release=world.release)
    token_revoke(token_id=token.pk, actor=world.manager.user)

    with pytest.raises(Conflict) as caught:
        incident_report(release_id=world.release.pk, severity="critical", category="misuse",
                        description="x", evidence_digests=[], actor=world.manager.user,
                        machine_token=token)

    assert caught.value.detail["rule"] == "token_revoked"
    assert not Incident.objects.exists()


def test_a_machine_token_is_no_credential_for_the_access_check(world):
    made = _issue(world)

    response = _bearer(made["secret"]).get(
        f"/api/access/check?release={world.release.pk}&customer=c-1")

    assert response.status_code == 401


def test_machine_tokens_are_listed_with_the_release_not_with_my_own_tokens(world):
    made = _issue(world)

    mine = world.manager.client.get("/api/tokens").json()["results"]
    listed = world.manager.client.get(f"/api/releases/{world.release.pk}/machine-tokens")
    foreign = world.outsider.client.get(f"/api/releases/{world.release.pk}/machine-tokens")

    assert made["token"]["id"] not in [row["id"] for row in mine]
    assert [row["id"] for row in listed.json()] == [made["token"]["id"]]
    assert listed.json()[0]["owner"] == world.manager.user.username
    assert made["secret"] not in listed.content.decode()
    assert foreign.status_code == 404


def test_a_ttl_beyond_the_maximum_is_refused(world, settings):
    response = world.manager.client.post(f"/api/releases/{world.release.pk}/machine-tokens", {
        "name": "x", "purpose": "incident:file",
        "ttl_days": settings.GOVFLOW_TOKEN_MAX_TTL_DAYS + 1}, format="json")

    assert response.status_code == 400
    assert not ApiToken.objects.filter(release=world.release).exists()


def test_a_heartbeat_token_beats_for_its_releases_source_and_does_nothing_else(world):
    # given a monitoring source on the release, and one on another release of the lab
    from govflow.monitoring.services import source_register

    w = world
    source = source_register(release_id=w.release.pk, name="classifier", kind="abuse",
                             actor=w.manager.user)
    other = source_register(release_id=audited_release(w.lab, w.manager.user).pk,
                            name="classifier", kind="abuse", actor=w.manager.user)
    beat = _bearer(_issue(w, purpose="source:heartbeat")["secret"])

    alive = beat.post(f"/api/monitoring-sources/{source.pk}/heartbeat")
    elsewhere = beat.post(f"/api/monitoring-sources/{other.pk}/heartbeat")
    filed = beat.post(INCIDENTS, _incident(w), format="json")

    assert alive.status_code == 200
    assert alive.json()["last_heartbeat_at"] is not None
    assert elsewhere.status_code == 404
    assert filed.status_code == 403
    assert filed.json()["rule"] == "machine_token_scope"
    assert not Incident.objects.exists()


def test_an_incident_token_sends_no_heartbeat(world):
    from govflow.monitoring.services import source_register

    source = source_register(release_id=world.release.pk, name="classifier", kind="abuse",
                             actor=world.manager.user)

    response = _bearer(_issue(world)["secret"]).post(
        f"/api/monitoring-sources/{source.pk}/heartbeat")

    assert response.status_code == 403
    source.refresh_from_db()
    assert source.last_heartbeat_at is None
