"""Builders for test data, going through the services like real callers do."""

from __future__ import annotations

import hashlib
import itertools

from django.core.files.base import ContentFile

from govflow.accounts.models import Organization
from govflow.accounts.services import (
    membership_grant,
    organization_create,
    token_issue,
    user_create,
)
from govflow.policy.models import PolicyVersion
from govflow.policy.services import policy_register
from govflow.releases.evidence import evidence_attach
from govflow.releases.models import Release
from govflow.releases.services import release_open
from govflow.systems.models import SystemVersion
from govflow.systems.services import system_register

_seq = itertools.count(1)

SIMPLE_POLICY = """
name: simple
stages:
  - name: internal_evals
  - name: third_party_audit
    gates:
      - kind: evidence_document
        document_type: red_team_report
  - name: limited_rollout
    gates:
      - kind: stage_dwell
        min_hours: 1
  - name: open_weights
    irreversible: true
"""


def organization(*, kind: str = "lab", slug: str | None = None) -> Organization:
    n = next(_seq)
    slug = slug or f"{kind}-{n}"
    return organization_create(name=f"Org {slug}", slug=slug, kind=kind)


def person(org: Organization, *roles: str, username: str | None = None):
    user = user_create(username=username or f"user{next(_seq)}", password="pw-for-tests-1")
    for role in roles:
        membership_grant(user=user, organization=org, role=role)
    return user


def token_for(user) -> str:
    return token_issue(user=user, name="test").secret


def manifest(**changes) -> dict:
    base = {
        "model": {
            "name": "test-model",
            "weights_digest": "sha256:" + hashlib.sha256(b"w").hexdigest(),
            "parameter_count": 1_000_000,
        },
        "tools": ["search"],
    }
    base.update(changes)
    return base


def system_version(org: Organization, actor, **changes) -> SystemVersion:
    return system_register(
        organization=org, name=f"system-{next(_seq)}", manifest=manifest(**changes), actor=actor
    )


def policy(text: str = SIMPLE_POLICY) -> PolicyVersion:
    return policy_register(source=text, source_path="tests")


def release(org: Organization, actor, *, policy_text: str = SIMPLE_POLICY,
            **manifest_changes) -> Release:
    return release_open(
        system_version=system_version(org, actor, **manifest_changes),
        policy_version=policy(policy_text),
        title=f"release {next(_seq)}",
        actor=actor,
    )


def attach(release: Release, actor, document_type: str = "red_team_report", body: bytes = b"r"):
    return evidence_attach(
        release_id=release.pk,
        document_type=document_type,
        upload=ContentFile(body, name="doc.txt"),
        name="doc.txt",
        media_type="text/plain",
        actor=actor,
    )


def machine_token_for(user, release, purpose: str = "incident:file") -> str:
    """A monitoring source's token: ``purpose`` on ``release`` only, issued by ``user``."""
    return token_issue(user=user, name="monitor", purpose=purpose, release=release).secret
