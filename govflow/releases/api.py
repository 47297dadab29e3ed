"""REST endpoints for releases: read them, open one, ask its gates, move it."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.accounts.access import LAB_STAFF, STEWARDS, holds_any_role
from govflow.accounts.models import Role
from govflow.accounts.selectors import user_organization
from govflow.audit.events import EventType
from govflow.core.errors import PermissionDenied
from govflow.core.idempotency import idempotent
from govflow.core.preconditions import expected_version
from govflow.core.schema import IDEMPOTENCY_KEY, IF_MATCH, errors
from govflow.policy.services import policy_register_named
from govflow.releases import services
from govflow.releases.access import access_release, access_release_action
from govflow.releases.evidence import evidence_attach
from govflow.releases.models import Release
from govflow.releases.selectors import (
    evidence_visible_to,
    releases_filtered,
    transitions_visible_to,
)
from govflow.releases.serializers import EvidenceOut, GateReportOut, ReleaseOut, TransitionOut
from govflow.systems.selectors import system_versions_visible_to


def _with_etag(release: Release, data, code=status.HTTP_200_OK) -> Response:
    response = Response(data, status=code)
    response["ETag"] = release.etag
    return response


class ReleaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Releases you may see: your lab's own, or every lab's for a regulator."""

    serializer_class = ReleaseOut
    # Ids are integers: anything else is a 404 from the router, not a 500 from int().
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        params = self.request.query_params
        return releases_filtered(self.request.user, stage=params.get("stage"),
                                 status=params.get("status"), lab=params.get("lab"))

    @extend_schema(
        parameters=[
            OpenApiParameter("stage", str, description="only releases at this stage"),
            OpenApiParameter("status", str, description="active, paused, halted, completed"),
            OpenApiParameter("lab", str, description="organization slug (regulators)"),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: ReleaseOut, **errors(404)})
    def retrieve(self, request, *args, **kwargs):
        release = self.get_object()
        return _with_etag(release, ReleaseOut(release).data)

    @extend_schema(
        parameters=[OpenApiParameter("target", str, description="default: the next stage")],
        responses={200: GateReportOut, **errors(400, 404, 409)},
    )
    @action(detail=True, methods=["get"])
    def gates(self, request, pk=None):
        """What stands between the release and a later stage. Changes nothing."""
        release = access_release(request.user, int(pk))
        report = services.release_gate_report(
            release=release, target=request.query_params.get("target"), actor=request.user
        )
        return _with_etag(release, report)

    @extend_schema(responses={200: TransitionOut(many=True), **errors(404)})
    @action(detail=True, methods=["get"], pagination_class=None)  # the whole history
    def transitions(self, request, pk=None):
        access_release(request.user, int(pk))
        rows = transitions_visible_to(request.user).filter(release_id=pk)
        return Response(TransitionOut(rows, many=True).data)


class ReleaseOpen(APIView):
    class Input(serializers.Serializer):
        system_version = serializers.IntegerField(help_text="id of the system version to release")
        title = serializers.CharField(max_length=200)
        policy = serializers.CharField(
            required=False, help_text="policy name in policies/ (default: the default policy)"
        )

    @extend_schema(
        request=Input,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: ReleaseOut, **errors(400, 403, 404, 422)},
    )
    @idempotent
    def post(self, request):
        """Open a release of one of your lab's system versions under a policy."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        if not holds_any_role(request.user, (Role.RELEASE_MANAGER,)):
            raise PermissionDenied("opening a release needs the release_manager role")
        version = (
            system_versions_visible_to(request.user)
            .filter(
                pk=data.validated_data["system_version"],
                system__organization=user_organization(request.user),
            )
            .first()
        )
        if version is None:
            return Response(
                {"error": "not_found", "message": "no such system version in your lab"},
                status=status.HTTP_404_NOT_FOUND,
            )
        policy = policy_register_named(
            name=data.validated_data.get("policy") or settings.GOVFLOW_DEFAULT_POLICY,
            actor=request.user,
        )
        release = services.release_open(
            system_version=version, policy_version=policy,
            title=data.validated_data["title"], actor=request.user,
        )
        return _with_etag(release, ReleaseOut(release).data, status.HTTP_201_CREATED)


class ReleaseAdvance(APIView):
    class Input(serializers.Serializer):
        target = serializers.CharField(required=False, help_text="default: the next stage")

    @extend_schema(
        request=Input,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
        responses={200: TransitionOut, **errors(400, 403, 404, 409, 412, 422, 428)},
    )
    @idempotent
    def post(self, request, pk: int):
        """Advance to the next stage if every gate is met; 409 with the gate report if not."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        access_release_action(request.user, pk, [Role.RELEASE_MANAGER])
        transition = services.release_advance(
            release_id=pk,
            actor=request.user,
            target=data.validated_data.get("target"),
            expected_version=expected_version(request, pk),
        )
        return _with_etag(transition.release, TransitionOut(transition).data)


