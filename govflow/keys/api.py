"""REST endpoints for signing keys: list, register, rotate, revoke."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.accounts.selectors import user_organization
from govflow.core.api import Pagination
from govflow.core.idempotency import idempotent
from govflow.core.schema import IDEMPOTENCY_KEY, errors
from govflow.keys import services
from govflow.keys.access import access_key_holder, access_own_key
from govflow.keys.models import SigningKey
from govflow.keys.selectors import keys_visible_to

PUBLIC_KEY_HELP = (
    "Ed25519 public key: PEM (-----BEGIN PUBLIC KEY-----) or base64 of the raw 32 bytes"
)


class KeyOut(serializers.ModelSerializer[SigningKey]):
    user = serializers.CharField(source="user.username")
    usable = serializers.SerializerMethodField(help_text="unrevoked and unexpired right now")
    organization = serializers.SerializerMethodField(
        help_text="the holder's organization {id, slug} (what a key certificate names)")

    class Meta:
        model = SigningKey
        fields = ["id", "key_id", "public_key", "name", "user", "user_id", "organization",
                  "created_at", "expires_at", "revoked_at", "revoked_reason", "usable"]

    def get_organization(self, obj: SigningKey) -> dict[str, Any] | None:
        org = user_organization(obj.user)
        return {"id": org.pk, "slug": org.slug} if org else None

    def get_usable(self, obj: SigningKey) -> bool:
        return bool(obj.is_usable_at(timezone.now()))


class KeyList(APIView):
    # Its GET pages by hand; declared so the schema documents the paginated body.
    pagination_class = Pagination

    class Input(serializers.Serializer[Any]):
        public_key = serializers.CharField(max_length=2000, help_text=PUBLIC_KEY_HELP)
        name = serializers.CharField(max_length=100, help_text="e.g. 'laptop 2025'")
        expires_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(
        parameters=[OpenApiParameter("user", str, description="username (regulators)")],
        responses={200: KeyOut(many=True)},
    )
    def get(self, request: Request) -> Response:
        """Your signing keys; a regulator lists everyone's."""
        qs = keys_visible_to(request.user).order_by("id")
        if username := request.query_params.get("user"):
            qs = qs.filter(user__username=username)
        paginator = Pagination()
        page: list[SigningKey] | None = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(KeyOut(page, many=True).data)

    @extend_schema(
        request=Input,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: KeyOut, **errors(400, 403, 409, 422)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        """Register one of your Ed25519 public keys (the private key stays with you)."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        access_key_holder(request.user)
        key = services.key_register(
            user=request.user,
            public_key=data.validated_data["public_key"],
            name=data.validated_data["name"],
            expires_at=data.validated_data.get("expires_at"),
        )
        return Response(KeyOut(key).data, status=status.HTTP_201_CREATED)


class KeyRevoke(APIView):
    class Input(serializers.Serializer[Any]):
        reason = serializers.CharField(max_length=1000, help_text="e.g. 'laptop lost'")

    @extend_schema(
        request=Input,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: KeyOut, **errors(400, 404, 409, 422)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        """Revoke one of your keys: nothing signed with it is accepted any more."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        access_own_key(request.user, pk)
        key = services.key_revoke(
            key_pk=pk, reason=data.validated_data["reason"], actor=request.user
        )
        return Response(KeyOut(key).data)


class KeyRotate(APIView):
    class Input(serializers.Serializer[Any]):
        public_key = serializers.CharField(max_length=2000, help_text=PUBLIC_KEY_HELP)
        name = serializers.CharField(max_length=100)
        expires_at = serializers.DateTimeField(required=False, allow_null=True)
        reason = serializers.CharField(max_length=1000, required=False, allow_blank=True)

    @extend_schema(
        request=Input,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: KeyOut, **errors(400, 404, 409, 422)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        """Replace one of your keys: register the new one and revoke the old, together."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        access_own_key(request.user, pk)
        key = services.key_rotate(
            key_pk=pk,
            public_key=data.validated_data["public_key"],
            name=data.validated_data["name"],
            expires_at=data.validated_data.get("expires_at"),
            reason=data.validated_data.get("reason", ""),
            actor=request.user,
        )
        return Response(KeyOut(key).data, status=status.HTTP_201_CREATED)
