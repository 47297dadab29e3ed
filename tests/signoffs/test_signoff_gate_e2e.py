"""The sign-off gate end to end through the API, with the client's own functions:
fetch the statement, sign it locally, submit it, advance."""

from __future__ import annotations

import base64
import json

import pytest

from govflow.audit.models import AuditEvent
from govflow.client import signing
from govflow.client import signoffs as client
from govflow.releases.models import StageTransition
from govflow.signoffs.models import SignOff
from govflow.trust.keys import public_key_id
from tests.signoffs.support import api_for

pytestmark = pytest.mark.django_db


def advance(api, user, release):
    release.refresh_from_db()
    return api(user).post(f"/api/releases/{release.pk}/advance", {}, format="json",
                          HTTP_IF_MATCH=release.etag)


def signoff_gate(api, user, release) -> dict:
    report = api(user).get(f"/api/releases/{release.pk}/gates").json()
    return next(g for g in report["gates"] if g["kind"] == "signoffs")


def test_two_signers_and_a_safety_officer_open_the_gate(api, release_manager, release, crew):
    # given a release whose only unmet gate is the sign-off gate
    assert signoff_gate(api, release_manager, release)["met"] is False

    # when bob and carol (lab signers) and dana (safety officer) sign off with the client
    rows = [crew["bob"].signoff(release, "lab_signer", comment="evals reviewed"),
            crew["carol"].signoff(release, "lab_signer"),
            crew["dana"].signoff(release, "safety_officer")]

    # then each sign-off is stored once, with exactly one audit event carrying the envelope
    assert [r["signer"] for r in rows] == ["bob", "carol", "dana"]
    events = list(AuditEvent.objects.filter(event_type="signoff.recorded").order_by("id"))
    assert [e.subject_id for e in events] == [str(r["id"]) for r in rows]
    first = events[0].payload
    bob = crew["bob"]
    assert first["user"] == "bob"
    assert first["user_id"] == bob.user.pk
    assert first["role"] == "lab_signer"
    assert first["decision"] == "approve"
    assert first["key_id"] == public_key_id(bob.key.public_key())
    assert first["statement"]["predicate"]["comment"] == "evals reviewed"
    assert json.loads(base64.b64decode(first["envelope"]["payload"])) == first["statement"]
    assert events[0].actor_id == bob.user.pk
    assert events[0].release_id == release.pk

    # and the gate is met, and the release manager can advance
    gate = signoff_gate(api, release_manager, release)
    assert gate["met"] is True, gate["reason"]
    assert gate["evidence"]["approvals"] == {
        "lab_signer": [bob.user.pk, crew["carol"].user.pk],
        "safety_officer": [crew["dana"].user.pk],
    }
    response = advance(api, release_manager, release)
    assert response.status_code == 200, response.json()
    transition = StageTransition.objects.get(pk=response.json()["id"])
    assert transition.to_stage == "third_party_audit"
    recorded_gate = next(g for g in transition.gate_report["gates"] if g["kind"] == "signoffs")
    assert recorded_gate["evidence"]["counted"] == [r["id"] for r in rows]


def test_the_signed_statement_names_the_current_round(api, release_manager, release, crew):
    statement = client.fetch_payload(crew["bob"].api, release=release.pk, role="lab_signer")
    report = api(release_manager).get(f"/api/releases/{release.pk}/gates").json()

    p = statement["predicate"]
    version = release.system_version
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://govflow.dev/attestations/signoff/v1"
    assert statement["subject"] == [{
        "name": f"govflow:system/{version.system_id}/v{version.number}",
        "digest": {"sha256": version.manifest_digest.removeprefix("sha256:")},
    }]
    assert p["release"] == release.pk
    assert p["transition"] == {"from": "internal_evals", "to": "third_party_audit"}
    assert p["stage_entry"] == release.transitions.get().pk
    assert p["gate_report_digest"] == report["evidence_digest"]
    assert p["policy_digest"] == release.policy.digest
    assert (p["role"], p["decision"], p["signed_at"]) == ("lab_signer", "approve", None)
    assert len(p["nonce"]) >= 16
    # the client recomputes the digest from the evidence it is shown
    assert signing.evidence_digest(report) == report["evidence_digest"]


def test_each_payload_has_a_fresh_nonce_and_changes_nothing(release, crew):
    mark = AuditEvent.objects.count()
    one = client.fetch_payload(crew["bob"].api, release=release.pk, role="lab_signer")
    two = client.fetch_payload(crew["bob"].api, release=release.pk, role="lab_signer")

    assert one["predicate"]["nonce"] != two["predicate"]["nonce"]
    assert AuditEvent.objects.count() == mark


