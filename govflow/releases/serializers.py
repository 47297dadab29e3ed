"""Output serializers for releases (input serializers live next to their endpoint)."""

from __future__ import annotations

from rest_framework import serializers

from govflow.releases.models import EvidenceDocument, Release, StageTransition


class ReleaseOut(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    system = serializers.IntegerField(source="system_version.system_id", read_only=True)
    system_version_number = serializers.IntegerField(source="system_version.number")
    manifest_digest = serializers.CharField(source="system_version.manifest_digest")
    policy_name = serializers.CharField(source="policy.name")
    policy_digest = serializers.CharField(source="policy.digest")
    etag = serializers.CharField()

    class Meta:
        model = Release
        fields = [
            "id", "title", "organization", "system", "system_version", "system_version_number",
            "manifest_digest", "policy", "policy_name", "policy_digest", "stage", "status",
            "version", "etag", "stage_entered_at", "opened_at",
        ]


class TransitionOut(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username")

    class Meta:
        model = StageTransition
        fields = ["id", "release", "kind", "from_stage", "to_stage", "actor", "at",
                  "policy_digest", "reason", "gate_report"]


class EvidenceOut(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username")

    class Meta:
        model = EvidenceDocument
        fields = ["id", "release", "document_type", "name", "sha256", "size", "media_type",
                  "uploaded_by", "uploaded_at"]


class GateOut(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField()
    description = serializers.CharField()
    params = serializers.DictField()
    met = serializers.BooleanField()
    reason = serializers.CharField()
    evidence = serializers.DictField()
    approval = serializers.BooleanField()


class GateReportOut(serializers.Serializer):
    release = serializers.IntegerField()
    release_version = serializers.IntegerField()
    system_version = serializers.IntegerField()
    manifest_digest = serializers.CharField()
    policy_digest = serializers.CharField()
    evidence_digest = serializers.CharField()
    target = serializers.CharField()
    evaluated_at = serializers.CharField()
    all_met = serializers.BooleanField()
    gates = GateOut(many=True)
    # "from" is a Python keyword; declared in __init__ below.

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from"] = serializers.CharField()
