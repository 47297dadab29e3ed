"""Endpoints for certificates (regulators) and conflict-of-interest declarations
(auditor firms)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.accounts.selectors import user_organization
from govflow.auditing import services
from govflow.auditing.access import access_auditor, access_certificate
from govflow.auditing.acts import CERTIFICATE_ISSUE, CERTIFICATE_MOVES
from govflow.auditing.api.serializers import CertificateOut, ConflictOut, EnvelopeIn
from govflow.auditing.models import ConflictKind
from govflow.auditing.selectors import certificates_visible_to, conflicts_visible_to
from govflow.core.api import Pagination
from govflow.core.idempotency import idempotent
from govflow.core.schema import IDEMPOTENCY_KEY, errors
from govflow.keys.acts import act_perform
from govflow.keys.serializers import SignedIn, envelope_of


class CertificateList(APIView):
    # Its GET pages by hand; declared so the schema documents the paginated body.
    pagination_class = Pagination

    class Input(serializers.Serializer):
        envelope = EnvelopeIn(help_text="the regulator's signed auditor-certificate statement")

    @extend_schema(responses={200: CertificateOut(many=True)})
    def get(self, request):
        """Certificates you may see: a regulator all, an auditor firm its own."""
        qs = certificates_visible_to(request.user).order_by("id")
        if auditor := request.query_params.get("auditor"):
            qs = qs.filter(auditor__slug=auditor)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(CertificateOut(page, many=True).data)

    @extend_schema(request=Input, parameters=[IDEMPOTENCY_KEY],
                   responses={201: CertificateOut, **errors(400, 403, 409, 422)})
    @idempotent
    def post(self, request):
        """Certify an auditor organization: a statement signed with your (a regulator's)
        registered key, naming its risk areas, access levels and validity window."""
        certificate = act_perform(CERTIFICATE_ISSUE, envelope=envelope_of(request),
                                  actor=request.user)
        return Response(CertificateOut(certificate).data, status=status.HTTP_201_CREATED)


class CertificateDetail(APIView):
    @extend_schema(responses={200: CertificateOut, **errors(404)})
    def get(self, request, pk: int):
        return Response(CertificateOut(access_certificate(request.user, pk)).data)


class _CertificateMove(APIView):
    move: str  # suspend | reinstate | revoke: the certificate-status statement's action

    @extend_schema(request=SignedIn, parameters=[IDEMPOTENCY_KEY],
                   responses={200: CertificateOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request, pk: int):
        """The envelope is a regulator's signed certificate-status statement
        (`python -m govflow.client certificate-status`), naming this certificate, its
        firm, this move and the reason."""
        certificate = act_perform(CERTIFICATE_MOVES[self.move], envelope=envelope_of(request),
                                  actor=request.user, target=pk)
        return Response(CertificateOut(certificate).data)


class CertificateSuspend(_CertificateMove):
    """Suspend a certificate, effective at once: its holder can neither be assigned nor
    act under it, and its conclusions stop counting, until it is reinstated."""

    move = "suspend"


class CertificateReinstate(_CertificateMove):
    """Lift a suspension."""

    move = "reinstate"


class CertificateRevoke(_CertificateMove):
    """Revoke a certificate for good, effective at once."""

    move = "revoke"


class ConflictList(APIView):
    # Its GET pages by hand; declared so the schema documents the paginated body.
    pagination_class = Pagination

    class Input(serializers.Serializer):
        lab = serializers.SlugField(help_text="the lab's slug")
        kind = serializers.ChoiceField(ConflictKind.values)
        description = serializers.CharField(max_length=4000)
        starts_on = serializers.DateField()
        ends_on = serializers.DateField(required=False, allow_null=True,
                                        help_text="omit while the tie lasts")

    @extend_schema(responses={200: ConflictOut(many=True)})
    def get(self, request):
        """Conflicts of interest: your firm's declarations; a regulator sees all."""
        qs = conflicts_visible_to(request.user).order_by("id")
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(ConflictOut(page, many=True).data)

    @extend_schema(request=Input, parameters=[IDEMPOTENCY_KEY],
                   responses={201: ConflictOut, **errors(400, 403, 422)})
    @idempotent
    def post(self, request):
        """Declare a financial or personal tie of your auditor firm with a lab."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        access_auditor(request.user)
        v = data.validated_data
        conflict = services.conflict_declare(
            auditor=user_organization(request.user), lab_slug=v["lab"], kind=v["kind"],
            description=v["description"], starts_on=v["starts_on"], ends_on=v.get("ends_on"),
            actor=request.user,
        )
        return Response(ConflictOut(conflict).data, status=status.HTTP_201_CREATED)