def test_the_requester_is_excluded(api, lab, release_manager, release, crew):
    # given a release manager who is also a lab signer and approves
    from tests.signoffs.support import signer

    rm_signer = signer(lab, "release_manager", "lab_signer")
    rm_signer.signoff(release, "lab_signer")
    crew["carol"].signoff(release, "lab_signer")
    crew["dana"].signoff(release, "safety_officer")

    # when they request the advance themselves, their approval does not count
    refused = advance(api, rm_signer.user, release)
    assert refused.status_code == 409
    gate = next(g for g in refused.json()["gate_report"]["gates"] if g["kind"] == "signoffs")
    assert "does not count" in gate["reason"]

    # and another release manager may advance on the same sign-offs
    assert advance(api, release_manager, release).status_code == 200


def test_the_same_person_signing_twice_counts_once(api, release_manager, release, crew):
    crew["bob"].signoff(release, "lab_signer")
    crew["bob"].signoff(release, "lab_signer")
    crew["dana"].signoff(release, "safety_officer")

    gate = signoff_gate(api, release_manager, release)

    assert SignOff.objects.filter(signer=crew["bob"].user).count() == 2
    assert gate["met"] is False
    assert "lab_signer 1/2" in gate["reason"]
    assert advance(api, release_manager, release).status_code == 409


def test_a_reject_vetoes_until_withdrawn(api, release_manager, release, crew):
    crew["bob"].signoff(release, "lab_signer")
    crew["carol"].signoff(release, "lab_signer")
    crew["dana"].signoff(release, "safety_officer", decision="reject", comment="not yet")

    vetoed = advance(api, release_manager, release)
    assert vetoed.status_code == 409
    gate = next(g for g in vetoed.json()["gate_report"]["gates"] if g["kind"] == "signoffs")
    assert gate["reason"] == "vetoed: rejected by dana (safety_officer)"

    crew["dana"].signoff(release, "safety_officer", comment="fixed")

    assert advance(api, release_manager, release).status_code == 200


def test_new_evidence_starts_a_new_round(api, release_manager, release, crew):
    from tests import factories

    for name, role in (("bob", "lab_signer"), ("carol", "lab_signer"), ("dana", "safety_officer")):
        crew[name].signoff(release, role)
    assert signoff_gate(api, release_manager, release)["met"] is True

    # when more evidence is attached, the report the signers approved no longer stands
    factories.attach(release, release_manager, body=b"a second red-team report")

    gate = signoff_gate(api, release_manager, release)
    assert gate["met"] is False
    assert gate["evidence"]["counted"] == []


def test_approvals_before_a_rollback_do_not_count_after_it(api, release_manager, release, crew):
    for name, role in (("bob", "lab_signer"), ("carol", "lab_signer"), ("dana", "safety_officer")):
        crew[name].signoff(release, role)
    assert advance(api, release_manager, release).status_code == 200
    release.refresh_from_db()

    rolled = api(release_manager).post(
        f"/api/releases/{release.pk}/rollback",
        {"target": "internal_evals", "reason": "auditor found a regression"},
        format="json", HTTP_IF_MATCH=release.etag,
    )
    assert rolled.status_code == 200

    # the evidence is unchanged, so only the stage entry tells the rounds apart
    gate = signoff_gate(api, release_manager, release)
    assert gate["met"] is False
    assert gate["evidence"]["stage_entry"] == rolled.json()["id"]
    assert gate["evidence"]["counted"] == []


def test_signoffs_are_listed_with_whether_they_count_now(api, release_manager, release, crew):
    crew["bob"].signoff(release, "lab_signer")
    from tests import factories

    factories.attach(release, release_manager, body=b"new evidence")
    crew["carol"].signoff(release, "lab_signer")

    rows = api(release_manager).get(f"/api/releases/{release.pk}/signoffs").json()

    assert [(r["signer"], r["current"]) for r in rows] == [("bob", False), ("carol", True)]
    assert rows[0]["envelope"]["payloadType"] == "application/vnd.in-toto+json"


def test_a_signed_statement_round_trips_the_client_helpers(release, crew):
    envelope = crew["bob"].envelope(release, "lab_signer")
    row = client.submit(api_for(crew["bob"].user), envelope)

    assert row["signer"] == "bob"
    assert row["claimed_signed_at"].endswith("Z")


def test_a_retried_submission_answers_as_the_first_did(api, release, crew):
    bob = crew["bob"]
    envelope = bob.envelope(release, "lab_signer")
    client_ = api(bob.user)

    first = client_.post("/api/signoffs", {"envelope": envelope}, format="json",
                         HTTP_IDEMPOTENCY_KEY="retry-1")
    second = client_.post("/api/signoffs", {"envelope": envelope}, format="json",
                          HTTP_IDEMPOTENCY_KEY="retry-1")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert SignOff.objects.count() == 1


def test_the_answer_to_a_submission_says_it_counts_now(api, release, crew):
    # given bob's signed approval of the release's current round
    bob = crew["bob"]
    envelope = bob.envelope(release, "lab_signer")

    # when he submits it
    answer = api(bob.user).post("/api/signoffs", {"envelope": envelope}, format="json")

    # then the answer says it counts, as the list does
    assert answer.status_code == 201
    assert answer.json()["current"] is True
    listed = api(bob.user).get(f"/api/releases/{release.pk}/signoffs").json()
    assert [r["current"] for r in listed] == [True]
