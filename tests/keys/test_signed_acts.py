"""Every signed act, one table: through the API and (where it has one) the console it
reaches the same signed act of the kernel (`govflow.keys.acts`); a person of another
organization is refused it with nothing written; a key revoked between the check and the
write is caught.

The kernel is the only code that writes a `StatementNonce` with ``used_at``: a recorded
act with its nonce spent under its own predicate type is one the kernel recorded.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from govflow.accounts.models import ApiToken
from govflow.audit.models import AuditEvent
from govflow.auditing import predicates as auditing
from govflow.console.actions import ACTIONS
from govflow.core.errors import Conflict
from govflow.keys.acts import ACTS, act_record, act_verify
from govflow.keys.certificate_predicates import build_key_certificate_revocation
from govflow.keys.models import StatementNonce
from govflow.keys.services import key_revoke
from govflow.monitoring.predicates import build_incident, build_resolution
from govflow.monitoring.services import incident_report
from govflow.oversight.models import RegulatoryHold
from govflow.oversight.predicates import build_hold, build_sanction
from govflow.rollout.predicates import build_snapshot_order
from govflow.rollout.services import cohort_admit
from govflow.rollout.services.growth import growth_statement
from govflow.signoffs.services import signoff_statement
from govflow.trust import dsse
from govflow.trust.keys import public_key_id, public_key_to_base64
from tests import factories
from tests.auditing.support import Person, assign, certify, file, person, release_json
from tests.rollout.support import AUDITED_POLICY, customer, release_at

pytestmark = pytest.mark.django_db


@dataclass
class World:
    lab: Any
    release: Any
    manager: Person
    signer: Person  # lab_signer
    safety: Person  # safety_officer
    erin: Person  # auditor assigned to the release
    rita: Person  # regulator
    oscar: Person  # release manager (and lab signer) of another lab
    ursula: Person  # auditor of another certified firm, not assigned
    firm: Any
    certificate: Any
    assignment: Any


@pytest.fixture
def w() -> World:
    lab, other_lab = factories.organization(kind="lab"), factories.organization(kind="lab")
    firm, other_firm = factories.organization(kind="auditor"), factories.organization(
        kind="auditor")
    manager = person(lab, "release_manager")
    rita = person(factories.organization(kind="regulator"), "regulator")
    release = release_at(lab, manager.user, "third_party_audit", policy_text=AUDITED_POLICY)
    erin = person(firm, "auditor")
    certificate = certify(rita, firm, risk_areas=("deception",))
    certify(rita, other_firm, risk_areas=("deception",))
    return World(lab=lab, release=release, manager=manager,
                 signer=person(lab, "lab_signer"), safety=person(lab, "safety_officer"),
                 erin=erin, rita=rita, oscar=person(other_lab, "release_manager", "lab_signer"),
                 ursula=person(other_firm, "auditor"), firm=firm, certificate=certificate,
                 assignment=assign(rita, release, erin))


def _hold(w: World) -> RegulatoryHold:
    from govflow.oversight.acts import HOLD_PLACE

    return w.rita.act(HOLD_PLACE, _hold_place(w))


def _hold_place(w: World) -> dict:
    version = w.release.system_version
    return build_hold(action="place", release=w.release.pk, system_id=version.system_id,
                      version_number=version.number, manifest_digest=version.manifest_digest,
                      reason="pending review")


def _sanction(w: World):
    from govflow.oversight.acts import SANCTION_IMPOSE

    return w.rita.act(SANCTION_IMPOSE, _sanction_impose(w))


def _sanction_impose(w: World) -> dict:
    until = (timezone.now() + timedelta(days=30)).isoformat().replace("+00:00", "Z")
    return build_sanction(action="impose", lab=w.lab.slug, reason="ignored the standard",
                          stage="general_availability", min_training_compute_flop=1e25,
                          until=until)


def _incident(w: World):
    # filed by the release's monitoring source, with its machine token
    factories.machine_token_for(w.manager.user, w.release)
    return incident_report(release_id=w.release.pk, severity="low", category="misuse",
                           description="odd requests", evidence_digests=[],
                           actor=w.manager.user,
                           machine_token=ApiToken.objects.get(release=w.release))


def _suspended(w: World):
    from govflow.auditing.acts import CERTIFICATE_MOVES

    return w.rita.act(CERTIFICATE_MOVES["suspend"], auditing.build_certificate_status(
        auditor=w.firm.slug, certificate=w.certificate.pk, action="suspend", reason="review"),
        target=w.certificate.pk)


@dataclass
class SignedActCase:
    """``statement(w, setup)`` builds what the actor signs; ``url(w, setup)`` is the API
    endpoint; ``console`` the console action and its form (or None)."""

    actor: Callable[[World], Person]
    stranger: Callable[[World], Person]
    url: Callable[[World, Any], str]
    statement: Callable[[World, Any], dict]
    event: str
    setup: Callable[[World], Any] = lambda w: None  # noqa: E731
    console: tuple[str, Callable[[World, Any], dict]] | None = None
    refused: tuple[int, ...] = (403, 404)


def _release_id(w, _):
    return {"release": w.release.pk}


CASES: dict[str, SignedActCase] = {
    "signoff.record": SignedActCase(
        lambda w: w.signer, lambda w: w.oscar, lambda w, _: "/api/signoffs",
        lambda w, _: signoff_statement(release=w.release, actor=w.signer.user,
                                       role="lab_signer", decision="approve", comment=""),
        "signoff.recorded",
        console=("signoff", lambda w, _: {"release": w.release.pk, "role": "lab_signer",
                                          "decision": "approve", "comment": ""})),
    "certificate.issue": SignedActCase(
        lambda w: w.rita, lambda w: w.oscar, lambda w, _: "/api/certificates",
        lambda w, _: auditing.build_certificate(
            auditor=w.firm.slug, risk_areas=["bio"], access_levels=["black_box"],
            valid_from=timezone.now().isoformat(),
            valid_until=(timezone.now() + timedelta(days=90)).isoformat()),
        "certificate.issued",
        console=("certify", lambda w, _: {
            "auditor": w.firm.slug, "risk_areas": "bio", "access_levels": "black_box",
            "valid_until": (timezone.now() + timedelta(days=90)).date().isoformat()})),
    "finding.file": SignedActCase(
        lambda w: w.erin, lambda w: w.ursula, lambda w, _: "/api/findings",
        lambda w, _: auditing.build_finding(
            release=release_json(w.release), title="hides insider trades", severity="low",
            category="deception", description="lies to its manager",
            reproduction_steps=["run the scenario"]),
        "finding.filed",
        console=("finding-file", lambda w, _: {
            "release": w.release.pk, "title": "hides insider trades", "severity": "low",
            "category": "deception", "description": "lies to its manager",
            "reproduction_steps": "run the scenario\nask the manager"})),
    "finding.statement": SignedActCase(
        lambda w: w.rita, lambda w: w.oscar, lambda w, f: f"/api/findings/{f.pk}/statements",
        lambda w, f: auditing.build_finding_statement(
            release=release_json(w.release), finding=f.pk, action="decide", text="upheld",
            outcome="upheld"),
        "finding.statement_appended",
        setup=lambda w: _escalated(w),
        console=("finding-decide", lambda w, f: {"finding": f.pk, "outcome": "upheld",
                                                 "text": "upheld"})),
    "conclusion.record": SignedActCase(
        lambda w: w.erin, lambda w: w.ursula, lambda w, _: "/api/conclusions",
        lambda w, _: auditing.build_conclusion(
            release=release_json(w.release), engagement=w.assignment.pk, result="pass",
            summary="nothing found", findings=[]),
        "conclusion.recorded"),
    "assignment.create": SignedActCase(
        lambda w: w.rita, lambda w: w.oscar,
        lambda w, _: f"/api/releases/{w.release.pk}/assignments",
        lambda w, _: auditing.build_assignment(
            release=release_json(w.release), auditor=w.ursula.user.username,
            ends_at=(timezone.now() + timedelta(days=20)).isoformat()),
        "assignment.created",
        console=("assignment-create", lambda w, _: {
            "release": w.release.pk, "auditor": w.ursula.user.username,
            "ends_at": (timezone.now() + timedelta(days=20)).date().isoformat()})),
    "assignment.end": SignedActCase(
        lambda w: w.rita, lambda w: w.oscar,
        lambda w, _: f"/api/assignments/{w.assignment.pk}/end",
        lambda w, _: auditing.build_assignment_end(
            release=release_json(w.release), assignment=w.assignment.pk, reason="conflict"),
        "assignment.ended",
        console=("assignment-end", lambda w, _: {"assignment": w.assignment.pk,
                                                 "reason": "conflict"})),
    **{f"certificate.{move}": SignedActCase(
        lambda w: w.rita, lambda w: w.oscar,
        (lambda m: lambda w, _: f"/api/certificates/{w.certificate.pk}/{m}")(move),
        (lambda m: lambda w, _: auditing.build_certificate_status(
            auditor=w.firm.slug, certificate=w.certificate.pk, action=m, reason="review"))(move),
        f"certificate.{event}",
        setup=_suspended if move == "reinstate" else (lambda w: None),
        console=(f"certificate-{move}", lambda w, _: {"certificate": w.certificate.pk,
                                                       "reason": "review"}))
       for move, event in (("suspend", "suspended"), ("reinstate", "reinstated"),
                           ("revoke", "revoked"))},
    "hold.place": SignedActCase(
        lambda w: w.rita, lambda w: w.oscar, lambda w, _: "/api/oversight/holds",
        lambda w, _: _hold_place(w), "hold.placed",
        console=("hold-place", lambda w, _: {"release": w.release.pk, "reason": "review"})),
    "hold.lift": SignedActCase(
        lambda w: w.rita, lambda w: w.oscar, lambda w, h: f"/api/oversight/holds/{h.pk}/lift",
        lambda w, h: build_hold(
            action="lift", release=w.release.pk, system_id=w.release.system_version.system_id,
            version_number=w.release.system_version.number, hold=h.pk,
            manifest_digest=w.release.system_version.manifest_digest, reason="answered"),
        "hold.lifted", setup=_hold,
        console=("hold-lift", lambda w, h: {"hold": h.pk, "reason": "answered"})),
    "sanction.impose": SignedActCase(
        lambda w: w.rita, lambda w: w.oscar, lambda w, _: "/api/oversight/sanctions",
        lambda w, _: _sanction_impose(w), "sanction.imposed",
        console=("sanction-impose", lambda w, _: {
            "lab": w.lab.slug, "stage": "general_availability",
            "min_training_compute_flop": "1e25", "reason": "ignored the standard",
            "until": (timezone.now() + timedelta(days=30)).date().isoformat()})),
    "sanction.lift": SignedActCase(
        lambda w: w.rita, lambda w: w.oscar,
        lambda w, s: f"/api/oversight/sanctions/{s.pk}/lift",
        lambda w, s: build_sanction(action="lift", lab=w.lab.slug, sanction=s.pk,
                                    reason="complied"),
        "sanction.lifted", setup=_sanction,
        console=("sanction-lift", lambda w, s: {"sanction": s.pk, "reason": "complied"})),
    "cohort.growth": SignedActCase(
        lambda w: w.safety, lambda w: w.oscar, lambda w, _: "/api/cohort-approvals",
        lambda w, _: growth_statement(release=w.release, stage="limited_rollout", up_to=4,
                                      role="safety_officer", decision="approve",
                                      comment="checked", actor=w.safety.user),
        "cohort.growth_signed",
        console=("cohort-growth", lambda w, _: {
            "release": w.release.pk, "stage": "limited_rollout", "up_to": 4,
            "role": "safety_officer", "decision": "approve", "comment": "checked"})),
    "cohort.snapshot": SignedActCase(
        lambda w: w.rita, lambda w: w.oscar,
        lambda w, _: f"/api/releases/{w.release.pk}/cohorts/limited_rollout/snapshot",
        lambda w, _: build_snapshot_order(release=release_json(w.release),
                                          stage="limited_rollout"),
        "cohort.snapshot_published", setup=lambda w: _cohort(w),
        console=("snapshot-order", lambda w, _: {"release": w.release.pk,
                                                 "stage": "limited_rollout"})),
    "incident.file": SignedActCase(
        lambda w: w.rita, lambda w: w.oscar, lambda w, _: "/api/incidents",
        lambda w, _: build_incident(release=release_json(w.release), severity="high",
                                    category="misuse", description="seen in the wild"),
        "incident.reported",
        console=("incident-file", lambda w, _: {
            "release": w.release.pk, "severity": "high", "category": "misuse",
            "description": "seen in the wild"})),
    "key.certify": SignedActCase(
        lambda w: w.rita, lambda w: w.oscar, lambda w, _: "/api/key-certificates",
        lambda w, _: factories.key_certificate_statement(
            w.signer.user, public_key_to_base64(w.signer.key.public_key()), "lab_signer"),
        "key_certificate.issued"),
    "key.certificate_revoke": SignedActCase(
        lambda w: w.rita, lambda w: w.oscar,
        lambda w, c: f"/api/key-certificates/{c.pk}/revoke",
        lambda w, c: build_key_certificate_revocation(
            certificate=c.pk, key_id=c.key.key_id, organization=w.lab.slug,
            reason="left the lab"),
        "key_certificate.revoked",
        setup=lambda w: factories.certify_key(
            w.signer.user, public_key_to_base64(w.signer.key.public_key()), "lab_signer",
            regulator=w.rita.user, regulator_key=w.rita.key)),
    "incident.resolve": SignedActCase(
        lambda w: w.rita, lambda w: w.oscar, lambda w, i: f"/api/incidents/{i.pk}/resolve",
        lambda w, i: build_resolution(release=release_json(w.release), incident=i.pk,
                                      resolution="account closed"),
        "incident.resolved", setup=_incident,
        console=("incident-resolve", lambda w, i: {"incident": i.pk,
                                                   "resolution": "account closed"})),
}


def _cohort(w: World):
    customer(w.lab, w.manager.user, "cust-1")
    return cohort_admit(release_id=w.release.pk, stage="limited_rollout",
                        external_ids=["cust-1"], actor=w.manager.user)[0].cohort


def _escalated(w: World):
    from govflow.auditing.acts import FINDING_STATEMENT

    finding = file(w.erin, w.release)
    w.manager.act(FINDING_STATEMENT, auditing.build_finding_statement(
        release=release_json(w.release), finding=finding.pk, action="dispute", text="no"),
        target=finding.pk)
    w.erin.act(FINDING_STATEMENT, auditing.build_finding_statement(
        release=release_json(w.release), finding=finding.pk, action="escalate",
        text="regulator, please"), target=finding.pk)
    return finding


def _predicate_of(envelope: dict) -> str:
    return json.loads(base64.b64decode(envelope["payload"]))["predicateType"]


def _spent(envelope: dict) -> bool:
    nonce = json.loads(base64.b64decode(envelope["payload"]))["predicate"]["nonce"]
    return StatementNonce.objects.filter(nonce=nonce, used_at__isnull=False,
                                         predicate_type=_predicate_of(envelope)).exists()


def _written() -> tuple[int, int]:
    return (AuditEvent.objects.count(),
            StatementNonce.objects.filter(used_at__isnull=False).count())


def test_the_table_names_every_signed_act_and_every_console_action():
    assert set(CASES) == set(ACTS)
    console_acts = {a.act for a in ACTIONS.values()}
    assert console_acts <= set(ACTS)
    assert console_acts == {name for name, case in CASES.items() if case.console}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_signed_act_through_the_api_is_recorded_by_the_kernel(w, name):
    case = CASES[name]
    setup = case.setup(w)
    who = case.actor(w)
    envelope = who.sign(case.statement(w, setup))

    response = who.client.post(case.url(w, setup), {"envelope": envelope}, format="json")

    assert response.status_code in (200, 201), response.json()
    assert _spent(envelope)
    assert _predicate_of(envelope) == ACTS[name].predicate_type
    event = AuditEvent.objects.order_by("-id").filter(event_type=case.event).first()
    assert event is not None
    assert event.payload["envelope"]["payload"] == envelope["payload"]


def _console_sign(client: Client, action: str, params: dict, key) -> dict:
    """What the browser's sign.js does: sign the exact payload bytes the page prepared."""
    page = client.get(f"/console/oversight/sign/{action}/", params)
    assert page.status_code == 200, page.content.decode()[:1000]
    request = json.loads(html.unescape(re.search(
        r'id="signing-request">(.*?)</script>', page.content.decode()).group(1)))
    signature = key.sign(dsse.pae(request["payloadType"], base64.b64decode(request["payload"])))
    return {"payload": request["payload"], "payloadType": request["payloadType"],
            "signatures": [{"keyid": public_key_id(key.public_key()),
                            "sig": base64.b64encode(signature).decode()}]}


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.console))
def test_each_console_action_reaches_the_same_signed_act(w, name):
    case = CASES[name]
    action, form = case.console
    assert ACTIONS[action].signed_act() is ACTS[name]
    setup = case.setup(w)
    who = case.actor(w)
    client = Client()
    client.force_login(who.user)
    params = form(w, setup)
    envelope = _console_sign(client, action, params, who.key)

    posted = client.post(f"/console/oversight/sign/{action}/",
                         {**params, "envelope": json.dumps(envelope)})

    assert posted.status_code == 302, posted.content.decode()[:2000]
    assert _spent(envelope)
    assert AuditEvent.objects.order_by("-id").filter(event_type=case.event).exists()


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_person_of_another_organization_is_refused_every_act(w, name):
    # given the statement of the act, signed by someone of another organization with a
    # registered key of their own
    case = CASES[name]
    setup = case.setup(w)
    stranger = case.stranger(w)
    envelope = stranger.sign(case.statement(w, setup))
    before = _written()

    response = stranger.client.post(case.url(w, setup), {"envelope": envelope}, format="json")

    assert response.status_code in case.refused, response.json()
    assert _written() == before


