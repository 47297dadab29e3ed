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


class StatementNonce(models.Model):
    """Every nonce a recorded signed statement used, and every nonce the server issued.

    The one replay refusal: a statement is recorded only by inserting its nonce here in
    the recording transaction, so a second submission (or a concurrent twin) fails on the
    unique constraint whatever area the statement belongs to. A row with ``issued_at`` was
    chosen by the server for ``user`` (sign-offs): only that person may use it, once,
    before ``expires_at``.
    """

    nonce = models.CharField(max_length=128, unique=True)
    predicate_type = models.CharField(max_length=200)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+")
    issued_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.nonce[:12]}… ({'used' if self.used_at else 'unused'})"


class KeyCertificate(models.Model):
    """A regulator's signed statement that ``key`` is ``user``'s, acting as ``role`` for
    ``organization``, from ``valid_from`` to ``valid_until`` (unless revoked sooner).

    A lab's server can register any key for anyone; only a certificate, signed by a
    regulator's key, makes a key count where a policy asks for certified keys
    (`signoffs` with ``certified_keys: true``). The row is a cache of the logged
    ``key_certificate.*`` events, which the offline verifier reads instead.
    """

    key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="certificates")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                     related_name="+")
    role = models.CharField(max_length=32)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    issuer_key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="+")
    nonce = models.CharField(max_length=128, unique=True)
    claimed_signed_at = models.CharField(max_length=64)
    envelope = models.JSONField(help_text="the DSSE envelope exactly as submitted")
    statement = models.JSONField(help_text="the decoded in-toto statement")
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True)

    class Meta:
        ordering = ["key_id", "id"]

    def __str__(self) -> str:
        return f"key certificate {self.pk}: {self.key.key_id[:12]}… as {self.role}"
