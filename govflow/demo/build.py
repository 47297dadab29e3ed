"""Building the demo world. Each step is idempotent: running it twice changes nothing.

Later areas add a step here so that `make run` always shows every capability.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction

from govflow.accounts.models import ApiToken, Organization, OrganizationKind, Role
from govflow.accounts.services import (
    membership_grant,
    organization_create,
    token_digest,
    token_issue,
    user_create,
)
from govflow.policy.services import policy_register_named
from govflow.releases.evidence import evidence_attach
from govflow.releases.models import Release
from govflow.releases.services import release_advance, release_open
from govflow.systems.models import AISystem
from govflow.systems.services import system_register

DEMO_PASSWORD = "govflow-demo"

ORGS = [
    ("Frontier Lab", "frontier-lab", OrganizationKind.LAB),
    ("Other Lab", "other-lab", OrganizationKind.LAB),
    ("Independent Audits", "independent-audits", OrganizationKind.AUDITOR),
    ("AI Safety Institute", "ai-safety-institute", OrganizationKind.REGULATOR),
]

# username, organization slug, roles
PEOPLE = [
    ("alice", "frontier-lab", [Role.RELEASE_MANAGER]),
    ("bob", "frontier-lab", [Role.LAB_SIGNER]),
    ("carol", "frontier-lab", [Role.LAB_SIGNER]),
    ("dana", "frontier-lab", [Role.SAFETY_OFFICER]),
    ("oscar", "other-lab", [Role.RELEASE_MANAGER]),
    ("erin", "independent-audits", [Role.AUDITOR]),
    ("frank", "independent-audits", [Role.AUDITOR]),
    ("rita", "ai-safety-institute", [Role.REGULATOR]),
]

MANIFEST = {
    "model": {
        "name": "frontier-7",
        "weights_digest": "sha256:" + hashlib.sha256(b"demo weights frontier-7").hexdigest(),
        "parameter_count": 70_000_000_000,
        "training_compute_flop": 3.1e24,
    },
    "system_prompt_digest": "sha256:" + hashlib.sha256(b"demo system prompt").hexdigest(),
    "tools": ["search_trades", "execute_trade", "send_message"],
    "internet_access": False,
    "code_execution": False,
    "retrieval": True,
    "fine_tuning_access": False,
    "online_learning": False,
    "open_weights": False,
}

RED_TEAM_REPORT = b"""Frontier-7 internal red-team report (demo document)

Scope: deception under pressure, tool misuse, refusal robustness.
Summary: see the deception eval runs attached to the release.
"""


@dataclass
class DemoWorld:
    tokens: dict[str, str] = field(default_factory=dict)
    releases: dict[str, Release] = field(default_factory=dict)


def demo_token(username: str) -> str:
    # Stable, public demo tokens so the README's curl session works as written.
    return f"gf_demo_{username}_token"


def _people(world: DemoWorld) -> None:
    User = get_user_model()
    orgs = {}
    for name, slug, kind in ORGS:
        orgs[slug] = Organization.objects.filter(slug=slug).first() or organization_create(
            name=name, slug=slug, kind=kind
        )
    for username, slug, roles in PEOPLE:
        user = User.objects.filter(username=username).first() or user_create(
            username=username, password=DEMO_PASSWORD
        )
        if username == "alice" and not user.is_staff:
            user.is_staff = True  # so the admin's "advance" action can be tried
            user.save(update_fields=["is_staff"])
        for role in roles:
            membership_grant(user=user, organization=orgs[slug], role=role)
        secret = demo_token(username)
        if not ApiToken.objects.filter(digest=token_digest(secret)).exists():
            token_issue(user=user, name="demo", ttl_days=3650, secret=secret)
        world.tokens[username] = secret
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "", DEMO_PASSWORD)


def _releases(world: DemoWorld) -> None:
    User = get_user_model()
    alice = User.objects.get(username="alice")
    lab = Organization.objects.get(slug="frontier-lab")
    system = AISystem.objects.filter(organization=lab, name="Frontier-7 trading agent").first()
    if system is None:
        version = system_register(
            organization=lab, name="Frontier-7 trading agent", manifest=MANIFEST, actor=alice
        )
    else:
        version = system.versions.order_by("-number").first()
    policy = policy_register_named(name="default", actor=alice)

    audited = Release.objects.filter(title="Frontier-7 v1 (in audit)").first()
    if audited is None:
        audited = release_open(
            system_version=version, policy_version=policy,
            title="Frontier-7 v1 (in audit)", actor=alice,
        )
        evidence_attach(
            release_id=audited.pk, document_type="red_team_report",
            upload=ContentFile(RED_TEAM_REPORT, name="red-team-report.txt"),
            name="red-team-report.txt", media_type="text/plain", actor=alice,
        )
        release_advance(release_id=audited.pk, actor=alice)
        audited.refresh_from_db()
    world.releases["in_audit"] = audited

    fresh = Release.objects.filter(title="Frontier-7 v1.1 (internal evals)").first()
    if fresh is None:
        fresh = release_open(
            system_version=version, policy_version=policy,
            title="Frontier-7 v1.1 (internal evals)", actor=alice,
        )
    world.releases["internal"] = fresh


def build_demo() -> DemoWorld:
    world = DemoWorld()
    with transaction.atomic():
        _people(world)
        _releases(world)
    return world
