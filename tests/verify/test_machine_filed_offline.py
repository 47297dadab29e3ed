"""The offline verifier tells an incident filed with a machine token from a signed one:
the event names the token, whose issuance for that release (by the same user, before the
incident, not revoked or expired by then) must be in the log. An unsigned incident that
names no such token, or an unsigned resolution, fails."""

from __future__ import annotations

import json

import pytest

from govflow.audit.export import build_bundle
from govflow.audit.logkey import log_verifier_key
from govflow.monitoring.services import incident_report
from govflow.verify import unsigned
from govflow.verify.bundle import verify_bundle
from govflow.verify.log_checks import Event
from govflow.verify.report import Report, VerificationFailed
from tests.auditing.support import audited_release
from tests.keys.test_signed_acts import w  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def _issue(w, release=None) -> dict:  # noqa: F811
    release = release or w.release
    made = w.manager.client.post(f"/api/releases/{release.pk}/machine-tokens", {
        "name": "classifier", "purpose": "incident:file"}, format="json")
    assert made.status_code == 201, made.json()
    return made.json()


def _file(w, secret: str) -> None:  # noqa: F811
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    filed = client.post("/api/incidents", {"release": w.release.pk, "severity": "low",
                                           "category": "misuse", "description": "odd"},
                        format="json")
    assert filed.status_code == 201, filed.json()


def _events() -> list[Event]:
    bundle = json.loads(json.dumps(build_bundle(release=None), default=str))
    return [Event(row["index"], row["canonical"]) for row in bundle["events"]]


def _edited(event: Event, edit, index: int | None = None) -> Event:
    body = json.loads(event.canonical)
    edit(body)
    return Event(event.index if index is None else index,
                 json.dumps(body, sort_keys=True, separators=(",", ":")))


def _incident_event(events: list[Event]) -> Event:
    return next(e for e in events if e.type == "incident.reported")


def test_a_machine_filed_incident_verifies_and_is_reported_as_such(w):  # noqa: F811
    _file(w, _issue(w)["secret"])
    bundle = json.loads(json.dumps(build_bundle(release=None), default=str))

    report = verify_bundle(bundle, log_key=log_verifier_key())

    assert report.passed, report.render()
    assert any("1 incident(s) filed with a machine token" in line for line in report.lines), \
        report.render()


def test_the_release_bundle_carries_the_tokens_issuance(w):  # noqa: F811
    _file(w, _issue(w)["secret"])
    bundle = json.loads(json.dumps(build_bundle(release=w.release), default=str))

    report = verify_bundle(bundle, log_key=log_verifier_key())

    assert report.passed, report.render()


def test_an_unsigned_incident_naming_no_token_fails(w):  # noqa: F811
    _file(w, _issue(w)["secret"])
    events = _events()
    incident = _incident_event(events)
    stripped = _edited(incident, lambda b: b["payload"].pop("machine_token"))

    with pytest.raises(VerificationFailed, match="neither signed nor filed"):
        unsigned.check([stripped if e is incident else e for e in events], Report())


def test_a_token_of_another_release_fails(w):  # noqa: F811
    other = audited_release(w.lab, w.manager.user)
    foreign = _issue(w, release=other)["token"]["id"]
    _file(w, _issue(w)["secret"])
    events = _events()
    incident = _incident_event(events)

    def claim_foreign(body):
        body["payload"]["machine_token"]["token"] = foreign

    with pytest.raises(VerificationFailed, match="issued for incident:file on release"):
        unsigned.check([_edited(incident, claim_foreign) if e is incident else e
                        for e in events], Report())


def test_an_incident_after_the_tokens_revocation_fails(w):  # noqa: F811
    made = _issue(w)
    _file(w, made["secret"])
    w.manager.client.post(
        f"/api/releases/{w.release.pk}/machine-tokens/{made['token']['id']}/revoke")
    events = _events()
    late = _edited(_incident_event(events), lambda b: None, index=events[-1].index + 1)

    with pytest.raises(VerificationFailed, match="revoked before it was used"):
        unsigned.check([*events, late], Report())


def test_an_incident_by_another_user_than_the_tokens_owner_fails(w):  # noqa: F811
    _file(w, _issue(w)["secret"])
    events = _events()
    incident = _incident_event(events)

    def other_actor(body):
        body["actor"]["id"] = w.safety.user.pk

    with pytest.raises(VerificationFailed, match="belongs to another user"):
        unsigned.check([_edited(incident, other_actor) if e is incident else e
                        for e in events], Report())


def test_a_bare_persons_incident_fails(w):  # noqa: F811
    # the service called past the API (as only the operator could), and the operator signs
    # the checkpoint over it: no envelope, no machine token
    incident_report(release_id=w.release.pk, severity="low", category="misuse",
                    description="x", evidence_digests=[], actor=w.manager.user)
    bundle = json.loads(json.dumps(build_bundle(release=None), default=str))

    report = verify_bundle(bundle, log_key=log_verifier_key())

    assert not report.passed
    assert "neither signed nor filed with a machine token" in report.failure


def test_an_unsigned_assignment_in_the_log_fails(w):  # noqa: F811
    from datetime import timedelta

    from django.utils import timezone

    from govflow.auditing.services import assignment_create

    assignment_create(release_id=w.release.pk, auditor=w.ursula.user, actor=w.rita.user,
                      ends_at=timezone.now() + timedelta(days=10))
    bundle = json.loads(json.dumps(build_bundle(release=None), default=str))

    report = verify_bundle(bundle, log_key=log_verifier_key())

    assert not report.passed
    assert "assignment.created" in report.failure
    assert "without its envelope" in report.failure
