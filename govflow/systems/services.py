"""Registering AI systems and recording new versions of their manifests."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from govflow.accounts.models import Organization
from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict
from govflow.systems.manifest import added_affordances, manifest_digest, normalize_manifest
from govflow.systems.models import AISystem, SystemVersion


@transaction.atomic
def system_register(
    *, organization: Organization, name: str, manifest: dict[str, Any], actor
) -> SystemVersion:
    normalized = normalize_manifest(manifest)
    if AISystem.objects.filter(organization=organization, name=name).exists():
        raise Conflict(f"{organization.slug} already has a system named {name!r}")
    system = AISystem.objects.create(organization=organization, name=name, created_by=actor)
    digest = manifest_digest(normalized)
    version = SystemVersion.objects.create(
        system=system, number=1, manifest=normalized, manifest_digest=digest, created_by=actor
    )
    audit_append(
        event_type=EventType.SYSTEM_REGISTERED,
        actor=actor,
        subject=system,
        organization_id=organization.pk,
        payload={"name": name, "version": 1, "manifest_digest": digest, "manifest": normalized},
    )
    return version


@transaction.atomic
def system_version_create(*, system_id: int, manifest: dict[str, Any], actor) -> SystemVersion:
    """Record a changed manifest as the system's next version."""
    normalized = normalize_manifest(manifest)
    system = AISystem.objects.select_for_update().get(pk=system_id)
    latest = system.versions.order_by("-number").first()
    digest = manifest_digest(normalized)
    if latest is not None and latest.manifest_digest == digest:
        raise Conflict(
            f"the manifest is unchanged from version {latest.number}",
            detail={"version": latest.number, "manifest_digest": digest},
        )
    number = (latest.number if latest else 0) + 1
    version = SystemVersion.objects.create(
        system=system, number=number, manifest=normalized, manifest_digest=digest, created_by=actor
    )
    audit_append(
        event_type=EventType.SYSTEM_VERSION_CREATED,
        actor=actor,
        subject=version,
        organization_id=system.organization_id,
        payload={
            "system": system.pk,
            "version": number,
            "manifest_digest": digest,
            "previous_digest": latest.manifest_digest if latest else None,
            "added_affordances": added_affordances(latest.manifest, normalized) if latest else [],
            "manifest": normalized,
        },
    )
    return version
