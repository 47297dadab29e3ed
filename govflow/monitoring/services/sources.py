"""Monitoring sources of a release: registering, heartbeats, retiring."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict, NotFound
from govflow.monitoring.models import MonitoringSource
from govflow.releases.locks import lock_release


@transaction.atomic
def source_register(*, release_id: int, name: str, kind: str, actor) -> MonitoringSource:
    release = lock_release(release_id)
    if MonitoringSource.objects.filter(release=release, name=name,
                                       retired_at__isnull=True).exists():
        raise Conflict(f"release {release.pk} already has a monitoring source {name!r}",
                       detail={"rule": "duplicate"})
    try:
        with transaction.atomic():
            source = MonitoringSource.objects.create(
                release=release, name=name, kind=kind, registered_at=timezone.now(),
                registered_by=actor,
            )
    except IntegrityError as exc:
        raise Conflict(f"release {release.pk} already has a monitoring source {name!r}",
                       detail={"rule": "duplicate"}) from exc
    audit_append(event_type=EventType.MONITORING_SOURCE_REGISTERED, actor=actor,
                 subject=source, organization_id=release.organization_id,
                 release_id=release.pk, payload={"source": source.pk, "name": name,
                                                 "kind": kind})
    return source


def source_heartbeat(*, source_id: int) -> MonitoringSource:
    """Telemetry, not a governed change: one UPDATE, no lock, no event (a source beating
    every minute would otherwise fill the audit log with "still alive")."""
    now = timezone.now()
    updated = MonitoringSource.objects.filter(pk=source_id, retired_at__isnull=True).update(
        last_heartbeat_at=now
    )
    if not updated:
        raise NotFound(f"no active monitoring source {source_id}")
    return MonitoringSource.objects.get(pk=source_id)


@transaction.atomic
def source_retire(*, source_id: int, actor) -> MonitoringSource:
    source = MonitoringSource.objects.filter(pk=source_id).first()
    if source is None:
        raise NotFound(f"no monitoring source {source_id}")
    release = lock_release(source.release_id)
    source = MonitoringSource.objects.select_for_update().get(pk=source_id)
    if source.retired_at is not None:
        raise Conflict(f"monitoring source {source_id} is retired already")
    source.retired_at = timezone.now()
    source.save(update_fields=["retired_at"])
    audit_append(event_type=EventType.MONITORING_SOURCE_RETIRED, actor=actor, subject=source,
                 organization_id=release.organization_id, release_id=release.pk,
                 payload={"source": source.pk, "name": source.name})
    return source
