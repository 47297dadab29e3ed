"""Builders for test data, going through the services like real callers do."""

from __future__ import annotations

import hashlib
import itertools
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.base import ContentFile
from django.utils import timezone

from govflow.accounts.models import Organization
from govflow.accounts.selectors import user_organization
from govflow.accounts.services import (
    membership_grant,
    organization_create,
    token_issue,
    user_create,
)
from govflow.core.times import rfc3339
from govflow.keys.acts import act_perform
from govflow.keys.certificate_predicates import build_key_certificate
from govflow.keys.models import KeyCertificate
from govflow.keys.services import key_register
from govflow.policy.models import PolicyVersion
from govflow.policy.services import policy_register
from govflow.releases.evidence import evidence_attach
from govflow.releases.models import Release
from govflow.releases.services import release_open
from govflow.systems.models import SystemVersion
from govflow.systems.services import system_register
from govflow.trust.intoto import Statement, sign_statement
from govflow.trust.keys import generate_private_key, public_key_to_base64

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


def keyed_regulator():
    """A regulator with a registered signing key: (user, private key)."""
    user = person(organization(kind="regulator"), "regulator")
    private = generate_private_key()
    key_register(user=user, public_key=public_key_to_base64(private.public_key()),
                 name="regulator key")
    return user, private


def key_certificate_statement(user, public_key: str, role: str, *, days: float = 365,
                              valid_from=None, valid_until=None) -> dict:
    """The key certificate a regulator signs for ``user``'s ``public_key`` as ``role`` of
    their lab (valid from a minute ago for ``days``, unless given)."""
    org = user_organization(user)
    now = timezone.now()
    statement = build_key_certificate(
        user_id=user.pk, username=user.get_username(), organization=org.slug,
        organization_id=org.pk, role=role, public_key=public_key,
        valid_from=rfc3339(valid_from or now - timedelta(minutes=1)),
        valid_until=rfc3339(valid_until or now + timedelta(days=days)))
    statement["predicate"]["signed_at"] = rfc3339(now)
    return statement


def certify_key(user, public_key: str, role: str, *, regulator=None,
                regulator_key: Ed25519PrivateKey | None = None, now=None,
                **validity) -> KeyCertificate:
    """A regulator (a new one unless given, with ``regulator_key``) certifies ``user``'s
    key, through the kernel's signed act as `python -m govflow.client key-certify` does;
    recorded at ``now`` (the kernel's clock) if given."""
    from govflow.keys.certificates import KEY_CERTIFY

    if regulator is None:
        regulator, regulator_key = keyed_regulator()
    statement = key_certificate_statement(user, public_key, role, **validity)
    envelope = sign_statement(Statement.from_dict(statement), regulator_key)
    return act_perform(KEY_CERTIFY, envelope=envelope, actor=regulator, now=now)
