"""A `signoffs` gate with ``certified_keys: true`` counts only approvals under keys a
regulator certified for that person, lab and role, in force when they were recorded.

The attack each test answers: the lab runs the server, so it can register a key "for" a
signer and sign in her name; the sign-off is recorded, and must not count.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from govflow.accounts.services import membership_grant
from govflow.audit.models import AuditEvent
from govflow.core.errors import GateNotMet
from govflow.keys.acts import act_perform
from govflow.keys.certificate_predicates import build_key_certificate_revocation
from govflow.keys.certificates import KEY_CERTIFICATE_REVOKE
from govflow.keys.models import KeyCertificate
from govflow.keys.services import key_register
from govflow.releases.services import release_advance, release_gate_report
from govflow.signoffs.models import SignOff
from govflow.trust.intoto import Statement, sign_statement
from govflow.trust.keys import generate_private_key, public_key_to_base64
from tests import factories
from tests.signoffs.conftest import CERTIFIED_POLICY
from tests.signoffs.support import Signer, api_for

pytestmark = pytest.mark.django_db


def gate(release, actor) -> dict:
    report = release_gate_report(release=release, target=None, actor=actor)
    return next(g for g in report["gates"] if g["kind"] == "signoffs")


def minted(signer: Signer) -> Signer:
    """What the operator can do: register a new key in the signer's name (the server's
    own service, no proof from her) and sign with it."""
    key = generate_private_key()
    key_register(user=signer.user, public_key=public_key_to_base64(key.public_key()),
                 name="minted by the server")
    return Signer(user=signer.user, key=key, api=api_for(signer.user))


def revoke(certificate, rita, reason="left the lab") -> None:
    statement = build_key_certificate_revocation(
        certificate=certificate.pk, key_id=certificate.key.key_id,
        organization=certificate.organization.slug, reason=reason)
    statement["predicate"]["signed_at"] = timezone.now().isoformat()
    act_perform(KEY_CERTIFICATE_REVOKE, actor=rita[0], target=certificate.pk,
                envelope=sign_statement(Statement.from_dict(statement), rita[1]))


def expired_signer(lab, rita) -> Signer:
    """A lab signer whose key rita certified a month ago, for a week."""
    from tests.signoffs.support import signer

    frank = signer(lab, "lab_signer", username="frank")
    past = timezone.now() - timedelta(days=30)
    factories.certify_key(frank.user, public_key_to_base64(frank.key.public_key()),
                          "lab_signer", regulator=rita[0], regulator_key=rita[1],
                          now=past + timedelta(minutes=1), valid_from=past,
                          valid_until=past + timedelta(days=7))
    return frank


def test_the_policy_fixture_requires_certified_keys():
    assert "certified_keys: true" in CERTIFIED_POLICY


def test_certified_keys_open_the_gate(certified_release, release_manager, certified_crew):
    for name, role in (("bob", "lab_signer"), ("carol", "lab_signer"),
                       ("dana", "safety_officer")):
        certified_crew[name].signoff(certified_release, role)

    result = gate(certified_release, release_manager)

    assert result["met"], result["reason"]
    assert result["evidence"]["not_counted"] == []
    release_advance(release_id=certified_release.pk, actor=release_manager)


def test_a_lab_minted_key_is_recorded_but_does_not_count(certified_release, release_manager,
                                                         certified_crew):
    certified_crew["bob"].signoff(certified_release, "lab_signer")
    certified_crew["dana"].signoff(certified_release, "safety_officer")
    before = SignOff.objects.count()

    minted(certified_crew["carol"]).signoff(certified_release, "lab_signer")

    assert SignOff.objects.count() == before + 1  # recorded, with its event
    assert AuditEvent.objects.filter(event_type="signoff.recorded").count() == 3
    result = gate(certified_release, release_manager)
    assert not result["met"]
    assert "lab_signer 1/2" in result["reason"]
    assert "not counted (key not certified by a regulator): carol (lab_signer)" in \
        result["reason"]
    assert "has no regulator key certificate" in result["reason"]
    [set_aside] = result["evidence"]["not_counted"]
    assert set_aside["signer"] == certified_crew["carol"].user.pk
    with pytest.raises(GateNotMet):
        release_advance(release_id=certified_release.pk, actor=release_manager)


def test_without_certified_keys_the_same_minted_key_counts(release, release_manager, crew):
    # The contrast: the same attack opens a gate that does not ask for certified keys.
    crew["bob"].signoff(release, "lab_signer")
    crew["dana"].signoff(release, "safety_officer")
    minted(crew["carol"]).signoff(release, "lab_signer")

    assert gate(release, release_manager)["met"]


def test_a_minted_approval_cannot_withdraw_a_certified_reject(
    certified_release, release_manager, certified_crew
):
    certified_crew["bob"].signoff(certified_release, "lab_signer")
    certified_crew["carol"].signoff(certified_release, "lab_signer")
    certified_crew["dana"].signoff(certified_release, "safety_officer", decision="reject")

    # the operator "withdraws" dana's veto with an approval under a key it minted
    minted(certified_crew["dana"]).signoff(certified_release, "safety_officer")

    result = gate(certified_release, release_manager)
    assert not result["met"]
    assert result["reason"].startswith("vetoed: rejected by dana (safety_officer)")


def test_a_reject_under_an_uncertified_key_still_vetoes(certified_release, release_manager,
                                                        certified_crew):
    for name, role in (("bob", "lab_signer"), ("carol", "lab_signer"),
                       ("dana", "safety_officer")):
        certified_crew[name].signoff(certified_release, role)

    minted(certified_crew["carol"]).signoff(certified_release, "lab_signer", decision="reject")

    assert gate(certified_release, release_manager)["reason"].startswith("vetoed")


def test_a_certificate_for_another_role_does_not_count(certified_release, release_manager,
                                                       lab, rita, certified_crew):
    # erin holds both roles; rita certified her key as a lab signer only
    from tests.signoffs.support import signer

    erin = signer(lab, "lab_signer", username="erin")
    membership_grant(user=erin.user, organization=lab, role="safety_officer")
    factories.certify_key(erin.user, public_key_to_base64(erin.key.public_key()),
                          "lab_signer", regulator=rita[0], regulator_key=rita[1])
    certified_crew["bob"].signoff(certified_release, "lab_signer")
    certified_crew["carol"].signoff(certified_release, "lab_signer")

    erin.signoff(certified_release, "safety_officer")

    result = gate(certified_release, release_manager)
    assert not result["met"]
    assert "as lab_signer of organization" in result["reason"]
    assert "not to this signer as safety_officer" in result["reason"]


def test_a_revoked_certificate_stops_counting_from_its_revocation(
    certified_release, release_manager, certified_crew, rita
):
    certified_crew["bob"].signoff(certified_release, "lab_signer")
    certified_crew["dana"].signoff(certified_release, "safety_officer")
    revoke(KeyCertificate.objects.get(user=certified_crew["carol"].user), rita)

    certified_crew["carol"].signoff(certified_release, "lab_signer")

    result = gate(certified_release, release_manager)
    assert not result["met"]
    assert "was revoked before this was signed" in result["reason"]


def test_a_revocation_after_signing_leaves_the_approval_counted(
    certified_release, release_manager, certified_crew, rita
):
    for name, role in (("bob", "lab_signer"), ("carol", "lab_signer"),
                       ("dana", "safety_officer")):
        certified_crew[name].signoff(certified_release, role)

    revoke(KeyCertificate.objects.get(user=certified_crew["carol"].user), rita)

    # in force when she signed: the rule is "at signing time"
    assert gate(certified_release, release_manager)["met"]


def test_an_expired_certificate_does_not_count(certified_release, release_manager, lab,
                                               rita, certified_crew):
    frank = expired_signer(lab, rita)
    certified_crew["bob"].signoff(certified_release, "lab_signer")
    certified_crew["dana"].signoff(certified_release, "safety_officer")

    frank.signoff(certified_release, "lab_signer")

    result = gate(certified_release, release_manager)
    assert not result["met"]
    assert "not when this was signed" in result["reason"]