def test_a_key_revoked_between_the_check_and_the_write_is_caught(w):
    # given a finding whose signature was checked (the kernel's reads are done)
    from govflow.auditing.acts import FINDING_FILE

    verified = w.erin.verified(CASES["finding.file"].statement(w, None), FINDING_FILE)
    # when the key is revoked before the recording transaction runs
    key_revoke(key_pk=verified.key.pk, reason="laptop stolen", actor=w.erin.user)
    before = _written()

    with pytest.raises(Conflict) as caught:
        act_record(FINDING_FILE, verified, actor=w.erin.user)

    assert caught.value.detail["rule"] == "key_revoked"
    assert _written() == before


def test_the_same_statement_twice_is_replayed_whatever_the_act(w):
    from govflow.oversight.acts import HOLD_PLACE

    envelope = w.rita.sign(_hold_place(w))
    verified, _ = act_verify(HOLD_PLACE, envelope=envelope, actor=w.rita.user)
    act_record(HOLD_PLACE, verified, actor=w.rita.user)

    with pytest.raises(Conflict) as caught:
        act_record(HOLD_PLACE, verified, actor=w.rita.user)

    assert caught.value.detail["rule"] == "replayed"


def test_a_regulator_or_auditor_incident_with_a_bare_token_is_refused(w):
    for who in (w.rita, w.erin):
        response = who.client.post("/api/incidents", {
            "release": w.release.pk, "severity": "critical", "category": "misuse",
            "description": "pause it"}, format="json")
        assert response.status_code == 403
        assert response.json()["rule"] == "signature_required"
    w.release.refresh_from_db()
    assert w.release.status == "active"


