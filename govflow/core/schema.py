"""OpenAPI pieces shared by every endpoint: the error body and common responses."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers


class AutoSchema(SpectacularAutoSchema):
    """Names nested serializers after the view that holds them.

    Every endpoint declares its own ``Input`` class (CONVENTIONS: one API class per
    operation with nested serializers); named by class alone they would all become one
    ``InputRequest`` component, and every endpoint would document the same body.
    """

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        owner, _, _ = type(serializer).__qualname__.rpartition(".")
        if owner and "<locals>" not in owner:
            return owner.replace(".", "").lstrip("_") + name
        return name


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents govflow's bearer tokens (without it each view warns and drops them)."""

    target_class = "govflow.accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "govflow token"}

ErrorBody = inline_serializer(
    name="Error",
    fields={
        "error": serializers.CharField(help_text="machine-readable code"),
        "message": serializers.CharField(),
        "fields": serializers.ListField(
            child=serializers.DictField(), required=False, help_text="[{path, message}]"
        ),
    },
)


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    text = {
        400: "Invalid input; `fields` lists each problem with its path.",
        401: "Missing, invalid, expired or revoked token.",
        403: "You can see this object but your role may not do this.",
        404: "No such object, or it belongs to an organization you cannot see.",
        409: "The current state does not allow this.",
        412: "The release changed since you read it (If-Match is stale).",
        413: "The upload is too large.",
        422: "The Idempotency-Key was used for a different request.",
        428: "If-Match is required.",
    }
    return {code: OpenApiResponse(ErrorBody, description=text[code]) for code in codes}


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Retry-safe key: a repeated request returns the first response.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="The release's ETag as you last read it.",
)
