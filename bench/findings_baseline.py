"""The stripped baseline of bench/findings_throughput.py: what filing a signed finding
costs with no governance logic at all, on the same gunicorn, middleware and database.

POST /bench/baseline {"envelope": …}: the bearer token is checked (govflow's own
authentication class), the JSON parsed, the DSSE Ed25519 signature verified against the
caller's registered keys, and one audit event appended in one transaction. Nothing else:
no idempotency record, no statement parsing, no access check, no engagement, no nonce,
no finding row. Mounted only by bench/findings_baseline_settings.py, never by govflow.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.keys.models import SigningKey
from govflow.trust import dsse
from govflow.trust.keys import parse_public_key


class Baseline(APIView):
    def post(self, request):
        envelope = request.data["envelope"]
        keys = {k.key_id: k for k in SigningKey.objects.filter(user=request.user)}
        try:
            verified = dsse.verify_envelope(
                envelope, {i: parse_public_key(k.public_key) for i, k in keys.items()})
        except dsse.EnvelopeError as exc:
            return Response({"error": str(exc)}, status=400)
        with transaction.atomic():
            audit_append(event_type=EventType.FINDING_FILED, actor=request.user,
                         subject=keys[verified.keyid], payload={"baseline": True,
                                                                "envelope": envelope})
        return Response({"ok": True}, status=201)


urlpatterns = [
    path("bench/baseline", Baseline.as_view()),
    path("", include("govflow.urls")),
]
