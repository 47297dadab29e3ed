"""`GET /api/access/check?release=…&customer=…` (or `&auditor=…`): allow or deny, with why.

The serving gateway calls this on every session, so it is a plain Django view rather
than a DRF one: no content negotiation, no serializer, a bearer token remembered for a
few seconds (govflow.rollout.tokens) and, for customers, one cache round trip on a hit
(govflow.rollout.cache). `AccessCheck` below is the same endpoint as DRF sees it, so the
OpenAPI schema documents it like every other; requests never go through it.

Who may ask: the lab that owns the release (any of its people or service accounts) and
regulators. Anyone else gets 404, as for every other object of another organization.
"""

from __future__ import annotations

import re

from django.http import JsonResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.views import APIView

from govflow.accounts.models import OrganizationKind
from govflow.core.schema import errors
from govflow.releases.models import Release
from govflow.rollout import cache
from govflow.rollout.decisions import decide_auditor, decide_customer
from govflow.rollout.tokens import Caller, TokenRefused, caller_for

EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")
USERNAME = re.compile(r"^[\w.@+-]{1,150}$")


def _json(body: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    # Set here: the middleware shortcut skips CommonMiddleware, which would set it, and a
    # gateway on a keep-alive connection should not have to read a chunked body.
    response["Content-Length"] = str(len(response.content))
    return response


def _error(status: int, code: str, message: str, fields=None) -> JsonResponse:
    body = {"error": code, "message": message}
    if fields:
        body["fields"] = fields
    response = _json(body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


def _invalid(path: str, message: str) -> JsonResponse:
    return _error(400, "invalid", "The request has invalid fields.",
                  [{"path": path, "message": message}])


def _may_ask(caller: Caller, organization_id: int) -> bool:
    return (caller.organization_kind == OrganizationKind.REGULATOR
            or caller.organization_id == organization_id)


def _answer(allow: bool, reason: str, release_id: int, stage: str, subject: tuple[str, str],
            cached: bool) -> JsonResponse:
    return _json({"allow": allow, "reason": reason, "release": release_id, "stage": stage,
                  subject[0]: subject[1], "cached": cached})


def _release(release_id: int) -> Release | None:
    return (Release.objects.select_related("policy")
            .only("id", "organization_id", "stage", "status", "policy__digest",
                  "policy__source")
            .filter(pk=release_id).first())


def access_check(request):
    if request.method != "GET":
        return _error(405, "method_not_allowed", f'Method "{request.method}" not allowed.')
    header = request.headers.get("Authorization", "")
    try:
        # Refuse a bad token before looking at anything else (401 before 400); the
        # caller is confirmed against the credentials generation once that is known.
        caller_for(header)
    except TokenRefused as exc:
        return _error(401, "not_authenticated", str(exc))
    raw_release = request.GET.get("release", "")
    if not (raw_release.isascii() and raw_release.isdigit()) or not 0 < int(raw_release) < 2**63:
        return _invalid("release", "a release id is required")
    release_id = int(raw_release)
    customer, auditor = request.GET.get("customer"), request.GET.get("auditor")
    if (customer is None) == (auditor is None):
        return _invalid("customer", "give either customer (an external id) or auditor")
    if auditor is not None:
        if not USERNAME.match(auditor):
            return _invalid("auditor", "must be a username")
        return _check_auditor(header, release_id, auditor)
    if not EXTERNAL_ID.match(customer):
        return _invalid("customer", "must be 1-128 of letters, digits and . _ : @ -")
    return _check_customer(header, release_id, customer)


def _confirmed(header: str, generation: str | None) -> Caller | JsonResponse:
    """The caller again, now that the credentials generation is known: a token revoked
    since this process remembered it is refused here (see govflow.rollout.tokens)."""
    try:
        return caller_for(header, generation=generation)
    except TokenRefused as exc:
        return _error(401, "not_authenticated", str(exc))


def _check_customer(header: str, release_id: int, external_id: str) -> JsonResponse:
    subject = ("customer", external_id)
    hit, tokens = cache.lookup(release_id, external_id)
    caller = _confirmed(header, tokens.credentials if tokens is not None else None)
    if isinstance(caller, JsonResponse):
        return caller
    if hit is not None:
        if not _may_ask(caller, hit.organization_id):
            return _error(404, "not_found", "Not found.")
        return _answer(hit.allow, hit.reason, release_id, hit.stage, subject, True)
    release = _release(release_id)
    if release is None or not _may_ask(caller, release.organization_id):
        return _error(404, "not_found", "Not found.")
    decision = decide_customer(release, external_id, now=timezone.now())
    if tokens is not None:
        cache.store(release_id, external_id, cache.CachedDecision(
            allow=decision.allow, reason=decision.reason,
            organization_id=release.organization_id, stage=release.stage,
            until=decision.until.timestamp() if decision.until else None,
            release_token=tokens.release, customer_token=tokens.customer,
        ))
    return _answer(decision.allow, decision.reason, release_id, release.stage, subject, False)


def _check_auditor(header: str, release_id: int, username: str) -> JsonResponse:
    caller = _confirmed(header, cache.credentials_generation())
    if isinstance(caller, JsonResponse):
        return caller
    # Not cached: grants are few, and the regulator may end one (or suspend the
    # certificate behind it) at any moment from another area of the code.
    release = _release(release_id)
    if release is None or not _may_ask(caller, release.organization_id):
        return _error(404, "not_found", "Not found.")
    decision = decide_auditor(release, username, now=timezone.now())
    return _answer(decision.allow, decision.reason, release_id, release.stage,
                   ("auditor", username), False)


class AccessCheck(APIView):
    """Schema twin of `access_check` (see the module docstring)."""

    @extend_schema(
        operation_id="access_check",
        parameters=[
            OpenApiParameter("release", int, required=True),
            OpenApiParameter("customer", str, description="the lab's external customer id"),
            OpenApiParameter("auditor", str, description="an assigned auditor's username "
                                                         "(instead of customer)"),
        ],
        responses={200: inline_serializer("AccessDecision", fields={
            "allow": serializers.BooleanField(),
            "reason": serializers.CharField(),
            "release": serializers.IntegerField(),
            "stage": serializers.CharField(),
            "customer": serializers.CharField(required=False),
            "auditor": serializers.CharField(required=False),
            "cached": serializers.BooleanField(help_text="answered from the cache"),
        }), **errors(400, 401, 404)},
    )
    def get(self, request):
        """May this customer (or auditor) use the release's system now? For the lab's
        serving gateway, on every session: answers within a second of a pause, a removal
        or a KYC expiry."""
        return access_check(request._request)


# Route to the plain view, but let the schema generator find the DRF twin.
access_check.cls = AccessCheck  # type: ignore[attr-defined]  # read by drf-spectacular
access_check.initkwargs = {}  # type: ignore[attr-defined]
