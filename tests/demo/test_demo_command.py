"""`manage.py demo`: builds the demo world once; running it again changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from govflow.accounts.models import ApiToken, Membership, Organization
from govflow.audit.models import AuditEvent
from govflow.demo.build import PEOPLE, demo_token
from govflow.releases.models import EvidenceDocument, Release, StageTransition
from govflow.systems.models import SystemVersion

pytestmark = pytest.mark.django_db

COUNTED = [
    AuditEvent, Release, get_user_model(), Organization, Membership, ApiToken,
    SystemVersion, StageTransition, EvidenceDocument,
]


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_running_the_demo_twice_creates_nothing_the_second_time(demo):
    after_first = counts()
    demo.again()
    assert counts() == after_first
    assert after_first["Release"] == 2
    assert after_first["AuditEvent"] > 0


def test_the_demo_releases_are_at_their_stages(demo):
    in_audit = Release.objects.get(title="Frontier-7 v1")
    internal = Release.objects.get(title="Frontier-7 v1.1")
    assert (in_audit.stage, in_audit.status) == ("third_party_audit", "active")
    assert (internal.stage, internal.status) == ("internal_evals", "active")
    assert f"Release {in_audit.pk} '{in_audit.title}' is at third_party_audit." in demo.output


def test_the_demo_tokens_authenticate(demo, api):
    # given the demo world, built by the command
    client = api()

    # when each demo person calls /api/me with their printed token
    for username, org_slug, roles in PEOPLE:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {demo_token(username)}")
        response = client.get("/api/me")

        # then it is them, in their organization, with their roles
        assert response.status_code == 200, username
        body = response.json()
        assert body["username"] == username
        assert body["organization"]["slug"] == org_slug
        assert body["roles"] == sorted(roles)


def test_a_wrong_demo_token_is_refused(demo, api):
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Bearer gf_demo_mallory_token")
    assert client.get("/api/me").status_code == 401
