"""Output serializers of monitoring (input serializers live next to their endpoint)."""

from __future__ import annotations

from rest_framework import serializers

from govflow.monitoring.models import (
    Incident,
    IncidentReport,
    MonitoringSource,
    Notification,
    Reevaluation,
    ReportingClock,
)


class SourceOut(serializers.ModelSerializer):
    registered_by = serializers.CharField(source="registered_by.username")

    class Meta:
        model = MonitoringSource
        fields = ["id", "release", "name", "kind", "registered_at", "registered_by",
                  "last_heartbeat_at", "retired_at"]


class ClockOut(serializers.ModelSerializer):
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ReportingClock
        fields = ["id", "incident", "kind", "started_at", "due_at", "satisfied_at",
                  "superseded_at", "reminded_at", "overdue_at", "overdue"]

    def get_overdue(self, obj) -> bool:
        """Running and past its deadline (the beat task marks `overdue_at` soon after)."""
        now = self.context.get("now")
        return obj.running and (obj.overdue_at is not None or (now is not None
                                                                and now > obj.due_at))


class ReportOut(serializers.ModelSerializer):
    filed_by = serializers.CharField(source="filed_by.username")

    class Meta:
        model = IncidentReport
        fields = ["id", "incident", "kind", "summary", "document_digest", "filed_at", "filed_by"]


class IncidentOut(serializers.ModelSerializer):
    reported_by = serializers.CharField(source="reported_by.username")
    resolved_by = serializers.CharField(source="resolved_by.username", allow_null=True)

    class Meta:
        model = Incident
        fields = ["id", "release", "source", "severity", "category", "description",
                  "evidence_digests", "detected_at", "reported_at", "reported_by", "status",
                  "response", "resolved_at", "resolved_by", "resolution"]


class IncidentDetailOut(IncidentOut):
    clocks = serializers.SerializerMethodField()
    reports = ReportOut(many=True, read_only=True)

    class Meta(IncidentOut.Meta):
        fields = [*IncidentOut.Meta.fields, "clocks", "reports"]

    def get_clocks(self, obj) -> list[dict]:
        return list(ClockOut(obj.clocks.order_by("id"), many=True, context=self.context).data)


class ReevaluationOut(serializers.ModelSerializer):
    class Meta:
        model = Reevaluation
        fields = ["id", "release", "system_version", "scheduled_at", "due_at", "result",
                  "evidence_digest", "summary", "completed_at"]


class NotificationOut(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "release", "kind", "subject", "body", "created_at", "delivered_at"]


class MonitoringSummaryOut(serializers.Serializer):
    release = serializers.IntegerField()
    status = serializers.CharField()
    stage = serializers.CharField()
    sources = SourceOut(many=True)
    open_incidents = IncidentOut(many=True)
    running_clocks = ClockOut(many=True)
    overdue_reports = serializers.IntegerField(help_text="running clocks past their deadline")
    reevaluations = ReevaluationOut(many=True)
