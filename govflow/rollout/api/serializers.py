"""Output serializers of the rollout (input serializers live next to their endpoint)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from govflow.rollout.models import (
    Cohort,
    CohortMember,
    CohortSnapshot,
    Customer,
    GrowthApproval,
    KycRecord,
)


class KycOut(serializers.ModelSerializer):
    class Meta:
        model = KycRecord
        fields = ["id", "provider", "reference", "level", "status", "evidence_digest",
                  "verified_at", "expires_at", "recorded_at"]


class CustomerOut(serializers.ModelSerializer):
    kyc = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = ["id", "external_id", "display_name", "created_at", "kyc"]

    @extend_schema_field(KycOut(allow_null=True))
    def get_kyc(self, obj):
        record = obj.kyc_records.order_by("-id").first()
        return KycOut(record).data if record else None


class CohortOut(serializers.ModelSerializer):
    size = serializers.IntegerField()
    cap = serializers.IntegerField()
    kyc_level = serializers.CharField()
    approved_up_to = serializers.IntegerField()

    class Meta:
        model = Cohort
        fields = ["id", "release", "stage", "version", "size", "cap", "kyc_level",
                  "approved_up_to", "created_at"]


class MemberOut(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id")
    display_name = serializers.CharField(source="customer.display_name")
    admitted_by = serializers.CharField(source="admitted_by.username")

    class Meta:
        model = CohortMember
        fields = ["id", "customer", "display_name", "leaf", "admitted_at", "admitted_by",
                  "removed_at", "removal_reason"]


class ApprovalOut(serializers.ModelSerializer):
    signer = serializers.CharField(source="signer.username")

    class Meta:
        model = GrowthApproval
        fields = ["id", "cohort", "up_to", "signer", "role", "decision", "comment", "nonce",
                  "recorded_at"]


class SnapshotOut(serializers.ModelSerializer):
    stage = serializers.CharField(source="cohort.stage")
    release = serializers.IntegerField(source="cohort.release_id")
    members = serializers.SerializerMethodField(
        help_text="the lab only: each member's external id and salt, for local checks"
    )

    class Meta:
        model = CohortSnapshot
        fields = ["id", "release", "stage", "cohort", "cohort_version", "size", "root",
                  "published_at", "envelope", "statement", "leaves", "members"]

    def get_members(self, obj) -> list[dict[str, str]] | None:
        if not self.context.get("with_members"):
            return None
        # Exactly the members the snapshot was taken of: those whose leaf it lists.
        leaves = set(obj.leaves)
        rows = CohortMember.objects.filter(cohort_id=obj.cohort_id, leaf__in=leaves)
        return sorted(({"customer": m.customer.external_id, "salt": m.salt}
                       for m in rows.select_related("customer")),
                      key=lambda m: m["customer"])
