"""``Idempotency-Key`` support for mutating API endpoints.

Semantics follow the IETF httpapi idempotency-key draft: a retried request with the
same key and the same body gets the first response again and changes nothing; the
same key with a different body is refused with 422. The record is written inside the
view's transaction, so when the change rolls back, so does the record, and a retry
simply runs again.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

from django.db import IntegrityError, transaction
from rest_framework import status
from rest_framework.response import Response

from govflow.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
_REPLAYED_HEADERS = ("ETag", "Location")


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.get_full_path().encode())
    digest.update(b"\0")
    if request.content_type.startswith("multipart/"):
        # Uploads can exceed what Django keeps in memory as request.body, and the
        # multipart boundary differs between retries; hash the parsed parts instead.
        for name, value in sorted(request.POST.items()):
            digest.update(f"{name}={value}\0".encode())
        for name, upload in sorted(request.FILES.items()):
            digest.update(f"{name}:{upload.name}:".encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    else:
        digest.update(request._request.body)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.body, status=record.status_code)
    for name, value in record.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def _conflict(message: str, code: int) -> Response:
    return Response({"error": "idempotency_key_reused", "message": message}, status=code)


def idempotent(handler: Callable) -> Callable:
    """Decorate an APIView's ``post`` so that it honours ``Idempotency-Key``."""

    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(self, request, *args, **kwargs)
        if not 1 <= len(key) <= 255:
            return Response(
                {"error": "invalid", "message": f"{HEADER} must be 1 to 255 characters"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        fingerprint = _fingerprint(request)
        existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        if existing is not None:
            if existing.fingerprint != fingerprint:
                return _conflict(
                    f"{HEADER} {key!r} was used for a different request",
                    status.HTTP_422_UNPROCESSABLE_ENTITY,
                )
            return _replay(existing)
        try:
            with transaction.atomic():
                response = handler(self, request, *args, **kwargs)
                if response.status_code >= 400:
                    # Nothing was changed, so there is nothing to remember: a retry
                    # may succeed once the state allows it.
                    return response
                IdempotencyRecord.objects.create(
                    user=request.user,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=response.status_code,
                    body=response.data,
                    headers={h: response[h] for h in _REPLAYED_HEADERS if h in response},
                )
                return response
        except IntegrityError:
            # The same key committed concurrently by a parallel retry; our work was
            # rolled back with this transaction. Answer as that request did.
            existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
            if existing is None:
                raise
            if existing.fingerprint != fingerprint:
                return _conflict(
                    f"{HEADER} {key!r} was used for a different request",
                    status.HTTP_422_UNPROCESSABLE_ENTITY,
                )
            return _replay(existing)

    return wrapper
