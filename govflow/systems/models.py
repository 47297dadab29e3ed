"""AI systems and their immutable versions."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AISystem(models.Model):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="systems"
    )
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="system_unique_name")
        ]
        ordering = ["organization_id", "name"]
        verbose_name = "AI system"

    def __str__(self) -> str:
        return self.name


class SystemVersion(models.Model):
    """One manifest of a system. Never edited: a changed manifest is a new version."""

    system = models.ForeignKey(AISystem, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    manifest = models.JSONField()
    manifest_digest = models.CharField(max_length=71)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "number"], name="system_version_unique"),
        ]
        ordering = ["system_id", "number"]

    def __str__(self) -> str:
        return f"{self.system.name} v{self.number}"

    @property
    def model_name(self) -> str:
        return self.manifest["model"]["name"]

    @property
    def training_compute_flop(self) -> float | None:
        return self.manifest["model"].get("training_compute_flop")
