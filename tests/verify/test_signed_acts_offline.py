"""The offline verifier checks the signature of every signed act, the newly signed ones
(incidents, assignment ends, certificate status) included, and that each envelope holds
the statement its event is for."""

from __future__ import annotations

import json

import pytest

from govflow.audit.export import build_bundle
from govflow.audit.logkey import log_verifier_key
from govflow.monitoring.predicates import build_incident
from govflow.verify import signatures
from govflow.verify.bundle import verify_bundle
from govflow.verify.log_checks import Event
from govflow.verify.report import Report, VerificationFailed
from tests.auditing.support import release_json
from tests.keys.test_signed_acts import CASES, w  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

NEW = ["incident.file", "incident.resolve", "assignment.end", "certificate.suspend"]


def _through_api(w, name):  # noqa: F811
    case = CASES[name]
    setup = case.setup(w)
    who = case.actor(w)
    response = who.client.post(case.url(w, setup), {"envelope": who.sign(
        case.statement(w, setup))}, format="json")
    assert response.status_code in (200, 201), response.json()


def _events(bundle) -> list[Event]:
    return [Event(row["index"], row["canonical"]) for row in bundle["events"]]


def test_the_newly_signed_acts_verify_offline_against_logged_keys(w):  # noqa: F811
    for name in NEW:
        _through_api(w, name)
    bundle = json.loads(json.dumps(build_bundle(release=None), default=str))

    report = verify_bundle(bundle, log_key=log_verifier_key())

    assert report.passed, report.render()
    signed = [e for e in _events(bundle) if "envelope" in e.body["payload"]]
    assert {e.body["type"] for e in signed} >= {"incident.reported", "incident.resolved",
                                                "assignment.ended", "certificate.suspended"}


def test_an_envelope_of_another_kind_in_a_signed_event_fails(w):  # noqa: F811
    # given the log as the operator exports it, with an incident's event carrying, under
    # the regulator's valid signature, a statement that is not an incident
    _through_api(w, "incident.file")
    _through_api(w, "hold.place")
    events = _events(json.loads(json.dumps(build_bundle(release=None), default=str)))
    hold = next(e for e in events if e.body["type"] == "hold.placed")
    incident = next(e for e in events if e.body["type"] == "incident.reported")
    body = incident.body
    body["payload"]["envelope"] = hold.body["payload"]["envelope"]
    forged = Event(incident.index, json.dumps(body, sort_keys=True, separators=(",", ":")))
    events = [forged if e.index == incident.index else e for e in events]

    with pytest.raises(VerificationFailed, match="incident/v1"):
        signatures.check(events, Report())


def test_a_signed_only_event_without_its_envelope_fails(w):  # noqa: F811
    _through_api(w, "hold.place")
    events = _events(json.loads(json.dumps(build_bundle(release=None), default=str)))
    hold = next(e for e in events if e.body["type"] == "hold.placed")
    body = hold.body
    for field in ("envelope", "key_id"):
        body["payload"].pop(field)
    stripped = Event(hold.index, json.dumps(body, sort_keys=True, separators=(",", ":")))

    with pytest.raises(VerificationFailed, match="without its envelope"):
        signatures.check([stripped if e.index == hold.index else e for e in events], Report())


def test_the_incident_statement_builds_with_the_release_as_the_api_shows_it(w):  # noqa: F811
    statement = build_incident(release=release_json(w.release), severity="low",
                               category="other", description="x")
    assert statement["subject"][0]["name"] == (
        f"govflow:system/{w.release.system_version.system_id}/"
        f"v{w.release.system_version.number}")
