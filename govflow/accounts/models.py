"""Organizations, the people in them and what they may do, and their API tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class OrganizationKind(models.TextChoices):
    LAB = "lab", "AI lab"
    AUDITOR = "auditor", "Auditor firm"
    REGULATOR = "regulator", "Regulator"


class Role(models.TextChoices):
    RELEASE_MANAGER = "release_manager", "Release manager"
    LAB_SIGNER = "lab_signer", "Lab signer"
    SAFETY_OFFICER = "safety_officer", "Safety officer"
    AUDITOR = "auditor", "Auditor"
    REGULATOR = "regulator", "Regulator"


# Which roles an organization of each kind can hand out. A lab cannot make its own
# staff regulators; that is a rule of the domain, enforced in membership_grant.
ROLES_BY_KIND: dict[str, frozenset[str]] = {
    OrganizationKind.LAB: frozenset(
        {Role.RELEASE_MANAGER, Role.LAB_SIGNER, Role.SAFETY_OFFICER}
    ),
    OrganizationKind.AUDITOR: frozenset({Role.AUDITOR}),
    OrganizationKind.REGULATOR: frozenset({Role.REGULATOR}),
}


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=OrganizationKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Membership(models.Model):
    """One role of one user. All of a user's memberships are in one organization."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="membership_unique_user_role")
        ]
        ordering = ["organization_id", "user_id", "role"]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} @ {self.organization.slug}"


class TokenPurpose(models.TextChoices):
    """What a machine token may do: exactly one thing, on exactly one release."""

    INCIDENT_FILE = "incident:file", "File incidents on one release"
    SOURCE_HEARTBEAT = "source:heartbeat", "Send heartbeats of a monitoring source of one release"


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the secret is shown once.

    A person's token acts as its owner. A *machine* token (a monitoring source's, a serving
    gateway's) has a ``purpose`` and a ``release``: it is refused everywhere but the one
    endpoint of its purpose, on its release (`govflow.accounts.machine`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    # The first characters of the token, kept in clear so a person can tell tokens
    # apart in the admin without the secret.
    prefix = models.CharField(max_length=16, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # The token that created this one through the API, if any: revoking a leaked token
    # revokes what was minted with it, so a thief cannot keep access by making a copy.
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="children")
    purpose = models.CharField(max_length=32, choices=TokenPurpose.choices, blank=True,
                               default="")
    release = models.ForeignKey("releases.Release", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="machine_tokens")

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(
            # A purpose without a release (or the reverse) would be a machine token
            # scoped to nothing, or a person's token tied to a release.
            condition=(models.Q(purpose="", release__isnull=True)
                       | (~models.Q(purpose="") & models.Q(release__isnull=False))),
            name="apitoken_machine_scope")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_machine(self) -> bool:
        return bool(self.purpose)
