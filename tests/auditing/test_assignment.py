"""The regulator assigns auditors; the assignment refuses a firm that is not certified
for the release's risk areas, whose certificate ends before the engagement, that is
conflicted with the lab, or that audited the lab's last K releases; each refusal is a
409 naming its rule and records nothing. An assignment grants time-limited access."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from govflow.audit.models import AuditEvent
from govflow.auditing import predicates as statements
from govflow.auditing import services
from govflow.auditing.models import AccessGrant, Assignment, EndReason
from govflow.core.errors import Conflict, ValidationFailed
from tests import factories
from tests.auditing.support import (
    assign,
    audited_release,
    certify,
    person,
    recorded,
    release_json,
)

pytestmark = pytest.mark.django_db


def refused(call, rule: str) -> Conflict:
    before = recorded()
    with pytest.raises(Conflict) as caught:
        call()
    assert caught.value.detail["rule"] == rule, caught.value.message
    assert recorded() == before
    return caught.value


def in_force(assignment) -> bool:
    return AccessGrant.objects.in_force(timezone.now()).filter(assignment=assignment).exists()


def test_an_assignment_grants_access_until_the_engagement_ends(world):
    grant = world.assignment.grant

    assert (grant.grantee, grant.release, grant.access_level) == (
        world.erin.user, world.release, "grey_box")  # the highest level certified
    assert grant.valid_until == world.assignment.ends_at
    assert in_force(world.assignment)
    event = AuditEvent.objects.get(event_type="assignment.created")
    assert event.payload == {
        "assignment": world.assignment.pk, "auditor": "erin", "auditor_id": world.erin.user.pk,
        "auditor_organization": world.firm.slug, "certificate": world.certificate.pk,
        "access_level": "grey_box", "risk_areas": ["deception"],
        "stage_entry": world.assignment.stage_entry_id,
        "starts_at": event.payload["starts_at"], "ends_at": event.payload["ends_at"],
        "grant": grant.pk,
        # the regulator's signed assignment statement, for the offline verifier
        "key_id": event.payload["key_id"], "nonce": event.payload["nonce"],
        "envelope": event.payload["envelope"], "statement": event.payload["statement"],
    }
    assert event.payload["statement"]["predicate"]["auditor"] == "erin"
    assert (event.actor, event.release_id, event.organization_id) == (
        world.rita.user, world.release.pk, world.lab.pk)


def test_suspension_and_revocation_stop_access_at_once_and_reinstatement_restores_it(world):
    services.certificate_suspend(certificate_id=world.certificate.pk, reason="inquiry",
                                 actor=world.rita.user)
    assert not in_force(world.assignment)

    services.certificate_reinstate(certificate_id=world.certificate.pk, reason="cleared",
                                   actor=world.rita.user)
    assert in_force(world.assignment)

    services.certificate_revoke(certificate_id=world.certificate.pk, reason="fraud",
                                actor=world.rita.user)
    assert not in_force(world.assignment)
    types = list(AuditEvent.objects.filter(subject_type="auditing.certificate")
                 .order_by("id").values_list("event_type", "payload__to_status"))
    assert types[-3:] == [("certificate.suspended", "suspended"),
                          ("certificate.reinstated", "active"), ("certificate.revoked", "revoked")]
    with pytest.raises(Conflict, match="revoked"):
        services.certificate_reinstate(certificate_id=world.certificate.pk, reason="x",
                                       actor=world.rita.user)


def test_the_regulator_ends_an_engagement_and_its_access(world):
    services.assignment_end(assignment_id=world.assignment.pk, note="conflict discovered",
                            actor=world.rita.user)

    world.assignment.refresh_from_db()
    assert world.assignment.end_reason == EndReason.ENDED_BY_REGULATOR
    assert world.assignment.grant.revoked_at is not None
    assert not in_force(world.assignment)
    event = AuditEvent.objects.filter(event_type="assignment.ended").get()
    assert event.payload["grant_revoked"] == world.assignment.grant.pk


def test_the_lab_sees_its_auditors_but_cannot_remove_or_choose_them(world):
    client = world.manager.client

    listed = client.get(f"/api/releases/{world.release.pk}/assignments").json()
    removed = client.post(f"/api/assignments/{world.assignment.pk}/end", {
        "envelope": world.manager.sign(statements.build_assignment_end(
            release=release_json(world.release), assignment=world.assignment.pk,
            reason="meh"))}, format="json")
    chosen = client.post(f"/api/releases/{world.release.pk}/assignments",
                         {"auditor": "ursula", "ends_at": "2099-01-01T00:00:00Z"}, format="json")

    assert [a["auditor"] for a in listed] == ["erin"]
    assert listed[0]["grant"]["in_force"] is True
    assert (removed.status_code, chosen.status_code) == (403, 403)


def test_an_auditor_uncertified_for_the_risk_areas_is_refused(world):
    firm = factories.organization(kind="auditor")
    cyber_only = person(firm, "auditor")
    certify(world.rita, firm, risk_areas=["cyber"])

    error = refused(lambda: assign(world.rita, world.release, cyber_only), "uncertified")

    assert "not certified for the release's risk areas (deception)" in error.message


def test_an_auditor_with_no_certificate_is_refused(world):
    nobody = person(factories.organization(kind="auditor"), "auditor")

    refused(lambda: assign(world.rita, world.release, nobody), "uncertified")


def test_a_certificate_ending_before_the_engagement_is_refused(world):
    firm = factories.organization(kind="auditor")
    auditor = person(firm, "auditor")
    certify(world.rita, firm, days=10)

    error = refused(lambda: assign(world.rita, world.release, auditor, days=20),
                    "certificate_expires")

    assert "before the engagement would end" in error.message


def test_an_access_level_beyond_the_certificate_is_refused(world):
    refused(lambda: assign(world.rita, world.release, world.frank, access_level="white_box"),
            "access_level")


def test_a_declared_conflict_with_the_lab_is_refused(world):
    services.conflict_declare(auditor=world.other_firm, lab_slug=world.lab.slug,
                              kind="financial", description="advisory contract",
                              starts_on=date(2024, 1, 1), ends_on=None, actor=world.ursula.user)

    error = refused(lambda: assign(world.rita, world.release, world.ursula), "conflict")

    assert error.detail["conflicts"]


def test_a_conflict_that_ended_before_the_engagement_does_not_count(world):
    services.conflict_declare(auditor=world.other_firm, lab_slug=world.lab.slug,
                              kind="personal", description="former employee",
                              starts_on=date(2019, 1, 1), ends_on=date(2020, 1, 1),
                              actor=world.ursula.user)

    assert assign(world.rita, world.release, world.ursula).pk


def test_more_than_k_consecutive_releases_of_one_lab_are_refused(world):
    # the policy allows 2 in a row: erin's firm audits this release and one more
    second = audited_release(world.lab, world.manager.user)
    assign(world.rita, second, world.frank)
    third = audited_release(world.lab, world.manager.user)

    error = refused(lambda: assign(world.rita, third, world.erin), "consecutive")

    assert error.detail["releases"] == [second.pk, world.release.pk]
    # another firm breaks the streak
    assign(world.rita, third, world.ursula)
    fourth = audited_release(world.lab, world.manager.user)
    assert assign(world.rita, fourth, world.erin).pk


def test_a_release_not_in_its_audit_stage_is_refused(world):
    fresh = factories.release(world.lab, world.manager.user)  # no third_party_audit gate

    refused(lambda: assign(world.rita, fresh, world.frank), "not_in_audit")


def test_assigning_twice_is_refused_and_a_non_auditor_is_invalid(world):
    refused(lambda: assign(world.rita, world.release, world.erin), "already_assigned")
    with pytest.raises(ValidationFailed):
        assign(world.rita, world.release, world.manager)


def test_an_ended_assignment_does_not_stop_a_new_one_in_the_same_round(world):
    services.assignment_end(assignment_id=world.assignment.pk, note="x", actor=world.rita.user)

    again = assign(world.rita, world.release, world.erin)

    assert Assignment.objects.filter(release=world.release, auditor=world.erin.user).count() == 2
    assert in_force(again)
    assert timezone.now() + timedelta(days=29) < again.ends_at
