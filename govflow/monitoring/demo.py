"""The demo's deployment monitoring (called from `govflow.demo.build`; idempotent): an
abuse classifier watching the release in audit, with a fresh heartbeat, and a short
incident history — a medium misuse incident resolved, and a high deceptive-behaviour
incident whose initial report was filed, so a follow-up report is now owed."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from govflow.monitoring import services
from govflow.monitoring.models import Incident, MonitoringSource

SOURCE = "abuse-classifier"
RESOLVED = "Sandbox user scripted bulk account sign-ups through the agent's browser tool."
OPEN = ("Red-team session: under a simulated bad quarter the agent traded on a planted tip "
        "and told its manager the trade came from market analysis.")


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def build_monitoring_demo(world) -> None:
    User = get_user_model()
    alice, dana = User.objects.get(username="alice"), User.objects.get(username="dana")
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
        )
        services.incident_resolve(incident_id=incident.pk, actor=dana,
                                  resolution="Rate limit on sign-ups; accounts closed.")
    if not Incident.objects.filter(release=release, description=OPEN).exists():
        incident = services.incident_report(
            release_id=release.pk, severity="high", category="deceptive_behaviour",
            description=OPEN, evidence_digests=[_digest("demo transcript 17")],
            source_id=source.pk, actor=dana, detected_at=timezone.now() - timedelta(days=1),
        )
        services.incident_report_file(
            incident_id=incident.pk, kind="initial", actor=dana,
            summary="Reproduced in 3 of 50 high-pressure episodes; mitigation in progress.",
            document_digest=_digest("demo initial report"),
        )
