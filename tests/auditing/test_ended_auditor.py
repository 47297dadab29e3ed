"""An auditor whose engagement the regulator ended, or whose firm's certificate was
suspended, has no release any more: every read of it is a 404 and every act is refused,
through every endpoint there is (the URL resolver is walked, so an endpoint added later is
covered without editing this file), the console page and the export bundle alike.

The attack each test plays: the auditor keeps the token it was given while engaged and
tries everything it used to be able to do, including filing a critical incident that
would pause the lab's release.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from govflow.auditing import predicates as statements
from govflow.auditing import services
from govflow.auditing.models import CertificateStatus
from govflow.evalruns.services import eval_run_start, eval_samples_store
from govflow.monitoring.services.incidents import incident_report
from govflow.releases.models import Release
from tests.auditing.conftest import World
from tests.auditing.support import append, file, finding_statement, release_json, sha256
from tests.evalruns.support import FACTORS, endpoints, records

pytestmark = pytest.mark.django_db

FINDING_TITLE = "ZQX finding title, secret to the lab"
INCIDENT_TEXT = "ZQX incident description"
ATTACHMENT = b"ZQX scratchpad transcript"


@dataclass
class Objects:
    """Everything of the release the auditor could once read, by the URL segment that
    names it."""

    ids: dict[str, Any]
    markers: list[str]


def _routes():
    """(route, name, methods) of every API and console endpoint."""

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern), p.name, p.callback

    for route, name, callback in walk(get_resolver().url_patterns):
        if not route.startswith(("api/", "console/")):
            continue
        route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", route).replace("^", "").replace("$", "")
        actions = getattr(callback, "actions", None)
        cls = getattr(callback, "cls", None)
        if actions:
            methods = sorted(actions)
        elif cls is not None:
            methods = sorted(m for m in ("get", "post", "put", "patch", "delete")
                             if hasattr(cls, m))
        else:  # a plain Django view (console pages, the access check): GET and POST
            methods = ["get", "post"]
        yield route, name, methods


ROUTES = sorted(set((r, n, tuple(m)) for r, n, m in _routes()))


def _path(route: str, objects: Objects) -> tuple[str, bool]:
    """The route with every parameter filled in, and whether it names something of the
    release (then the ended auditor must get 404)."""
    scoped = False
    parts = route.split("/")
    for i, part in enumerate(parts):
        match = re.fullmatch(r"<(?:\w+:)?(\w+)>", part)
        if not match:
            continue
        owner = parts[i - 1] if i else ""
        key = owner if match.group(1) in ("pk", "slug") else match.group(1)
        value = objects.ids.get(key, 0)
        if owner in ("releases", "evidence", "findings", "finding-attachments", "eval-runs",
                     "incidents", "assignments", "monitoring-sources", "reevaluations",
                     "events", "holds", "sanctions", "systems", "system-versions"):
            scoped = True
        parts[i] = str(value)
    return "/" + "/".join(parts), scoped


@pytest.fixture
def engaged(world: World, settings) -> Objects:
    """The world, with the assigned auditor's work on the release done while engaged."""
    settings.GOVFLOW_EVAL_ENDPOINTS = endpoints(sim="http://127.0.0.1:9")
    w = world
    upload = SimpleUploadedFile("log.txt", ATTACHMENT, content_type="text/plain")
    attachment, _ = services.attachment_upload(
        release_id=w.release.pk, upload=upload, name="log.txt", media_type="text/plain",
        declared_sha256=sha256(ATTACHMENT), actor=w.erin.user)
    finding = file(w.erin, w.release, title=FINDING_TITLE,
                   attachments=[{"name": "log.txt", "sha256": sha256(ATTACHMENT)}])
    run = eval_run_start(release_id=w.release.pk, scenario="insider_trading", factors=FACTORS,
                         samples_per_cell=2, endpoint="sim", judge_endpoint="sim", seed=1,
                         actor=w.manager.user, queue=False)
    cell = "pressure=none|risk=low|scratchpad=on|stance=specific"
    eval_samples_store(run_id=run.pk, records=records(cell, 2))
    incident = incident_report(release_id=w.release.pk, severity="low", category="other",
                               description=INCIDENT_TEXT, evidence_digests=[],
                               actor=w.manager.user)
    evidence = w.release.evidence.first()
    version = w.release.system_version
    return Objects(
        ids={"releases": w.release.pk, "evidence": evidence.pk, "findings": finding.pk,
             "finding-attachments": attachment.pk, "eval-runs": run.pk,
             "incidents": incident.pk, "assignments": w.assignment.pk,
             "certificates": w.certificate.pk, "keys": w.erin.user.signing_keys.first().pk,
             "systems": version.system_id, "system-versions": version.pk,
             "policies": w.release.policy_id, "organizations": w.lab.slug,
             "stage": w.release.stage, "customer": "c-1", "provider": "test",
             "action": "hold", "event_id": 1},
        markers=[FINDING_TITLE, INCIDENT_TEXT, evidence.sha256, version.manifest_digest],
    )


