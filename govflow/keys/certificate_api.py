"""REST endpoints for key certificates: list, certify (regulators), revoke (regulators)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.accounts.access import visible_or_404
from govflow.core.api import Pagination
from govflow.core.idempotency import idempotent
from govflow.core.schema import IDEMPOTENCY_KEY, errors
from govflow.keys.acts import act_perform
from govflow.keys.certificates import KEY_CERTIFICATE_REVOKE, KEY_CERTIFY
from govflow.keys.models import KeyCertificate
from govflow.keys.selectors import key_certificates_visible_to
from govflow.keys.serializers import SignedIn, envelope_of


class KeyCertificateOut(serializers.ModelSerializer[KeyCertificate]):
    key_id = serializers.CharField(source="key.key_id")
    public_key = serializers.CharField(source="key.public_key")
    user = serializers.CharField(source="user.username")
    organization = serializers.CharField(source="organization.slug")
    issued_by = serializers.CharField(source="issued_by.username")
    in_force = serializers.SerializerMethodField(help_text="valid and unrevoked right now")

    class Meta:
        model = KeyCertificate
        fields = ["id", "key_id", "public_key", "user", "user_id", "organization", "role",
                  "valid_from", "valid_until", "issued_by", "issued_at", "revoked_at",
                  "revoked_reason", "in_force", "envelope"]

    def get_in_force(self, obj: KeyCertificate) -> bool:
        now = timezone.now()
        return obj.revoked_at is None and obj.valid_from <= now < obj.valid_until


class KeyCertificateList(APIView):
    # Its GET pages by hand; declared so the schema documents the paginated body.
    pagination_class = Pagination

    @extend_schema(
        parameters=[OpenApiParameter("key_id", str), OpenApiParameter("user", str,
                                                                      description="username")],
        responses={200: KeyCertificateOut(many=True)},
    )
    def get(self, request: Request) -> Response:
        """Key certificates: a regulator sees all, a lab member those of their lab."""
        qs = key_certificates_visible_to(request.user).order_by("id")
        if key_id := request.query_params.get("key_id"):
            qs = qs.filter(key__key_id=key_id)
        if username := request.query_params.get("user"):
            qs = qs.filter(user__username=username)
        paginator = Pagination()
        page: list[KeyCertificate] | None = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(KeyCertificateOut(page, many=True).data)

    @extend_schema(request=SignedIn, parameters=[IDEMPOTENCY_KEY],
                   responses={201: KeyCertificateOut, **errors(400, 403, 409, 422)})
    @idempotent
    def post(self, request: Request) -> Response:
        """Certify a lab signer's key: a key-certificate statement signed with your (a
        regulator's) registered key (`python -m govflow.client key-certify`), naming the
        person, the lab, the role, the public key and the validity period."""
        certificate = act_perform(KEY_CERTIFY, envelope=envelope_of(request),
                                  actor=request.user)
        return Response(KeyCertificateOut(certificate).data, status=status.HTTP_201_CREATED)


class KeyCertificateDetail(APIView):
    @extend_schema(responses={200: KeyCertificateOut, **errors(404)})
    def get(self, request: Request, pk: int) -> Response:
        """One key certificate, with its envelope (another lab's is a 404)."""
        certificate = visible_or_404(key_certificates_visible_to(request.user), pk)
        return Response(KeyCertificateOut(certificate).data)


class KeyCertificateRevoke(APIView):
    @extend_schema(request=SignedIn, parameters=[IDEMPOTENCY_KEY],
                   responses={200: KeyCertificateOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        """Revoke a key certificate (regulators): a revocation statement naming this
        certificate, its key and lab (`python -m govflow.client key-certificate-revoke`).
        Approvals signed under the key from now on stop counting where certified keys are
        required."""
        visible_or_404(key_certificates_visible_to(request.user), pk)
        certificate = act_perform(KEY_CERTIFICATE_REVOKE, envelope=envelope_of(request),
                                  actor=request.user, target=pk)
        return Response(KeyCertificateOut(certificate).data)

