"""Endpoints for incidents: report, read, resolve, and file reports to the regulator."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.accounts.machine import machine_scope_refused, machine_token_of
from govflow.accounts.models import TokenPurpose
from govflow.core.api import Pagination
from govflow.core.errors import field_error
from govflow.core.idempotency import idempotent
from govflow.core.schema import IDEMPOTENCY_KEY, errors
from govflow.keys.acts import act_perform
from govflow.keys.serializers import SignedIn, envelope_of, signature_required
from govflow.monitoring import services
from govflow.monitoring.access import (
    access_incident,
    access_incident_file_report,
    access_incident_machine,
    access_incident_report,
)
from govflow.monitoring.acts import INCIDENT_FILE, INCIDENT_RESOLVE
from govflow.monitoring.api.serializers import IncidentDetailOut, IncidentOut, ReportOut
from govflow.monitoring.models import ClockKind, Incident
from govflow.monitoring.selectors import incidents_visible_to

DIGEST = r"^sha256:[0-9a-f]{64}$"


class IncidentList(APIView):
    # Its GET pages by hand; declared so the schema documents the paginated body.
    pagination_class = Pagination
    # The one endpoint a monitoring source's or gateway's machine token may call.
    machine_purposes = (TokenPurpose.INCIDENT_FILE,)

    class Input(serializers.Serializer):
        release = serializers.IntegerField()
        severity = serializers.ChoiceField(Incident._meta.get_field("severity").choices)
        category = serializers.ChoiceField(Incident._meta.get_field("category").choices)
        description = serializers.CharField(max_length=20000)
        evidence_digests = serializers.ListField(
            child=serializers.RegexField(DIGEST), required=False, default=list, max_length=100,
            help_text="sha256:<hex> of each piece of evidence (logs, transcripts)",
        )
        detected_at = serializers.DateTimeField(
            required=False, help_text="when you became aware of it (default: now); reporting "
                                      "clocks run from here")
        # A field named like Field.source, which the stubs type as the attribute.
        source = serializers.IntegerField(  # type: ignore[assignment]
            required=False, help_text="the monitoring source")

    @extend_schema(parameters=[OpenApiParameter("release", int), OpenApiParameter("status", str),
                               OpenApiParameter("severity", str)],
                   responses={200: IncidentOut(many=True), **errors(400)})
    def get(self, request):
        """Incidents you may see: your lab's, your assigned releases', or every one for a
        regulator (visible the moment they are reported)."""
        rows = incidents_visible_to(request.user).order_by("-reported_at", "-id")
        for param in ("release", "status", "severity"):
            if value := request.query_params.get(param):
                if param == "release" and not (value.isascii() and value.isdigit()):
                    raise field_error("release", "must be an integer",
                                      summary="release must be a release id")
                rows = rows.filter(**{f"{param}_id" if param == "release" else param: value})
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(IncidentOut(page, many=True).data)

    @extend_schema(request=Input, parameters=[IDEMPOTENCY_KEY],
                   responses={201: IncidentDetailOut, **errors(400, 403, 404, 422)})
    @idempotent
    def post(self, request):
        """Report an incident. The policy's response runs at once: e.g. a critical one
        pauses the release (access checks refuse from then on), notifies the regulator
        and starts the reporting clock; `response` says what was done.

        A person (of the lab, an assigned auditor, a regulator) sends `{"envelope": …}`,
        their signed incident statement (`python -m govflow.client incident`). A
        monitoring source or serving gateway sends the fields with its machine token
        (`incident:file` for this release, issued by the lab's release manager: POST
        /api/releases/{id}/machine-tokens); its event names the token."""
        token = machine_token_of(request)
        if "envelope" in request.data:
            if token is not None:  # a person's act is theirs, never the gateway's
                raise machine_scope_refused(token)
            incident = act_perform(INCIDENT_FILE, envelope=envelope_of(request),
                                   actor=request.user)
            return Response(IncidentDetailOut(incident, context={"now": timezone.now()}).data,
                            status=status.HTTP_201_CREATED)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if token is None:
            access_incident_report(request.user, v["release"])  # not yours to see: 404
            raise signature_required("an incident", "incident")
        access_incident_machine(token, v["release"])
        incident = services.incident_report(
            release_id=v["release"], severity=v["severity"], category=v["category"],
            description=v["description"], evidence_digests=v["evidence_digests"],
            detected_at=v.get("detected_at"), source_id=v.get("source"), actor=request.user,
            machine_token=token,
        )
        return Response(IncidentDetailOut(incident, context={"now": timezone.now()}).data,
                        status=status.HTTP_201_CREATED)


class IncidentDetail(APIView):
    @extend_schema(responses={200: IncidentDetailOut, **errors(404)})
    def get(self, request, pk: int):
        """An incident with its reporting clocks (overdue ones flagged) and reports."""
        incident = access_incident(request.user, pk)
        return Response(IncidentDetailOut(incident, context={"now": timezone.now()}).data)


class IncidentResolve(APIView):
    @extend_schema(request=SignedIn, parameters=[IDEMPOTENCY_KEY],
                   responses={200: IncidentDetailOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request, pk: int):
        """Resolve an incident (the lab's release managers and safety officers, or a
        regulator). A follow-up report owed becomes the final report owed. It does not
        resume a paused release: that is a decision of its own. The envelope is the
        resolver's signed incident-resolution statement (`python -m govflow.client
        incident-resolve`)."""
        if "envelope" not in request.data:
            access_incident(request.user, pk)  # not yours to see: 404
            raise signature_required("a resolution", "incident-resolve")
        incident = act_perform(INCIDENT_RESOLVE, envelope=envelope_of(request),
                               actor=request.user, target=pk)
        return Response(IncidentDetailOut(incident, context={"now": timezone.now()}).data)


class IncidentReports(APIView):
    class Input(serializers.Serializer):
        kind = serializers.ChoiceField(ClockKind.choices)
        summary = serializers.CharField(max_length=20000)
        document_digest = serializers.RegexField(DIGEST, required=False, default="",
                                                 help_text="sha256:<hex> of the full report")

    @extend_schema(request=Input, parameters=[IDEMPOTENCY_KEY],
                   responses={201: ReportOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request, pk: int):
        """File a report to the regulator on the incident: it stops the clock it answers
        and starts the next (a follow-up in 4 weeks by default, or the final report)."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        access_incident_file_report(request.user, pk)
        v = data.validated_data
        report = services.incident_report_file(incident_id=pk, kind=v["kind"],
                                               summary=v["summary"],
                                               document_digest=v["document_digest"],
                                               actor=request.user)
        return Response(ReportOut(report).data, status=status.HTTP_201_CREATED)