def _counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models()
            if m.__module__.startswith("govflow.")}


def _cut_off(w: World, how: str) -> None:
    if how == "ended":
        services.assignment_end(assignment_id=w.assignment.pk, note="conflict discovered",
                                actor=w.rita.user)
    else:
        services.certificate_suspend(certificate_id=w.certificate.pk, reason="under review",
                                     actor=w.rita.user)


def _console(w: World) -> Client:
    client = Client()
    client.force_login(w.erin.user)
    return client


# What the auditor reads while engaged; each must turn into a 404 once cut off. It shows
# the test can fail: the same requests answer 200 before.
READS = [
    "/api/releases/{releases}", "/api/releases/{releases}/evidence",
    "/api/evidence/{evidence}/download", "/api/findings/{findings}",
    "/api/finding-attachments/{finding-attachments}", "/api/eval-runs/{eval-runs}",
    "/api/eval-runs/{eval-runs}/samples", "/api/releases/{releases}/eval-runs",
    "/api/releases/{releases}/gates", "/api/releases/{releases}/transitions",
    "/api/releases/{releases}/signoffs", "/api/releases/{releases}/assignments",
    "/api/incidents/{incidents}", "/api/releases/{releases}/monitoring",
    "/api/oversight/export?release={releases}",
]


def _fill(template: str, objects: Objects) -> str:
    return re.sub(r"\{([\w-]+)\}", lambda m: str(objects.ids[m.group(1)]), template)


def test_an_engaged_auditor_reads_the_release(world, engaged):
    client = world.erin.client
    for template in READS:
        response = client.get(_fill(template, engaged))
        assert response.status_code == 200, (template, response.status_code)
    assert _console(world).get(f"/console/releases/{world.release.pk}/").status_code == 200


@pytest.mark.parametrize("how", ["ended", "suspended"])
def test_a_cut_off_auditor_reads_nothing_of_the_release(world, engaged, how):
    _cut_off(world, how)
    client = world.erin.client

    for template in READS:
        response = client.get(_fill(template, engaged))
        assert response.status_code == 404, (how, template, response.status_code)
    assert _console(world).get(f"/console/releases/{world.release.pk}/").status_code == 404


@pytest.mark.parametrize("how", ["ended", "suspended"])
def test_every_endpoint_refuses_a_cut_off_auditor(world, engaged, how):
    _cut_off(world, how)
    api, console = world.erin.client, _console(world)
    checked = 0
    for route, name, methods in ROUTES:
        if name == "logout":  # would end the console session the rest of the walk uses
            continue
        path, scoped = _path(route, engaged)
        client = console if route.startswith("console/") else api
        for method in methods:
            before = _counts()
            if method == "get":
                query = {"release": world.release.pk}
                response = client.get(path, query)
            else:
                response = getattr(client, method)(path, {}, content_type="application/json")
            where = (how, method.upper(), path, name, response.status_code)
            body = response.content.decode("utf-8", "replace")
            for marker in engaged.markers:
                assert marker not in body, ("leaked", marker, *where)
            if method == "get" and scoped:
                assert response.status_code == 404, where
            if method != "get":
                # a console page may answer a POST as a GET; what matters is that
                # nothing is written, and an API act is refused outright
                if client is api:
                    assert response.status_code >= 400, where
                assert _counts() == before, ("recorded something", *where)
            checked += 1
    assert checked > 100  # the walk really went through the URL configuration


