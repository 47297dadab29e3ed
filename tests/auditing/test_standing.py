"""`engagement_in_force` (one hand-written query on the filing hot path) agrees with
`AccessGrant.objects.in_force` — the rule other areas read — in every state a grant,
its certificate and its assignment can be in."""

from __future__ import annotations

import pytest
from django.utils import timezone

from govflow.auditing import services
from govflow.auditing.models import AccessGrant
from govflow.auditing.services.standing import engagement_in_force
from govflow.core.errors import Conflict, DomainError
from govflow.keys.services import key_revoke

pytestmark = pytest.mark.django_db


def agree(world) -> bool:
    now = timezone.now()
    by_rule = AccessGrant.objects.in_force(now).filter(assignment=world.assignment).exists()
    try:
        engagement = engagement_in_force(release_id=world.release.pk, auditor=world.erin.user,
                                         now=now, lock=True)
    except DomainError:
        by_query = False
    else:
        by_query = True
        version = world.release.system_version
        assert engagement.subject == (f"govflow:system/{version.system_id}/v{version.number}",
                                      version.manifest_digest)
        assert (engagement.release_id, engagement.lab_id) == (world.release.pk, world.lab.pk)
    assert by_query == by_rule
    return by_rule


def test_in_force_when_assigned(world):
    assert agree(world) is True


@pytest.mark.parametrize("move", ["certificate_suspend", "certificate_revoke"])
def test_not_in_force_under_a_suspended_or_revoked_certificate(world, move):
    getattr(services, move)(certificate_id=world.certificate.pk, reason="x",
                            actor=world.rita.user)
    assert agree(world) is False


def test_not_in_force_once_the_engagement_ended(world):
    services.assignment_end(assignment_id=world.assignment.pk, note="x", actor=world.rita.user)
    assert agree(world) is False


@pytest.mark.parametrize("days", [31, 400], ids=["grant-expired", "certificate-expired"])
def test_not_in_force_after_the_window(world, later, days):
    later(days=days)
    assert agree(world) is False


def test_a_key_revoked_after_verification_is_caught(world):
    key = world.erin.user.signing_keys.get()
    key_revoke(key_pk=key.pk, reason="laptop lost", actor=world.erin.user)

    with pytest.raises(Conflict) as caught:
        engagement_in_force(release_id=world.release.pk, auditor=world.erin.user,
                            now=timezone.now(), key=key)

    assert caught.value.detail["rule"] == "key_revoked"