class ReleaseRollback(APIView):
    class Input(serializers.Serializer):
        target = serializers.CharField(help_text="an earlier stage")
        reason = serializers.CharField(max_length=4000)

    @extend_schema(
        request=Input,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
        responses={200: TransitionOut, **errors(400, 403, 404, 409, 412, 422, 428)},
    )
    @idempotent
    def post(self, request, pk: int):
        """Send the release back to an earlier stage."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        access_release_action(request.user, pk, STEWARDS)
        transition = services.release_rollback(
            release_id=pk,
            actor=request.user,
            target=data.validated_data["target"],
            reason=data.validated_data["reason"],
            expected_version=expected_version(request, pk),
        )
        return _with_etag(transition.release, TransitionOut(transition).data)


class _StatusMove(APIView):
    move: EventType
    roles: frozenset[str] = STEWARDS

    class Input(serializers.Serializer):
        reason = serializers.CharField(max_length=4000)

    @extend_schema(
        request=Input,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
        responses={200: ReleaseOut, **errors(400, 403, 404, 409, 412, 422, 428)},
    )
    @idempotent
    def post(self, request, pk: int):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        access_release_action(request.user, pk, self.roles)
        release = services.release_set_status(
            release_id=pk,
            move=self.move,
            reason=data.validated_data["reason"],
            actor=request.user,
            expected_version=expected_version(request, pk),
        )
        return _with_etag(release, ReleaseOut(release).data)


class ReleasePause(_StatusMove):
    """Pause an active release: nothing advances until it is resumed."""

    move = EventType.RELEASE_PAUSED


class ReleaseResume(_StatusMove):
    """Resume a paused release."""

    move = EventType.RELEASE_RESUMED
    roles = frozenset({Role.RELEASE_MANAGER})


class ReleaseHalt(_StatusMove):
    """Halt a release for good."""

    move = EventType.RELEASE_HALTED


class EvidenceList(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class Input(serializers.Serializer):
        file = serializers.FileField()
        document_type = serializers.RegexField(
            r"^[a-z][a-z0-9_]{0,63}$", help_text="e.g. red_team_report"
        )
        name = serializers.CharField(max_length=255, required=False)
        sha256 = serializers.RegexField(
            r"^(sha256:)?[0-9a-f]{64}$", required=False,
            help_text="if given, the upload is refused unless its bytes match",
        )

    @extend_schema(responses={200: EvidenceOut(many=True), **errors(404)})
    def get(self, request, pk: int):
        """Evidence documents attached to the release."""
        access_release(request.user, pk)
        rows = evidence_visible_to(request.user).filter(release_id=pk).select_related("uploaded_by")
        return Response(EvidenceOut(rows, many=True).data)

    @extend_schema(
        request={"multipart/form-data": Input},
        parameters=[IDEMPOTENCY_KEY],
        responses={201: EvidenceOut, **errors(400, 403, 404, 409, 413, 422)},
    )
    @idempotent
    def post(self, request, pk: int):
        """Attach a document (multipart upload) to the release."""
        access_release_action(request.user, pk, LAB_STAFF)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        document = evidence_attach(
            release_id=pk,
            document_type=data.validated_data["document_type"],
            upload=upload,
            name=data.validated_data.get("name") or upload.name,
            media_type=getattr(upload, "content_type", "") or "",
            actor=request.user,
            declared_sha256=data.validated_data.get("sha256"),
        )
        return Response(EvidenceOut(document).data, status=status.HTTP_201_CREATED)


class EvidenceDownload(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes, **errors(404)})
    def get(self, request, pk: int):
        """The bytes of an evidence document."""
        document = evidence_visible_to(request.user).filter(pk=pk).first()
        if document is None:
            return Response(
                {"error": "not_found", "message": "Not found."}, status=status.HTTP_404_NOT_FOUND
            )
        return FileResponse(
            document.file.open("rb"), as_attachment=True, filename=document.name,
            content_type=document.media_type,
        )
