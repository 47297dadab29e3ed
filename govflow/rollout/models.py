"""Rows of the limited rollout: customers, their KYC records, cohorts and snapshots.

A customer is an external id and a display name, nothing more: the lab's KYC provider
holds the personal data; govflow keeps the provider's verdict (level, validity, a digest
of its evidence). KYC records are append-only (migration 0002): a provider withdrawing a
verification sends a newer record, and a customer's latest record is the one in force.
Cohorts change only through `govflow.rollout.services`.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

USER = settings.AUTH_USER_MODEL

# Lowest first: a record at a level satisfies every level below it.
# One list of levels and one ranking, Django-free, shared with the offline verifier.
from govflow.rollout.cohort_rule import KYC_LEVELS, kyc_level_rank  # noqa: E402, F401


class Customer(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                     related_name="customers")
    # The lab's own identifier for the customer; what its serving gateway sends.
    external_id = models.CharField(max_length=128)
    display_name = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["organization_id", "external_id"]
        constraints = [models.UniqueConstraint(fields=["organization", "external_id"],
                                               name="customer_unique_external_id")]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.display_name})"


class KycStatus(models.TextChoices):
    VERIFIED = "verified", "Verified"
    REVOKED = "revoked", "Revoked by the provider"


class WebhookReceipt(models.Model):
    """One accepted provider webhook, by its signature: the replay store. A second
    delivery of the same signed message fails the unique constraint."""

    provider = models.CharField(max_length=64)
    signature = models.CharField(max_length=64, help_text="hex HMAC-SHA256 as sent")
    timestamp = models.BigIntegerField(help_text="the provider's timestamp, Unix seconds")
    body_sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["provider", "signature"],
                                               name="webhook_receipt_unique_signature")]

    def __str__(self) -> str:
        return f"{self.provider} webhook {self.signature[:12]}…"


class KycRecord(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="kyc_records")
    provider = models.CharField(max_length=64)
    reference = models.CharField(max_length=128, help_text="the provider's id for the check")
    level = models.CharField(max_length=16, choices=[(v, v) for v in KYC_LEVELS])
    status = models.CharField(max_length=16, choices=KycStatus.choices)
    evidence_digest = models.CharField(max_length=71, help_text="sha256: of the evidence")
    verified_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    receipt = models.ForeignKey(WebhookReceipt, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        ordering = ["customer_id", "id"]
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.level} {self.status} for customer {self.customer_id}"

    def is_valid_at(self, now: datetime, level: str) -> bool:
        return (self.status == KycStatus.VERIFIED and self.verified_at <= now < self.expires_at
                and kyc_level_rank(self.level) >= kyc_level_rank(level))


class KycExpiry(models.Model):
    """That the expiry of a KYC record was processed (caches invalidated, event written):
    what makes the beat task's sweep idempotent."""

    record = models.OneToOneField(KycRecord, on_delete=models.PROTECT, related_name="expiry")
    processed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"expiry of KYC record {self.record_id}"


class Cohort(models.Model):
    """The customers allowed to use a release's system in one stage."""

    release = models.ForeignKey("releases.Release", on_delete=models.PROTECT,
                                related_name="cohorts")
    stage = models.CharField(max_length=64)
    # Bumped by every admission and removal: what a snapshot is a snapshot of.
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["release_id", "id"]
        constraints = [models.UniqueConstraint(fields=["release", "stage"],
                                               name="cohort_unique_per_stage")]

    def __str__(self) -> str:
        return f"cohort of release {self.release_id} for {self.stage}"


class CohortMember(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="members")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="memberships")
    # Random per admission; the snapshot's leaf is SHA-256(salt || "customer:" + external
    # id), so a published leaf reveals nothing about who it stands for.
    salt = models.CharField(max_length=32)
    leaf = models.CharField(max_length=64, help_text="hex of the leaf data (salted hash)")
    admitted_at = models.DateTimeField()
    admitted_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    removal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["cohort_id", "id"]
        constraints = [models.UniqueConstraint(
            fields=["cohort", "customer"], condition=Q(removed_at__isnull=True),
            name="cohort_member_once_at_a_time",
        )]

    def __str__(self) -> str:
        return f"customer {self.customer_id} in cohort {self.cohort_id}"


class GrowthApproval(models.Model):
    """A signed statement approving (or rejecting) a cohort's growth up to a size: a
    policy step. Append-only, like sign-offs."""

    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="approvals")
    up_to = models.PositiveIntegerField()
    signer = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    key = models.ForeignKey("keys.SigningKey", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=32)
    decision = models.CharField(max_length=16)
    comment = models.TextField(blank=True)
    nonce = models.CharField(max_length=128, unique=True)
    claimed_signed_at = models.CharField(max_length=64)
    envelope = models.JSONField()
    statement = models.JSONField()
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["cohort_id", "id"]

    def __str__(self) -> str:
        return f"{self.decision} growth of cohort {self.cohort_id} to {self.up_to}"


class CohortSnapshot(models.Model):
    """A signed statement of a cohort's allowlist: Merkle root and size (and the cap)."""

    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="snapshots")
    cohort_version = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    root = models.CharField(max_length=64, help_text="hex RFC 9162 root over the leaves")
    leaves = models.JSONField(help_text="hex leaf data, in tree order")
    statement = models.JSONField()
    envelope = models.JSONField()
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["cohort_id", "cohort_version"]
        constraints = [models.UniqueConstraint(fields=["cohort", "cohort_version"],
                                               name="snapshot_unique_per_version")]

    def __str__(self) -> str:
        return f"snapshot of cohort {self.cohort_id} v{self.cohort_version} ({self.size})"
