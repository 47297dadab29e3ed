"""Rows of regulatory oversight.

`SignedAction` keeps every statement a regulator signed (append-only in the database,
like sign-offs): its nonce is unique, so an envelope cannot act twice. A hold or a
sanction changes only once after it is made: when it is lifted, by another signed
statement. Whistleblower reports keep no address, user agent, cookie or account of
their sender, and only the day they arrived (a time to the second could be matched
against other logs); the receipt code is stored only as its SHA-256.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

USER = settings.AUTH_USER_MODEL


class SignedAction(models.Model):
    predicate_type = models.CharField(max_length=100)
    action = models.CharField(max_length=16)
    signer = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    key = models.ForeignKey("keys.SigningKey", on_delete=models.PROTECT, related_name="+")
    nonce = models.CharField(max_length=128, unique=True)
    claimed_signed_at = models.CharField(max_length=64, help_text="the signer's claim; not "
                                                                   "trusted")
    envelope = models.JSONField(help_text="the DSSE envelope exactly as submitted")
    statement = models.JSONField(help_text="the decoded in-toto statement")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"signed {self.action} ({self.predicate_type.rsplit('/', 2)[-2]}) #{self.pk}"


class RegulatoryHold(models.Model):
    """While a hold stands, the release advances to no stage, whatever its gates say."""

    release = models.ForeignKey("releases.Release", on_delete=models.PROTECT,
                                related_name="regulatory_holds")
    reason = models.TextField()
    placed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField()
    placed_with = models.OneToOneField(SignedAction, on_delete=models.PROTECT, related_name="+")
    lifted_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.TextField(blank=True)
    lifted_with = models.OneToOneField(SignedAction, null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["release"], condition=Q(lifted_at__isnull=True),
                                    name="hold_one_standing_per_release"),
        ]

    def __str__(self) -> str:
        state = "lifted" if self.lifted_at else "standing"
        return f"hold {self.pk} on release {self.release_id} ({state})"

    @property
    def in_force(self) -> bool:
        return self.lifted_at is None


class Sanction(models.Model):
    """No release of the lab whose system was trained with more than
    ``min_training_compute_flop`` may advance past ``stage`` until ``until``."""

    lab = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                            related_name="sanctions")
    stage = models.CharField(max_length=64, help_text="releases may not advance past it")
    min_training_compute_flop = models.FloatField(help_text="applies to systems above this")
    until = models.DateTimeField()
    reason = models.TextField()
    imposed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    imposed_at = models.DateTimeField()
    imposed_with = models.OneToOneField(SignedAction, on_delete=models.PROTECT,
                                        related_name="+")
    lifted_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.TextField(blank=True)
    lifted_with = models.OneToOneField(SignedAction, null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-imposed_at", "-id"]
        indexes = [models.Index(fields=["lab", "until"])]

    def __str__(self) -> str:
        return f"sanction {self.pk} on {self.lab_id}: past {self.stage} until {self.until:%Y-%m-%d}"

    def in_force_at(self, now) -> bool:
        return self.lifted_at is None and now < self.until


class WhistleblowerReport(models.Model):
    receipt_digest = models.CharField(max_length=64, unique=True,
                                      help_text="SHA-256 of the receipt code; the code is "
                                                "shown once to the reporter, never stored")
    subject = models.CharField(max_length=200, blank=True)
    concerning = models.CharField(max_length=200, blank=True,
                                  help_text="the organization or system it is about, as given")
    body = models.TextField()
    received_on = models.DateField()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"whistleblower report {self.pk}"


class WhistleblowerMessage(models.Model):
    """A regulator's reply, or the reporter's follow-up (``author`` empty)."""

    report = models.ForeignKey(WhistleblowerReport, on_delete=models.PROTECT,
                               related_name="messages")
    author = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    from_regulator = models.BooleanField()
    body = models.TextField()
    sent_on = models.DateField()

    class Meta:
        ordering = ["report_id", "id"]

    def __str__(self) -> str:
        return f"message {self.pk} on report {self.report_id}"
