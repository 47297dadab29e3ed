"""The access-control matrix: every auditing endpoint × every persona gets exactly the
access it should. Another organization's objects answer 404; an object you may see but
an action that is not yours answers 403; no token answers 401. A refused request
records nothing (no row, no event, no stored file).

Personas: the release manager of the lab that owns the release, the release manager
of another lab, the auditor assigned to the release, an auditor of another certified
firm who is not assigned, a regulator, and anonymous.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from govflow.auditing import predicates as statements
from govflow.auditing import services
from govflow.auditing.models import Finding
from govflow.client import signing
from govflow.trust.keys import generate_private_key
from tests.auditing.support import (
    append,
    file,
    finding_statement,
    recorded,
    release_json,
    sha256,
)

pytestmark = pytest.mark.django_db

PERSONAS = ["lab_manager", "other_lab_manager", "assigned_auditor", "unassigned_auditor",
            "regulator", "anonymous"]


def expect(*codes: int) -> dict[str, int]:
    return dict(zip(PERSONAS, codes, strict=True))


def _sign(who, statement: dict) -> dict:
    return signing.sign(statement, who.key if who else generate_private_key())


def _client(who) -> APIClient:
    return who.client if who else APIClient()


def _finding(w) -> Finding:
    upload = SimpleUploadedFile("log.txt", b"scratchpad transcript", content_type="text/plain")
    services.attachment_upload(release_id=w.release.pk, upload=upload, name="log.txt",
                               media_type="text/plain", declared_sha256=sha256(upload.read()),
                               actor=w.erin.user)
    return file(w.erin, w.release, attachments=[{"name": "log.txt",
                                                 "sha256": sha256(b"scratchpad transcript")}])


@dataclass
class Case:
    expected: dict[str, int]
    # (world, persona or None, setup's result) -> response
    request: Callable
    setup: Callable = lambda w: None  # noqa: E731
    # for lists: (world, setup result) -> {persona: ids expected in the body}
    listed: Callable | None = None


def _certify_statement(w):
    now = timezone.now()
    return statements.build_certificate(
        auditor=w.firm.slug, risk_areas=["bio"], access_levels=["black_box"],
        valid_from=now.isoformat(), valid_until=(now + timedelta(days=90)).isoformat(),
    )


def _statement(w, finding, action, **extra):
    return statements.build_finding_statement(
        release=release_json(w.release), finding=finding.pk, action=action, text="text",
        **extra,
    )


def _certificate_move(w, who, action: str, reason: str) -> dict:
    """A signed certificate-status statement, as `python -m govflow.client` makes it."""
    return {"envelope": _sign(who, statements.build_certificate_status(
        auditor=w.firm.slug, certificate=w.certificate.pk, action=action, reason=reason))}


def _ids(body) -> list[int]:
    rows = body["results"] if isinstance(body, dict) else body
    return sorted(r["id"] for r in rows)


CASES: dict[str, Case] = {
    "GET certificates": Case(
        expect(200, 200, 200, 200, 200, 401),
        lambda w, who, _: _client(who).get("/api/certificates"),
        listed=lambda w, _: {
            "lab_manager": [], "other_lab_manager": [], "assigned_auditor": [w.certificate.pk],
            "unassigned_auditor": [w.other_certificate.pk],
            "regulator": sorted([w.certificate.pk, w.other_certificate.pk]),
        },
    ),
    "GET certificate": Case(
        expect(404, 404, 200, 404, 200, 401),
        lambda w, who, _: _client(who).get(f"/api/certificates/{w.certificate.pk}"),
    ),
    "POST certificates": Case(
        expect(403, 403, 403, 403, 201, 401),
        lambda w, who, _: _client(who).post(
            "/api/certificates", {"envelope": _sign(who, _certify_statement(w))}, format="json"
        ),
    ),
    "POST certificate suspend": Case(
        expect(404, 404, 403, 404, 200, 401),
        lambda w, who, _: _client(who).post(f"/api/certificates/{w.certificate.pk}/suspend",
                                            _certificate_move(w, who, "suspend", "under review"),
                                            format="json"),
    ),
    "POST certificate reinstate": Case(
        expect(404, 404, 403, 404, 200, 401),
        lambda w, who, _: _client(who).post(f"/api/certificates/{w.certificate.pk}/reinstate",
                                            _certificate_move(w, who, "reinstate",
                                                              "review passed"), format="json"),
        setup=lambda w: services.certificate_suspend(certificate_id=w.certificate.pk,
                                                     reason="review", actor=w.rita.user),
    ),
    "POST certificate revoke": Case(
        expect(404, 404, 403, 404, 200, 401),
        lambda w, who, _: _client(who).post(f"/api/certificates/{w.certificate.pk}/revoke",
                                            _certificate_move(w, who, "revoke",
                                                              "standard not met"), format="json"),
    ),
    "GET conflicts": Case(
        expect(200, 200, 200, 200, 200, 401),
        lambda w, who, _: _client(who).get("/api/conflicts"),
        setup=lambda w: services.conflict_declare(
            auditor=w.firm, lab_slug=w.outsider.user.memberships.get().organization.slug,
            kind="financial", description="consulting contract", starts_on=date(2020, 1, 1),
            ends_on=None, actor=w.erin.user),
        listed=lambda w, conflict: {
            "lab_manager": [], "other_lab_manager": [], "assigned_auditor": [conflict.pk],
            "unassigned_auditor": [], "regulator": [conflict.pk],
        },
    ),
    "POST conflicts": Case(
        expect(403, 403, 201, 201, 403, 401),
        lambda w, who, _: _client(who).post("/api/conflicts", {
            "lab": w.lab.slug, "kind": "personal", "description": "a partner works there",
            "starts_on": "2024-01-01"}, format="json"),
    ),
    "GET release": Case(
        expect(200, 404, 200, 404, 200, 401),
        lambda w, who, _: _client(who).get(f"/api/releases/{w.release.pk}"),
    ),
    "GET releases": Case(
        expect(200, 200, 200, 200, 200, 401),
        lambda w, who, _: _client(who).get("/api/releases"),
        listed=lambda w, _: {
            "lab_manager": [w.release.pk], "other_lab_manager": [],
            "assigned_auditor": [w.release.pk], "unassigned_auditor": [],
            "regulator": [w.release.pk],
        },
    ),
    "GET release assignments": Case(
        expect(200, 404, 200, 404, 200, 401),
        lambda w, who, _: _client(who).get(f"/api/releases/{w.release.pk}/assignments"),
        listed=lambda w, _: {p: [w.assignment.pk] for p in
                             ("lab_manager", "assigned_auditor", "regulator")},
    ),
    "POST release assignments": Case(
        expect(403, 404, 403, 404, 201, 401),
        lambda w, who, _: _client(who).post(f"/api/releases/{w.release.pk}/assignments", {
            "envelope": _sign(who, statements.build_assignment(
                release=release_json(w.release), auditor="ursula",
                ends_at=(timezone.now() + timedelta(days=20)).isoformat()))}, format="json"),
    ),
    "POST assignment end": Case(
        expect(403, 404, 403, 404, 200, 401),
        lambda w, who, _: _client(who).post(f"/api/assignments/{w.assignment.pk}/end", {
            "envelope": _sign(who, statements.build_assignment_end(
                release=release_json(w.release), assignment=w.assignment.pk,
                reason="conflict discovered"))}, format="json"),
    ),
    "POST finding attachment": Case(
        expect(403, 404, 201, 404, 403, 401),
        lambda w, who, _: _client(who).post(
            f"/api/releases/{w.release.pk}/finding-attachments",
            {"file": SimpleUploadedFile("a.txt", b"evidence"), "sha256": sha256(b"evidence")},
            format="multipart"),
    ),
    "GET finding attachment": Case(
        expect(200, 404, 200, 404, 200, 401),
        lambda w, who, finding: _client(who).get(
            f"/api/finding-attachments/{finding.attachments.get().pk}"),
        setup=_finding,
    ),
    "POST findings": Case(
        expect(403, 404, 201, 404, 403, 401),
        lambda w, who, _: _client(who).post(
            "/api/findings", {"envelope": _sign(who, finding_statement(w.release))},
            format="json"),
    ),
    "GET findings": Case(
        expect(200, 200, 200, 200, 200, 401),
        lambda w, who, _: _client(who).get("/api/findings"),
        setup=_finding,
        listed=lambda w, finding: {
            "lab_manager": [finding.pk], "other_lab_manager": [],
            "assigned_auditor": [finding.pk], "unassigned_auditor": [],
            "regulator": [finding.pk],
        },
    ),
    "GET finding": Case(
        expect(200, 404, 200, 404, 200, 401),
        lambda w, who, finding: _client(who).get(f"/api/findings/{finding.pk}"),
        setup=_finding,
    ),
    "POST finding statement: respond": Case(
        expect(201, 404, 403, 404, 403, 401),
        lambda w, who, finding: _client(who).post(
            f"/api/findings/{finding.pk}/statements",
            {"envelope": _sign(who, _statement(w, finding, "respond"))}, format="json"),
        setup=_finding,
    ),
    "POST finding statement: resolve": Case(
        expect(403, 404, 201, 404, 403, 401),
        lambda w, who, finding: _client(who).post(
            f"/api/findings/{finding.pk}/statements",
            {"envelope": _sign(who, _statement(w, finding, "resolve"))}, format="json"),
        setup=lambda w: append(w.manager, _finding(w), "respond").finding,
    ),
    "POST finding statement: decide": Case(
        expect(403, 404, 403, 404, 201, 401),
        lambda w, who, finding: _client(who).post(
            f"/api/findings/{finding.pk}/statements",
            {"envelope": _sign(who, _statement(w, finding, "decide", outcome="upheld"))},
            format="json"),
        setup=lambda w: append(w.erin, append(w.manager, _finding(w), "dispute").finding,
                               "escalate").finding,
    ),
    "POST conclusions": Case(
        expect(403, 404, 201, 404, 403, 401),
        lambda w, who, _: _client(who).post("/api/conclusions", {"envelope": _sign(
            who, statements.build_conclusion(
                release=release_json(w.release), engagement=w.assignment.pk, result="pass",
                summary="no findings", findings=[]))}, format="json"),
    ),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", list(CASES))
def test_access_matrix(world, endpoint, persona):
    case = CASES[endpoint]
    prepared = case.setup(world)
    who = world.personas()[persona]
    before = recorded()

    response = case.request(world, who, prepared)

    assert response.status_code == case.expected[persona], (
        endpoint, persona, getattr(response, "data", response))
    if response.status_code >= 400:
        assert recorded() == before, "a refused request recorded something"
        if response.status_code != 401:
            assert response.json()["error"] in {"not_found", "forbidden"}
    if case.listed is not None and response.status_code == 200:
        assert _ids(response.json()) == case.listed(world, prepared)[persona]


def test_a_colleague_of_the_assigned_auditor_sees_nothing_of_the_release(world):
    # frank is in erin's firm but not assigned: the release and its findings stay hidden
    finding = _finding(world)
    client = world.frank.client

    assert client.get(f"/api/releases/{world.release.pk}").status_code == 404
    assert client.get(f"/api/findings/{finding.pk}").status_code == 404
    assert client.get(f"/api/releases/{world.release.pk}/assignments").status_code == 404
    assert _ids(client.get("/api/findings").json()) == []
    # though he sees his firm's certificate
    assert _ids(client.get("/api/certificates").json()) == [world.certificate.pk]
