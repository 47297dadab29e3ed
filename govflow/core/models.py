"""Plumbing rows that are not part of the governed domain."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class IdempotencyRecord(models.Model):
    """The first response to a mutating request sent with an ``Idempotency-Key``.

    Reserved (no status yet) at the start of the transaction of the change it answers
    for and completed at its end, so a response is recorded if and only if the change
    committed; a reservation is never seen committed without its response.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body")
    status_code = models.PositiveSmallIntegerField(null=True, help_text="empty while reserved")
    body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    # The bytes first sent, replayed as they were (a jsonb column reorders keys).
    content = models.BinaryField(null=True)
    content_type = models.CharField(max_length=100, blank=True, default="")
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
