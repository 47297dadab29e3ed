"""Every kind of audit event govflow writes. One enum; services name a member of it."""

from django.db import models


class EventType(models.TextChoices):
    ORGANIZATION_CREATED = "organization.created"
    MEMBERSHIP_GRANTED = "membership.granted"
    TOKEN_ISSUED = "token.issued"
    TOKEN_REVOKED = "token.revoked"
    SYSTEM_REGISTERED = "system.registered"
    SYSTEM_VERSION_CREATED = "system.version_created"
    POLICY_REGISTERED = "policy.registered"
    RELEASE_OPENED = "release.opened"
    RELEASE_ADVANCED = "release.advanced"
    RELEASE_ROLLED_BACK = "release.rolled_back"
    RELEASE_PAUSED = "release.paused"
    RELEASE_RESUMED = "release.resumed"
    RELEASE_HALTED = "release.halted"
    EVIDENCE_ATTACHED = "evidence.attached"