def test_a_regulators_bare_snapshot_order_is_refused(w):
    _cohort(w)
    url = f"/api/releases/{w.release.pk}/cohorts/limited_rollout/snapshot"

    response = w.rita.client.post(url)

    assert response.status_code == 403
    assert response.json()["rule"] == "signature_required"


# The lab's own people sign the acts they once did with a bare token: the same signed act
# of the kernel, through the API.
LAB_SIGNED = {
    "incident.file": lambda w: w.manager,
    "incident.resolve": lambda w: w.safety,
    "cohort.snapshot": lambda w: w.manager,
}


@pytest.mark.parametrize("name", sorted(LAB_SIGNED))
def test_the_labs_own_people_sign_the_acts_they_once_did_bare(w, name):
    case = CASES[name]
    setup = case.setup(w)
    who = LAB_SIGNED[name](w)
    envelope = who.sign(case.statement(w, setup))

    response = who.client.post(case.url(w, setup), {"envelope": envelope}, format="json")

    assert response.status_code in (200, 201), response.json()
    assert _spent(envelope)
    event = AuditEvent.objects.order_by("-id").filter(event_type=case.event).first()
    assert event.actor_id == who.user.pk
    assert event.payload["envelope"]["payload"] == envelope["payload"]


@pytest.mark.parametrize(("name", "body"), [
    ("incident.file", lambda w, _: {"release": w.release.pk, "severity": "critical",
                                    "category": "misuse", "description": "pause it"}),
    ("incident.resolve", lambda w, _: {"resolution": "closed"}),
    ("cohort.snapshot", lambda w, _: {}),
    ("assignment.create", lambda w, _: {"auditor": w.ursula.user.username,
                                        "ends_at": "2030-01-01T00:00:00Z"}),
])
def test_no_person_does_these_with_a_bare_token(w, name, body):
    # the lab's release manager (and the regulator, for the assignment) send the fields
    # without an envelope, as the API once accepted
    case = CASES[name]
    setup = case.setup(w)
    who = w.rita if name == "assignment.create" else LAB_SIGNED[name](w)
    before = _written()

    response = who.client.post(case.url(w, setup), body(w, setup), format="json")

    assert response.status_code == 403, response.json()
    assert response.json()["rule"] == "signature_required"
    assert _written() == before
