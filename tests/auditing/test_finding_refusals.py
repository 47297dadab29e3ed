"""Findings and attachments the server refuses: each a clear 4xx naming the rule or the
field, and nothing stored — no finding, no attachment row or file, no audit event."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from govflow.auditing import services
from govflow.client import signing
from tests import factories
from tests.auditing.support import (
    assign,
    audited_release,
    certify,
    finding_statement,
    person,
    recorded,
    release_json,
    sha256,
)

pytestmark = pytest.mark.django_db


def post_finding(who, envelope, **headers):
    return who.client.post("/api/findings", {"envelope": envelope}, format="json", **headers)


def upload(who, release, data: bytes, declared: str):
    return who.client.post(f"/api/releases/{release.pk}/finding-attachments",
                           {"file": SimpleUploadedFile("evidence.bin", data),
                            "sha256": declared}, format="multipart")


def refused(response, status: int, *, rule: str | None = None, path: str | None = None):
    body = response.json()
    assert response.status_code == status, body
    if rule is not None:
        assert body.get("rule") == rule, body
    if path is not None:
        assert [f["path"] for f in body["fields"]] == [path], body
    return body


def test_an_invalid_signature_is_refused(world):
    envelope = world.erin.sign(finding_statement(world.release))
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["severity"] = "low"  # changed after signing
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    before = recorded()

    body = refused(post_finding(world.erin, envelope), 400, rule="bad_signature")

    assert "does not verify" in body["message"]
    assert recorded() == before


def test_a_signature_by_another_users_key_is_refused(world):
    # erin submits a finding that frank (her colleague, with his own key) signed
    envelope = signing.sign(finding_statement(world.release), world.frank.key)
    before = recorded()

    body = refused(post_finding(world.erin, envelope), 403, rule="foreign_key")

    assert "registered to another person" in body["message"]
    assert recorded() == before


def test_an_unknown_severity_is_refused(world):
    envelope = world.erin.sign(finding_statement(world.release, severity="catastrophic"))
    before = recorded()

    body = refused(post_finding(world.erin, envelope), 400,
                   path="envelope.payload: predicate.severity")

    assert "'catastrophic' is not one of: info, low, medium, high, critical" in (
        body["fields"][0]["message"])
    assert recorded() == before


@pytest.mark.parametrize(("move", "rule"), [("certificate_suspend", "certificate_suspended"),
                                            ("certificate_revoke", "certificate_revoked")])
def test_a_suspended_or_revoked_certificate_stops_filing_at_once(world, move, rule):
    getattr(services, move)(certificate_id=world.certificate.pk, reason="standard not met",
                            actor=world.rita.user)
    envelope = world.erin.sign(finding_statement(world.release))
    before = recorded()

    body = refused(post_finding(world.erin, envelope), 403, rule=rule)

    assert "standard not met" in body["message"]
    assert recorded() == before


def test_an_expired_certificate_stops_filing(db, later):
    # given a firm certified for ten days, assigned for five
    lab = factories.organization(kind="lab")
    manager = person(lab, "release_manager")
    rita = person(factories.organization(kind="regulator"), "regulator")
    firm = factories.organization(kind="auditor")
    erin = person(firm, "auditor")
    release = audited_release(lab, manager.user)
    certify(rita, firm, days=10)
    assign(rita, release, erin, days=5)
    envelope = erin.sign(finding_statement(release))
    before = recorded()

    # when she files on day eleven
    later(days=11)
    body = refused(post_finding(erin, envelope), 403, rule="certificate_expired")

    assert "not now" in body["message"]
    assert recorded() == before


def test_a_finding_for_a_release_the_auditor_is_not_assigned_to_is_404(world):
    # ursula is a certified auditor of another firm, assigned to nothing
    envelope = world.ursula.sign(finding_statement(world.release))
    before = recorded()

    refused(post_finding(world.ursula, envelope), 404)

    assert recorded() == before


def test_a_finding_on_another_release_of_the_same_lab_is_404(world):
    other = audited_release(world.lab, world.manager.user)
    envelope = world.erin.sign(finding_statement(other))
    before = recorded()

    refused(post_finding(world.erin, envelope), 404)

    assert recorded() == before


def test_after_the_engagement_ends_the_auditor_can_no_longer_file(world):
    services.assignment_end(assignment_id=world.assignment.pk, note="conflict found",
                            actor=world.rita.user)
    envelope = world.erin.sign(finding_statement(world.release))
    before = recorded()

    refused(post_finding(world.erin, envelope), 403, rule="not_assigned")

    assert recorded() == before


def test_a_finding_about_another_system_version_is_refused(world):
    statement = finding_statement(world.release)
    statement["subject"][0]["digest"]["sha256"] = "ab" * 32
    before = recorded()

    refused(post_finding(world.erin, world.erin.sign(statement)), 409, rule="wrong_subject")

    assert recorded() == before


def test_a_finding_naming_an_attachment_never_uploaded_is_refused(world):
    statement = finding_statement(world.release, attachments=[{"name": "x.txt",
                                                               "sha256": sha256(b"never sent")}])
    before = recorded()

    refused(post_finding(world.erin, world.erin.sign(statement)), 400,
            path="envelope.payload: predicate.attachments[0].sha256")

    assert recorded() == before


def test_an_attachment_whose_bytes_do_not_match_its_digest_is_refused(world):
    before = recorded()

    body = refused(upload(world.erin, world.release, b"the real bytes", sha256(b"other bytes")),
                   400, path="sha256")

    assert sha256(b"the real bytes") in body["fields"][0]["message"]
    assert recorded() == before


@pytest.mark.parametrize("size", [1001, 200_000], ids=["counted", "declared-length"])
def test_an_oversize_attachment_is_refused(world, settings, size):
    # 1,001 bytes is refused while the bytes are counted; 200 kB already from the
    # request's Content-Length, before anything parses the body
    settings.GOVFLOW_MAX_FINDING_ATTACHMENT_BYTES = 1000
    data = b"x" * size
    before = recorded()

    body = refused(upload(world.erin, world.release, data, sha256(data)), 413)

    assert body["error"] == "too_large"
    assert recorded() == before


def test_a_replayed_finding_is_refused_and_an_idempotent_retry_returns_the_first(world):
    envelope = world.erin.sign(finding_statement(world.release))
    first = post_finding(world.erin, envelope, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    before = recorded()

    retry = post_finding(world.erin, envelope, HTTP_IDEMPOTENCY_KEY="k-1")
    replay = post_finding(world.erin, envelope)

    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    refused(replay, 409, rule="replayed")
    assert recorded() == before


def test_a_statement_sent_to_another_finding_is_refused(world):
    from tests.auditing.support import file

    one, two = file(world.erin, world.release), file(world.erin, world.release, title="other")
    from govflow.auditing import predicates as statements

    statement = statements.build_finding_statement(
        release=release_json(world.release), finding=one.pk, action="respond", text="fixed")
    before = recorded()

    response = world.manager.client.post(f"/api/findings/{two.pk}/statements",
                                         {"envelope": world.manager.sign(statement)},
                                         format="json")

    refused(response, 400, path="envelope.payload: predicate.finding")
    assert recorded() == before


def test_a_certificate_for_a_lab_is_refused(world):
    from govflow.auditing import predicates as statements

    now = timezone.now()
    statement = statements.build_certificate(
        auditor=world.lab.slug, risk_areas=["deception"], access_levels=["black_box"],
        valid_from=now.isoformat(), valid_until=(now + timedelta(days=1)).isoformat())
    before = recorded()

    response = world.rita.client.post("/api/certificates",
                                      {"envelope": world.rita.sign(statement)}, format="json")

    refused(response, 400, path="envelope.payload: predicate.auditor")
    assert recorded() == before
