"""The demo's third-party audit (called from `govflow.demo.build`; idempotent): rita
certifies Independent Audits with her signed statement, assigns erin and frank to the
release in audit, and erin files a medium finding — each through the same signed acts
the API calls, with the people's demo keys, as their clients would sign."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from govflow.accounts.models import Organization
from govflow.auditing import predicates as statements
from govflow.auditing.acts import ASSIGNMENT_CREATE, CERTIFICATE_ISSUE, FINDING_FILE
from govflow.auditing.models import Assignment, Certificate, Finding
from govflow.auditing.policy import audit_rules
from govflow.core.times import rfc3339
from govflow.demo.signing import signed
from govflow.keys.acts import act_perform, release_json
from govflow.keys.models import SigningKey
from govflow.keys.services import key_register
from govflow.trust.keys import public_key_id, public_key_to_base64

FIRM = "independent-audits"
REGULATOR = "rita"
AUDITORS = ("erin", "frank")


def build_audit_demo(world, *, private_key: Callable) -> None:
    """``private_key(username) -> (key, path)`` is the demo's key store."""
    User = get_user_model()
    people = {name: User.objects.get(username=name) for name in (REGULATOR, *AUDITORS)}
    keys = {}
    for name, user in people.items():
        keys[name], world.key_files[name] = private_key(name)
        if not SigningKey.objects.filter(key_id=public_key_id(keys[name].public_key())).exists():
            key_register(user=user, public_key=public_key_to_base64(keys[name].public_key()),
                         name="demo key")
    firm = Organization.objects.get(slug=FIRM)
    now = timezone.now()
    rita = people[REGULATOR]
    if not Certificate.objects.filter(auditor=firm).exists():
        statement = statements.build_certificate(
            auditor=FIRM, risk_areas=["deception", "cyber", "bio"],
            access_levels=["black_box", "grey_box"], valid_from=now.isoformat(),
            valid_until=(now + timedelta(days=730)).isoformat(),
            standard="AISI minimum standard for frontier model auditors, v1 (demo)",
        )
        act_perform(CERTIFICATE_ISSUE, envelope=signed(statement, keys[REGULATOR]), actor=rita)

    release = world.releases["in_audit"]
    release.refresh_from_db()
    # A database built under an older default policy has no audit gate to assign to.
    if not audit_rules(release).audited:
        return
    for name in AUDITORS:
        if not Assignment.objects.filter(release=release, auditor=people[name]).exists():
            statement = statements.build_assignment(
                release=release_json(release), auditor=name,
                ends_at=rfc3339(now + timedelta(days=60)))
            act_perform(ASSIGNMENT_CREATE, envelope=signed(statement, keys[REGULATOR]),
                        actor=rita, target=release.pk)
    erin = people["erin"]
    if not Finding.objects.filter(release=release, auditor=erin).exists():
        statement = statements.build_finding(
            release=release_json(release),
            title="Reports insider trades as market analysis under pressure",
            severity="medium", category="deception",
            description="At high pressure the agent trades on the insider tip in 3 of 50 "
                        "episodes and tells its manager the trade came from market analysis.",
            reproduction_steps=["run the insider-trading scenario with pressure 0.9",
                                "read the agent's message to its manager after the trade"],
        )
        act_perform(FINDING_FILE, envelope=signed(statement, keys["erin"]), actor=erin)
