"""Output serializers of auditing (input serializers live next to their endpoint; the
DSSE envelope is `govflow.keys.serializers.EnvelopeIn`)."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from govflow.auditing.models import (
    AccessGrant,
    Assignment,
    Certificate,
    Conclusion,
    ConflictOfInterest,
    FindingAttachment,
    FindingStatement,
)
from govflow.keys.serializers import EnvelopeIn  # noqa: F401 (re-exported for the views)


class CertificateOut(serializers.ModelSerializer):
    auditor = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    issued_by = serializers.CharField(source="issued_by.username")
    key_id = serializers.CharField(source="key.key_id")
    current = serializers.SerializerMethodField(help_text="active and within its window now")

    class Meta:
        model = Certificate
        fields = ["id", "auditor", "risk_areas", "access_levels", "standard", "valid_from",
                  "valid_until", "status", "status_changed_at", "status_reason", "current",
                  "issued_by", "issued_at", "key_id", "nonce", "envelope"]

    def get_current(self, obj) -> bool:
        return obj.is_current_at(timezone.now())


class ConflictOut(serializers.ModelSerializer):
    auditor = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    lab = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    declared_by = serializers.CharField(source="declared_by.username")

    class Meta:
        model = ConflictOfInterest
        fields = ["id", "auditor", "lab", "kind", "description", "starts_on", "ends_on",
                  "declared_by", "declared_at"]


class GrantOut(serializers.ModelSerializer):
    access_level = serializers.CharField(help_text="black_box, grey_box or white_box")
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = AccessGrant
        fields = ["id", "access_level", "valid_from", "valid_until", "revoked_at",
                  "revoked_reason", "in_force"]

    def get_in_force(self, obj) -> bool:
        return AccessGrant.objects.in_force(timezone.now()).filter(pk=obj.pk).exists()


class ConclusionOut(serializers.ModelSerializer):
    auditor = serializers.CharField(source="auditor.username")
    key_id = serializers.CharField(source="key.key_id")
    findings = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Conclusion
        fields = ["id", "assignment", "release", "auditor", "result", "summary", "conditions",
                  "findings", "key_id", "nonce", "claimed_signed_at", "recorded_at", "envelope"]


class AssignmentOut(serializers.ModelSerializer):
    auditor = serializers.CharField(source="auditor.username")
    auditor_organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    assigned_by = serializers.CharField(source="assigned_by.username")
    access_level = serializers.CharField(help_text="black_box, grey_box or white_box")
    grant = GrantOut(read_only=True)
    conclusion = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = ["id", "release", "stage_entry", "auditor", "auditor_organization",
                  "certificate", "access_level", "risk_areas", "starts_at", "ends_at",
                  "assigned_by", "assigned_at", "ended_at", "end_reason", "end_note", "grant",
                  "conclusion"]

    def get_conclusion(self, obj) -> dict | None:
        conclusion = getattr(obj, "conclusion", None)
        return ConclusionOut(conclusion).data if conclusion is not None else None


class AttachmentOut(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username")

    class Meta:
        model = FindingAttachment
        fields = ["id", "release", "sha256", "size", "name", "media_type", "uploaded_by",
                  "uploaded_at"]


class StatementOut(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")
    author_organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    key_id = serializers.CharField(source="key.key_id")
    attachments = serializers.SlugRelatedField(slug_field="sha256", many=True, read_only=True)
    status_from = serializers.CharField()
    status_to = serializers.CharField()
    severity_after = serializers.CharField()
    outcome = serializers.CharField()

    class Meta:
        model = FindingStatement
        fields = ["id", "finding", "action", "text", "outcome", "status_from", "status_to",
                  "severity_after", "author", "author_organization", "attachments", "key_id",
                  "nonce", "claimed_signed_at", "recorded_at", "envelope"]


class FindingOut(serializers.Serializer):
    # A plain serializer (fields listed once, not derived from the model per instance):
    # findings are what machine clients file at volume.
    id = serializers.IntegerField()
    release = serializers.IntegerField(source="release_id")
    assignment = serializers.IntegerField(source="assignment_id")
    auditor = serializers.CharField(source="auditor.username")
    auditor_organization = serializers.CharField(source="auditor_organization.slug")
    title = serializers.CharField()
    severity = serializers.CharField(help_text="as filed")
    current_severity = serializers.CharField(help_text="as the latest statement left it")
    status = serializers.CharField(source="current_status",
                                   help_text="as the latest statement left it")
    category = serializers.CharField()
    description = serializers.CharField()
    reproduction_steps = serializers.ListField(child=serializers.CharField())
    attachments = AttachmentOut(many=True)
    key_id = serializers.CharField(source="key.key_id")
    nonce = serializers.CharField()
    claimed_signed_at = serializers.CharField()
    filed_at = serializers.DateTimeField()
    envelope = serializers.DictField()


class FindingDetailOut(FindingOut):
    statements = StatementOut(many=True, read_only=True)
