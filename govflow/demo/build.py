"""Building the demo world. Each step is idempotent: running it twice changes nothing.

Later areas add a step here so that `make run` always shows every capability.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from govflow.accounts.models import ApiToken, Organization, OrganizationKind, Role
from govflow.accounts.services import (
    membership_grant,
    organization_create,
    token_digest,
    token_issue,
    user_create,
)
from govflow.audit.log import checkpoint_create
from govflow.auditing.demo import REGULATOR, build_audit_demo
from govflow.core.times import rfc3339
from govflow.evalruns.demo import describe as describe_eval_run
from govflow.evalruns.demo import ensure_demo_eval_run
from govflow.keys.acts import act_perform
from govflow.keys.certificate_predicates import build_key_certificate
from govflow.keys.certificates import KEY_CERTIFY
from govflow.keys.models import KeyCertificate, SigningKey
from govflow.keys.services import key_register
from govflow.monitoring.demo import build_monitoring_demo
from govflow.oversight.demo import build_oversight_demo
from govflow.policy.services import policy_register_named
from govflow.releases.evidence import evidence_attach
from govflow.releases.models import Release
from govflow.releases.services import release_advance, release_open
from govflow.rollout.demo import build_rollout_demo
from govflow.signoffs.acts import SIGNOFF
from govflow.signoffs.services import signoff_statement
from govflow.systems.models import AISystem
from govflow.systems.services import system_register
from govflow.trust.intoto import Statement, sign_statement
from govflow.trust.keys import (
    load_private_key,
    public_key_id,
    public_key_to_base64,
    save_private_key,
)

DEMO_PASSWORD = "govflow-demo"
# Release titles name the system version, never a stage: a stage changes, a title stays.
IN_AUDIT_TITLE = "Frontier-7 v1"
INTERNAL_TITLE = "Frontier-7 v1.1"

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
    # How the system is served to eval runs. The demo serves it with the SIMULATOR: eval
    # gates accept that only outside production (GOVFLOW_ENV=production refuses it).
    "serving": {"endpoint": "simulator", "model": "govflow-simulator/honest"},
}

# Who signs off in the demo, and as what: the policy's gate into third_party_audit
# needs two lab signers and a safety officer.
SIGNERS = [("bob", Role.LAB_SIGNER), ("carol", Role.LAB_SIGNER), ("dana", Role.SAFETY_OFFICER)]

RED_TEAM_REPORT = b"""Frontier-7 internal red-team report (demo document)

Scope: deception under pressure, tool misuse, refusal robustness.
Summary: see the deception eval runs attached to the release.
"""


@dataclass
class DemoWorld:
    tokens: dict[str, str] = field(default_factory=dict)
    releases: dict[str, Release] = field(default_factory=dict)
    key_files: dict[str, Path] = field(default_factory=dict)
    # Lines the demo command prints about what a step built (e.g. the eval run).
    notes: list[str] = field(default_factory=list)


def demo_key_dir() -> Path:
    return Path(settings.VAR_DIR) / "demo-keys"


def _demo_private_key(username: str) -> tuple[Ed25519PrivateKey, Path]:
    """The person's demo signing key, kept in var/demo-keys/ for the README's client
    session. Derived from the name, so a rebuilt database and old key files agree;
    public by construction, like every demo secret."""
    path = demo_key_dir() / f"{username}.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        seed = hashlib.sha256(f"govflow demo signing key {username}".encode()).digest()
        # another demo run may write it first; then use theirs
        with contextlib.suppress(FileExistsError):
            save_private_key(Ed25519PrivateKey.from_private_bytes(seed), path)
    return load_private_key(path), path


def demo_public_key(username: str) -> str:
    """The person's demo public key (base64): e.g. rita's, the regulator key a verifier of
    the demo's bundles pins (`python -m govflow.verify --regulator-key`)."""
    return public_key_to_base64(_demo_private_key(username)[0].public_key())


def demo_token(username: str) -> str:
    # Stable, public demo tokens so the README's curl session works as written.
    return f"gf_demo_{username}_token"


# What alice may open in the admin, so that its "Advance to the next stage" action can be
# tried: seeing releases and their transitions. The action itself goes through
# release_advance and its own checks (her role in the release's lab, every gate).
ADMIN_PERMISSIONS = [("releases", "view_release"), ("releases", "view_stagetransition")]


def _admin_release_manager(user) -> None:
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    for app_label, codename in ADMIN_PERMISSIONS:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename))


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
        if username == "alice":
            _admin_release_manager(user)
        for role in roles:
            membership_grant(user=user, organization=orgs[slug], role=role)
        secret = demo_token(username)
        if not ApiToken.objects.filter(digest=token_digest(secret)).exists():
            token_issue(user=user, name="demo", ttl_days=3650, secret=secret)
        world.tokens[username] = secret
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "", DEMO_PASSWORD)


