"""Sign-offs: signed statements approving (or rejecting) a release's next step.

The table is append-only in the database (migration 0002): a sign-off is never edited
or deleted. A person withdraws one by signing a newer statement for the same round.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class SignOff(models.Model):
    release = models.ForeignKey(
        "releases.Release", on_delete=models.PROTECT, related_name="signoffs"
    )
    # The transition that brought the release into the stage it is leaving: the round
    # this sign-off belongs to. A rollback starts a new round.
    stage_entry = models.ForeignKey(
        "releases.StageTransition", on_delete=models.PROTECT, related_name="+"
    )
    from_stage = models.CharField(max_length=64)
    target_stage = models.CharField(max_length=64)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.ForeignKey("keys.SigningKey", on_delete=models.PROTECT, related_name="signoffs")
    role = models.CharField(max_length=32)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    comment = models.TextField(blank=True)
    # Unique across every sign-off ever made: an envelope cannot be submitted twice.
    nonce = models.CharField(max_length=128, unique=True)
    gate_report_digest = models.CharField(max_length=71)
    policy_digest = models.CharField(max_length=71)
    manifest_digest = models.CharField(max_length=71)
    claimed_signed_at = models.CharField(
        max_length=64, help_text="the signer's claimed signing time, as signed; not trusted"
    )
    envelope = models.JSONField(help_text="the DSSE envelope exactly as submitted")
    statement = models.JSONField(help_text="the decoded in-toto statement")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["release_id", "id"]
        indexes = [models.Index(fields=["release", "target_stage", "stage_entry"])]

    def __str__(self) -> str:
        return (f"{self.signer_id} {self.decision}s {self.from_stage} → {self.target_stage} "
                f"of release {self.release_id} as {self.role}")
