"""OpenAPI pieces shared by every endpoint: the error body and common responses."""

from __future__ import annotations

import copy

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


# Writes that record no audit event, so their answers carry no receipt: telemetry, not
# governed changes (monitoring.services.sources.source_heartbeat).
NO_RECEIPT = {("post", "/api/monitoring-sources/{id}/heartbeat")}
RECEIPT_COMPONENT = "#/components/schemas/Receipt"  # govflow.audit.api.ReceiptOut
_WRITES = {"post", "put", "patch", "delete"}


def add_receipts(result, generator, request, public):  # noqa: ARG001 (spectacular's hook)
    """Postprocessing hook: document the ``receipt`` that govflow.audit.receipts'
    middleware adds to the answer of every /api/ write that records an audit event.

    The middleware adds it after the view, so no view's serializer can declare it; this
    declares it once for all of them, as the same ``Receipt`` component that ``GET
    /api/log/events/{id}/receipt`` answers with. A response component is shared with the
    reads that return it (a release, a sign-off), so it is extended with ``allOf`` per
    write, never changed in place."""
    if "Receipt" not in result.get("components", {}).get("schemas", {}):
        raise RuntimeError("the Receipt component is missing: the receipts schema would "
                           "point nowhere (govflow.audit.api.EventReceipt documents it)")
    addition = {
        "type": "object",
        "properties": {
            "receipt": {"allOf": [{"$ref": RECEIPT_COMPONENT}], "description": (
                "Present when this request recorded an audit event: keep it, and prove "
                "later that the log still holds the event (`client receipts verify`).")},
            "receipts": {"type": "array", "items": {"$ref": RECEIPT_COMPONENT},
                         "description": "Every event's receipt, when the request recorded "
                                        "more than one; `receipt` is the last."},
        },
    }
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            if method not in _WRITES or (method, path) in NO_RECEIPT:
                continue
            for code, response in operation.get("responses", {}).items():
                if not str(code).startswith("2"):
                    continue
                content = response.get("content", {}).get("application/json")
                if content is None or "schema" not in content:
                    continue
                content["schema"] = {"allOf": [content["schema"], copy.deepcopy(addition)]}
    return result
