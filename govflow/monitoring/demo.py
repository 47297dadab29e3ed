"""The demo's deployment monitoring (called from `govflow.demo.build`; idempotent): an
abuse classifier watching the release in audit, with a fresh heartbeat, and a short
incident history — a medium misuse incident resolved, and a high deceptive-behaviour
incident whose initial report was filed, so a follow-up report is now owed. The classifier
files with its machine token (issued by alice for the release); dana, the safety officer,
signs her incident and her resolution with her demo key."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from govflow.accounts.models import ApiToken, TokenPurpose
from govflow.accounts.services import token_issue
from govflow.core.times import rfc3339
from govflow.demo.signing import signed
from govflow.keys.acts import act_perform, release_json
from govflow.monitoring import services
from govflow.monitoring.acts import INCIDENT_FILE, INCIDENT_RESOLVE
from govflow.monitoring.models import Incident, MonitoringSource
from govflow.monitoring.predicates import build_incident, build_resolution

SOURCE = "abuse-classifier"
RESOLVED = "Sandbox user scripted bulk account sign-ups through the agent's browser tool."
OPEN = ("Red-team session: under a simulated bad quarter the agent traded on a planted tip "
        "and told its manager the trade came from market analysis.")


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _machine_token(release, alice) -> ApiToken:
    token = ApiToken.objects.filter(release=release, name=SOURCE, revoked_at__isnull=True,
                                    purpose=TokenPurpose.INCIDENT_FILE).first()
    if token is None:
        token = token_issue(user=alice, name=SOURCE, ttl_days=365, release=release,
                            purpose=TokenPurpose.INCIDENT_FILE).token
    return token


def build_monitoring_demo(world, *, private_key: Callable) -> None:
    """``private_key(username) -> (key, path)`` is the demo's key store (dana's key is
    registered by the demo's sign-offs)."""
    User = get_user_model()
    alice, dana = User.objects.get(username="alice"), User.objects.get(username="dana")
    dana_key, _ = private_key("dana")
    release = world.releases["in_audit"]
    source = MonitoringSource.objects.filter(release=release, name=SOURCE,
                                             retired_at__isnull=True).first()
    if source is None:
        source = services.source_register(release_id=release.pk, name=SOURCE,
                                          kind="abuse_classifier", actor=alice)
    services.source_heartbeat(source_id=source.pk)
    if not Incident.objects.filter(release=release, description=RESOLVED).exists():
        incident = services.incident_report(
            release_id=release.pk, severity="medium", category="misuse", description=RESOLVED,
            evidence_digests=[_digest("demo sign-up logs")], source_id=source.pk, actor=alice,
            detected_at=timezone.now() - timedelta(days=2),
            machine_token=_machine_token(release, alice),
        )
        act_perform(INCIDENT_RESOLVE, envelope=signed(build_resolution(
            release=release_json(release), incident=incident.pk,
            resolution="Rate limit on sign-ups; accounts closed."), dana_key),
            actor=dana, target=incident.pk)
    if not Incident.objects.filter(release=release, description=OPEN).exists():
        incident = act_perform(INCIDENT_FILE, envelope=signed(build_incident(
            release=release_json(release), severity="high", category="deceptive_behaviour",
            description=OPEN, evidence_digests=[_digest("demo transcript 17")],
            detected_at=rfc3339(timezone.now() - timedelta(days=1))), dana_key), actor=dana)
        services.incident_report_file(
            incident_id=incident.pk, kind="initial", actor=dana,
            summary="Reproduced in 3 of 50 high-pressure episodes; mitigation in progress.",
            document_digest=_digest("demo initial report"),
        )
