"""Endpoints for auditors' machine clients: attachments, findings, the statements
appended to them, and audit conclusions. Every write is a signed DSSE envelope
(except the attachment upload, which a finding then names by digest)."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.auditing import services
from govflow.auditing.access import access_attachment, access_engagement, access_finding
from govflow.auditing.acts import CONCLUSION_RECORD, FINDING_FILE, FINDING_STATEMENT
from govflow.auditing.api.serializers import (
    AttachmentOut,
    ConclusionOut,
    EnvelopeIn,
    FindingDetailOut,
    FindingOut,
    StatementOut,
)
from govflow.auditing.selectors import findings_visible_to
from govflow.auditing.services.attachments import too_large
from govflow.core.api import Pagination
from govflow.core.idempotency import idempotent
from govflow.core.schema import IDEMPOTENCY_KEY, errors
from govflow.keys.acts import act_perform
from govflow.keys.serializers import envelope_of


def _returned() -> serializers.CharField:
    return serializers.CharField(
        allow_null=True, help_text="the stage the policy sent the release back to, if it did"
    )


class FindingFiledOut(FindingOut):
    """The filed finding, without the envelope the client just sent (stored as sent;
    GET /api/findings/{id} shows it)."""

    # What the service attached, as it attached them (no query to read them back).
    attachments = AttachmentOut(many=True, read_only=True, source="filed_attachments")
    envelope = None
    release_returned_to = _returned()


class StatementAppendedOut(StatementOut):
    release_returned_to = _returned()

    class Meta(StatementOut.Meta):
        fields = [*StatementOut.Meta.fields, "release_returned_to"]


class ConclusionRecordedOut(ConclusionOut):
    release_returned_to = _returned()

    class Meta(ConclusionOut.Meta):
        fields = [*ConclusionOut.Meta.fields, "release_returned_to"]


class AttachmentUpload(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class Input(serializers.Serializer):
        file = serializers.FileField()
        sha256 = serializers.RegexField(r"^(sha256:)?[0-9a-f]{64}$",
                                        help_text="the upload is refused unless its bytes match")
        name = serializers.CharField(max_length=255, required=False)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Refuse an oversize body from its declared length, before anything parses it;
        # the service counts the bytes themselves too (a length can lie). The allowance
        # is for the multipart framing around the file.
        declared = request.META.get("CONTENT_LENGTH")
        if declared and declared.isdigit() and (
            int(declared) > settings.GOVFLOW_MAX_FINDING_ATTACHMENT_BYTES + 64 * 1024
        ):
            raise too_large(int(declared))

    @extend_schema(request={"multipart/form-data": Input}, parameters=[IDEMPOTENCY_KEY],
                   responses={201: AttachmentOut, 200: AttachmentOut,
                              **errors(400, 403, 404, 413, 422)})
    @idempotent
    def post(self, request, pk: int):
        """Upload evidence for a finding you will file on this release (multipart). Bytes
        that do not match `sha256` or exceed the limit are refused and not stored; the
        same bytes again return the first upload (200)."""
        access_engagement(request.user, pk)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        attachment, created = services.attachment_upload(
            release_id=pk, upload=upload, name=data.validated_data.get("name") or upload.name,
            media_type=getattr(upload, "content_type", "") or "",
            declared_sha256=data.validated_data["sha256"], actor=request.user,
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(AttachmentOut(attachment).data, status=code)


class AttachmentDownload(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes, **errors(404)})
    def get(self, request, pk: int):
        """The bytes of a finding attachment."""
        attachment = access_attachment(request.user, pk)
        return FileResponse(attachment.file.open("rb"), as_attachment=True,
                            filename=attachment.name, content_type=attachment.media_type)


class FindingList(APIView):
    # Its GET pages by hand; declared so the schema documents the paginated body.
    pagination_class = Pagination

    class Input(serializers.Serializer):
        envelope = EnvelopeIn(help_text="your signed finding statement")

    @extend_schema(
        parameters=[OpenApiParameter("release", int), OpenApiParameter("status", str),
                    OpenApiParameter("severity", str, description="current severity")],
        responses={200: FindingOut(many=True)},
    )
    def get(self, request):
        """Findings you may see: a regulator all of them, the moment they are filed; a lab
        those on its releases; an auditor their firm's, on releases they audit."""
        qs = findings_visible_to(request.user).prefetch_related("attachments").order_by("id")
        if (release := request.query_params.get("release", "")).isdigit():
            qs = qs.filter(release_id=int(release))
        if value := request.query_params.get("status"):
            qs = qs.filter(current_status=value)
        if value := request.query_params.get("severity"):
            qs = qs.filter(current_severity=value)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(FindingOut(page, many=True).data)

    @extend_schema(request=Input, parameters=[IDEMPOTENCY_KEY],
                   responses={201: FindingFiledOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request):
        """File a finding: a statement signed with your registered key, on a release you
        are assigned to audit. It can never be edited or deleted; later statements are
        appended (POST /api/findings/{id}/statements)."""
        finding = act_perform(FINDING_FILE, envelope=envelope_of(request), actor=request.user)
        # A finding just filed has no statements yet: open, at the severity it was filed.
        finding.current_status, finding.current_severity = "open", finding.severity
        finding.release_returned_to = finding.returned_to
        return Response(FindingFiledOut(finding).data, status=status.HTTP_201_CREATED)


class FindingDetail(APIView):
    @extend_schema(responses={200: FindingDetailOut, **errors(404)})
    def get(self, request, pk: int):
        """A finding with every statement appended to it, oldest first."""
        return Response(FindingDetailOut(access_finding(request.user, pk)).data)


class FindingStatementAppend(APIView):
    class Input(serializers.Serializer):
        envelope = EnvelopeIn(help_text="your signed finding-statement")

    @extend_schema(request=Input, parameters=[IDEMPOTENCY_KEY],
                   responses={201: StatementAppendedOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request, pk: int):
        """Append a signed statement: the lab's response, dispute or risk acceptance; the
        filing auditor's amendment or resolution; an escalation; a regulator's decision.
        409 when the finding's status does not allow it."""
        row = act_perform(FINDING_STATEMENT, envelope=envelope_of(request), actor=request.user,
                          target=pk)
        row.release_returned_to = row.returned_to
        return Response(StatementAppendedOut(row).data, status=status.HTTP_201_CREATED)


class ConclusionSubmit(APIView):
    class Input(serializers.Serializer):
        envelope = EnvelopeIn(help_text="your signed audit-conclusion statement")

    @extend_schema(request=Input, parameters=[IDEMPOTENCY_KEY],
                   responses={201: ConclusionRecordedOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request):
        """Conclude your engagement (pass, pass_with_conditions or fail), listing every
        finding you filed in it. Ends your access; a fail may send the release back."""
        conclusion = act_perform(CONCLUSION_RECORD, envelope=envelope_of(request),
                                 actor=request.user)
        conclusion.release_returned_to = conclusion.returned_to
        return Response(ConclusionRecordedOut(conclusion).data, status=status.HTTP_201_CREATED)
