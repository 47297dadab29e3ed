"""Registered policy versions. A release points at one; its rules never change."""

from __future__ import annotations

from django.db import models


class PolicyVersion(models.Model):
    name = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    digest = models.CharField(max_length=71, unique=True)
    # The file exactly as it was read: what the offline bundle carries so a
    # regulator can re-check transitions against the very text the lab used.
    source = models.TextField()
    source_path = models.CharField(max_length=500, blank=True)
    document = models.JSONField()
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version", "-registered_at"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.digest[:19]}…)"