def _keys(world: DemoWorld) -> None:
    User = get_user_model()
    for username, _role in SIGNERS:
        private, path = _demo_private_key(username)
        world.key_files[username] = path
        if not SigningKey.objects.filter(key_id=public_key_id(private.public_key())).exists():
            key_register(
                user=User.objects.get(username=username),
                public_key=public_key_to_base64(private.public_key()),
                name="demo key",
            )


def _key_certificates(world: DemoWorld) -> None:
    """rita (the regulator) certifies each demo signer's key for their role, as
    `python -m govflow.client key-certify` would: the default policy counts sign-offs only
    under regulator-certified keys."""
    User = get_user_model()
    rita = User.objects.get(username=REGULATOR)
    private, world.key_files[REGULATOR] = _demo_private_key(REGULATOR)
    if not SigningKey.objects.filter(key_id=public_key_id(private.public_key())).exists():
        key_register(user=rita, public_key=public_key_to_base64(private.public_key()),
                     name="demo key")
    lab = Organization.objects.get(slug="frontier-lab")
    now = timezone.now()
    for username, role in SIGNERS:
        user = User.objects.get(username=username)
        key = SigningKey.objects.get(
            key_id=public_key_id(_demo_private_key(username)[0].public_key()))
        if KeyCertificate.objects.filter(key=key, role=role, revoked_at__isnull=True).exists():
            continue
        statement = build_key_certificate(
            user_id=user.pk, username=username, organization=lab.slug, organization_id=lab.pk,
            role=role, public_key=key.public_key, valid_from=rfc3339(now),
            valid_until=rfc3339(now + timedelta(days=365)))
        statement["predicate"]["signed_at"] = rfc3339(now)
        act_perform(KEY_CERTIFY, envelope=sign_statement(Statement.from_dict(statement), private),
                    actor=rita)


def _sign_off(release: Release) -> None:
    """Each demo signer signs the release's next step with their demo key, as the
    client would, and the server records it through the same services as the API."""
    User = get_user_model()
    for username, role in SIGNERS:
        user = User.objects.get(username=username)
        private, _ = _demo_private_key(username)
        statement = signoff_statement(
            release=release, actor=user, role=role, decision="approve",
            comment="demo: reviewed the red-team report and the eval runs",
        )
        statement["predicate"]["signed_at"] = rfc3339(timezone.now())
        envelope = sign_statement(Statement.from_dict(statement), private)
        act_perform(SIGNOFF, envelope=envelope, actor=user)


def _eval_run(world: DemoWorld, release: Release, actor) -> None:
    run, where = ensure_demo_eval_run(release=release, actor=actor)
    world.notes += describe_eval_run(run, where)


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

    audited = Release.objects.filter(title=IN_AUDIT_TITLE).first()
    if audited is None:
        audited = release_open(
            system_version=version, policy_version=policy,
            title=IN_AUDIT_TITLE, actor=alice,
        )
        evidence_attach(
            release_id=audited.pk, document_type="red_team_report",
            upload=ContentFile(RED_TEAM_REPORT, name="red-team-report.txt"),
            name="red-team-report.txt", media_type="text/plain", actor=alice,
        )
        # The deception eval gate needs a completed run before anyone signs the report.
        _eval_run(world, audited, alice)
        _sign_off(audited)
        release_advance(release_id=audited.pk, actor=alice)
        audited.refresh_from_db()
    else:
        _eval_run(world, audited, alice)  # a database from before eval runs existed
    world.releases["in_audit"] = audited

    fresh = Release.objects.filter(title=INTERNAL_TITLE).first()
    if fresh is None:
        fresh = release_open(
            system_version=version, policy_version=policy,
            title=INTERNAL_TITLE, actor=alice,
        )
    world.releases["internal"] = fresh


def build_demo() -> DemoWorld:
    world = DemoWorld()
    with transaction.atomic():
        _people(world)
        _keys(world)
        _key_certificates(world)
        _releases(world)
        build_audit_demo(world, private_key=_demo_private_key)
        build_oversight_demo(world, private_key=_demo_private_key)
        build_rollout_demo(world)
        build_monitoring_demo(world, private_key=_demo_private_key)
    # Sign a checkpoint over everything the demo did, so that the console's trail, the
    # release dossier and the offline verifier have a signed tree to prove it against
    # from the first page (the beat schedule signs the next ones).
    checkpoint_create()
    return world
