"""People's Ed25519 public keys, with which they sign sign-offs (and later, findings).

Private keys never reach the server. A key row changes only to be revoked; its
registration, rotation and revocation are audit events whose payloads carry the
public key itself, so the offline verifier never needs this table.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models


class SigningKey(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signing_keys"
    )
    # Hex SHA-256 of the raw 32-byte public key: the same id whatever encoding
    # (PEM or raw base64) the key was registered in, so a key cannot be added twice.
    key_id = models.CharField(max_length=64, unique=True)
    public_key = models.CharField(max_length=64, help_text="base64 of the raw 32-byte key")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["user_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id[:12]}…)"

    def is_usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)
