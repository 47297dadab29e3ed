"""Endpoints for customers (the lab) and for KYC providers' webhooks."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.accounts.selectors import user_organization
from govflow.core.api import Pagination
from govflow.core.idempotency import idempotent
from govflow.core.schema import IDEMPOTENCY_KEY, errors
from govflow.rollout import services
from govflow.rollout.access import access_customers
from govflow.rollout.api.check import EXTERNAL_ID
from govflow.rollout.api.serializers import CustomerOut, KycOut
from govflow.rollout.providers import WebhookRejected
from govflow.rollout.providers.hmac_webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER
from govflow.rollout.selectors import customers_visible_to


class CustomerList(APIView):
    # Its GET pages by hand; declared so the schema documents the paginated body.
    pagination_class = Pagination

    class Input(serializers.Serializer):
        external_id = serializers.RegexField(EXTERNAL_ID.pattern,
                                             help_text="the lab's own id for the customer")
        display_name = serializers.CharField(max_length=200)

    @extend_schema(parameters=[OpenApiParameter("external_id", str)],
                   responses={200: CustomerOut(many=True)})
    def get(self, request):
        """Your lab's customers, each with the KYC record in force. Regulators and
        auditors see none: a cohort is checked without its customers' names."""
        rows = customers_visible_to(request.user).order_by("external_id")
        if external_id := request.query_params.get("external_id"):
            rows = rows.filter(external_id=external_id)
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(CustomerOut(page, many=True).data)

    @extend_schema(request=Input, parameters=[IDEMPOTENCY_KEY],
                   responses={201: CustomerOut, **errors(400, 403, 409, 422)})
    @idempotent
    def post(self, request):
        """Register a customer: an external id and a display name, no other personal data
        (the KYC provider keeps that)."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        access_customers(request.user)
        customer = services.customer_register(
            organization=user_organization(request.user), actor=request.user,
            external_id=data.validated_data["external_id"],
            display_name=data.validated_data["display_name"],
        )
        return Response(CustomerOut(customer).data, status=status.HTTP_201_CREATED)


class KycWebhook(APIView):
    """A KYC provider pushes a verification result (no bearer token: the HMAC
    signature over timestamp and body authenticates the provider)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=inline_serializer("KycWebhookBody", fields={
            "organization": serializers.CharField(help_text="the lab's slug"),
            "customer": serializers.CharField(help_text="the lab's external customer id"),
            "reference": serializers.CharField(help_text="the provider's id for the check"),
            "level": serializers.CharField(help_text="basic, standard or enhanced"),
            "status": serializers.CharField(help_text="verified or revoked"),
            "evidence_digest": serializers.CharField(help_text="sha256:<hex>"),
            "verified_at": serializers.DateTimeField(),
            "expires_at": serializers.DateTimeField(),
        }),
        parameters=[
            OpenApiParameter(TIMESTAMP_HEADER, str, OpenApiParameter.HEADER, required=True,
                             description="Unix seconds; within the server's tolerance"),
            OpenApiParameter(SIGNATURE_HEADER, str, OpenApiParameter.HEADER, required=True,
                             description="sha256=<hex HMAC-SHA256(secret, timestamp.body)>"),
        ],
        responses={201: KycOut, **errors(400, 401, 404, 409)},
    )
    def post(self, request, provider: str):
        """Record a provider's KYC result. 401 `bad_signature` or `stale`, 409
        `replayed`; each names its rule, and nothing is written."""
        try:
            record = services.kyc_webhook_accept(provider_name=provider,
                                                 headers=request.headers, body=request.body)
        except WebhookRejected as exc:
            return Response({"error": exc.rule, "message": exc.message, "rule": exc.rule},
                            status=exc.status)
        return Response(KycOut(record).data, status=status.HTTP_201_CREATED)
