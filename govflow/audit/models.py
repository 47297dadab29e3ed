"""The audit log's rows.

`AuditEvent` is append-only: a migration installs database triggers that reject
UPDATE, DELETE and TRUNCATE, with no setting the application could flip to get
around them. Each row keeps the exact canonical JSON bytes that were hashed into
its Merkle leaf, so a verifier recomputes the leaf from what is stored, never from
a re-serialisation that could differ.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    uuid = models.UUIDField(unique=True, editable=False)
    event_type = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    organization = models.ForeignKey(
        "accounts.Organization", null=True, on_delete=models.PROTECT, related_name="+"
    )
    # The release this event belongs to, if any: what a per-release export selects on.
    release_id = models.BigIntegerField(null=True, db_index=True)
    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)
    payload = models.JSONField()
    canonical = models.TextField(help_text="RFC 8785 JSON of the event, exactly as hashed.")
    leaf_hash = models.CharField(max_length=64, help_text="hex SHA-256(0x00 || canonical)")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event_type} {self.subject_type}:{self.subject_id}"