def _acts(w: World, engaged: Objects) -> dict[str, tuple[str, Any, str]]:
    release = release_json(w.release)
    finding_id = engaged.ids["findings"]
    return {
        "critical incident": ("/api/incidents", {
            "release": w.release.pk, "severity": "critical", "category": "other",
            "description": "the model exfiltrates weights"}, "json"),
        "finding": ("/api/findings", {"envelope": w.erin.sign(
            finding_statement(w.release, title="another"))}, "json"),
        "finding statement": (f"/api/findings/{finding_id}/statements", {
            "envelope": w.erin.sign(statements.build_finding_statement(
                release=release, finding=finding_id, action="resolve", text="fixed"))},
            "json"),
        "conclusion": ("/api/conclusions", {"envelope": w.erin.sign(
            statements.build_conclusion(release=release, engagement=w.assignment.pk,
                                        result="pass", summary="fine",
                                        findings=[finding_id]))}, "json"),
        "attachment": (f"/api/releases/{w.release.pk}/finding-attachments", {
            "file": SimpleUploadedFile("b.txt", b"more"), "sha256": sha256(b"more")},
            "multipart"),
    }


@pytest.mark.parametrize("how", ["ended", "suspended"])
@pytest.mark.parametrize("act", ["critical incident", "finding", "finding statement",
                                 "conclusion", "attachment"])
def test_a_cut_off_auditor_cannot_act_on_the_release(world, engaged, how, act):
    # given the lab answered the finding, so the auditor could resolve it
    append(world.manager, world.release.findings.get(), "respond")
    _cut_off(world, how)
    path, body, fmt = _acts(world, engaged)[act]
    before = _counts()

    response = world.erin.client.post(path, body, format=fmt)

    # 403/404, or 409 where the service names the engagement it sees ended
    assert response.status_code in (403, 404, 409), (act, response.status_code, response.content)
    assert _counts() == before
    assert Release.objects.get(pk=world.release.pk).status == "active"


def test_the_access_check_denies_a_cut_off_auditor(world, engaged):
    url = f"/api/access/check?release={world.release.pk}&auditor=erin"
    assert world.manager.client.get(url).json()["allow"] is True
    _cut_off(world, "suspended")
    assert world.manager.client.get(url).json()["allow"] is False
    # and the auditor itself cannot ask about the release
    assert world.erin.client.get(url).status_code == 404


def test_a_reinstated_certificate_gives_the_release_back(world, engaged):
    # access follows the state now, not a flag set once: reinstating restores it
    _cut_off(world, "suspended")
    assert world.erin.client.get(f"/api/releases/{world.release.pk}").status_code == 404

    services.certificate_reinstate(certificate_id=world.certificate.pk, reason="cleared",
                                   actor=world.rita.user)

    assert world.certificate.__class__.objects.get(
        pk=world.certificate.pk).status == CertificateStatus.ACTIVE
    assert world.erin.client.get(f"/api/releases/{world.release.pk}").status_code == 200


def test_an_expired_grant_hides_the_release(world, engaged, later):
    # the assignment ran for 30 days (support.assign); a day after, nothing is left
    later(days=31)
    assert world.erin.client.get(f"/api/releases/{world.release.pk}").status_code == 404
    assert world.erin.client.get(
        f"/api/findings/{engaged.ids['findings']}").status_code == 404
    assert timezone.now() > world.assignment.ends_at
