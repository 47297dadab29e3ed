"""Endpoints for monitoring sources, the release's monitoring summary, notifications
and the results of periodic re-evaluations."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.accounts.machine import machine_release, machine_token_of
from govflow.accounts.models import TokenPurpose
from govflow.core.api import Pagination
from govflow.core.idempotency import idempotent
from govflow.core.schema import IDEMPOTENCY_KEY, errors
from govflow.monitoring import services
from govflow.monitoring.access import (
    STEWARDS,
    access_reevaluation_result,
    access_source,
    access_sources_manage,
)
from govflow.monitoring.api.incidents import DIGEST
from govflow.monitoring.api.serializers import (
    MonitoringSummaryOut,
    NotificationOut,
    ReevaluationOut,
    SourceOut,
)
from govflow.monitoring.models import IncidentStatus
from govflow.monitoring.selectors import (
    clocks_visible_to,
    incidents_visible_to,
    notifications_for,
    reevaluations_visible_to,
    sources_visible_to,
)
from govflow.releases.access import access_release


class SourceList(APIView):
    class Input(serializers.Serializer):
        name = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")
        kind = serializers.RegexField(r"^[a-z][a-z0-9_]{0,63}$",
                                      help_text="e.g. abuse_classifier, sandbox_telemetry")

    @extend_schema(responses={200: SourceOut(many=True), **errors(404)})
    def get(self, request, pk: int):
        """The release's monitoring sources and when each last sent a heartbeat."""
        access_release(request.user, pk)
        rows = sources_visible_to(request.user).filter(release_id=pk).select_related(
            "registered_by").order_by("id")
        return Response(SourceOut(rows, many=True).data)

    @extend_schema(request=Input, parameters=[IDEMPOTENCY_KEY],
                   responses={201: SourceOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request, pk: int):
        """Register a monitoring source (release managers and safety officers)."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        access_sources_manage(request.user, pk)
        source = services.source_register(release_id=pk, actor=request.user,
                                           name=data.validated_data["name"],
                                           kind=data.validated_data["kind"])
        return Response(SourceOut(source).data, status=status.HTTP_201_CREATED)


class SourceHeartbeat(APIView):
    # A monitoring source's machine token may send its heartbeats (and nothing else).
    machine_purposes = (TokenPurpose.SOURCE_HEARTBEAT,)

    @extend_schema(request=None, parameters=[IDEMPOTENCY_KEY],
                   responses={200: SourceOut, **errors(403, 404, 422)})
    @idempotent
    def post(self, request, pk: int):
        """I am alive (a monitoring system, with its `source:heartbeat` machine token for
        the release, or a token of the release's lab)."""
        source = access_source(request.user, pk)
        if (token := machine_token_of(request)) is not None:
            machine_release(token, source.release_id)
        return Response(SourceOut(services.source_heartbeat(source_id=pk)).data)


class SourceRetire(APIView):
    @extend_schema(request=None, parameters=[IDEMPOTENCY_KEY],
                   responses={200: SourceOut, **errors(403, 404, 409, 422)})
    @idempotent
    def post(self, request, pk: int):
        """Retire a monitoring source."""
        access_source(request.user, pk, roles=STEWARDS)
        return Response(SourceOut(services.source_retire(source_id=pk, actor=request.user)).data)


class MonitoringSummary(APIView):
    @extend_schema(responses={200: MonitoringSummaryOut, **errors(404)})
    def get(self, request, pk: int):
        """Everything monitoring says about a release now: sources, open incidents, reports
        owed to the regulator (overdue ones counted) and re-evaluations."""
        release = access_release(request.user, pk)
        now = timezone.now()
        clocks = list(clocks_visible_to(request.user).filter(
            incident__release_id=pk, satisfied_at__isnull=True, superseded_at__isnull=True,
        ).order_by("due_at"))
        data = {
            "release": release.pk, "status": release.status, "stage": release.stage,
            "sources": sources_visible_to(request.user).filter(
                release_id=pk, retired_at__isnull=True).select_related("registered_by"),
            "open_incidents": incidents_visible_to(request.user).filter(
                release_id=pk, status=IncidentStatus.OPEN).order_by("id"),
            "running_clocks": clocks,
            "overdue_reports": sum(1 for c in clocks if c.overdue_at or now > c.due_at),
            "reevaluations": reevaluations_visible_to(request.user).filter(
                release_id=pk).order_by("-scheduled_at")[:10],
        }
        return Response(MonitoringSummaryOut(data, context={"now": now}).data)


class NotificationList(APIView):
    # Its GET pages by hand; declared so the schema documents the paginated body.
    pagination_class = Pagination

    @extend_schema(responses={200: NotificationOut(many=True)})
    def get(self, request):
        """Your organization's notifications, newest first (regulators: incidents, overdue
        reports, failed re-evaluations)."""
        paginator = Pagination()
        rows = notifications_for(request.user).order_by("-created_at", "-id")
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(NotificationOut(page, many=True).data)


class ReevaluationResultView(APIView):
    class Input(serializers.Serializer):
        passed = serializers.BooleanField()
        evidence_digest = serializers.RegexField(DIGEST, help_text="sha256:<hex> of the "
                                                                   "evaluation's results")
        summary = serializers.CharField(max_length=20000)

    @extend_schema(request=Input, parameters=[IDEMPOTENCY_KEY],
                   responses={200: ReevaluationOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request, pk: int):
        """Record a re-evaluation's result (the lab's safety officer, or a regulator). A
        failure pauses the release."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        access_reevaluation_result(request.user, pk)
        v = data.validated_data
        reevaluation = services.reevaluation_complete(
            reevaluation_id=pk, passed=v["passed"], evidence_digest=v["evidence_digest"],
            summary=v["summary"], actor=request.user,
        )
        return Response(ReevaluationOut(reevaluation).data)
