"""``Idempotency-Key`` support for mutating API endpoints.

Semantics follow the IETF httpapi idempotency-key draft: a retried request with the
same key and the same body gets the first response again, byte for byte, and changes
nothing; the same key with a different body is refused with 422.

The key is reserved before the work starts: the first request inserts its
`IdempotencyRecord` (no status yet) at the start of its own transaction and fills in
the response at the end, so record and change commit together or not at all. A
concurrent request with the same key blocks on that INSERT (the unique index holds it)
until the first one commits, then reads its response and replays it; if the first rolls
back (a refusal is not remembered), the waiter's INSERT goes through and it runs for
real. The wait is bounded (``GOVFLOW_IDEMPOTENCY_WAIT_MS``, PostgreSQL's lock_timeout):
past it the answer is 409 ``in_progress`` with Retry-After. On SQLite writers are
serialised at BEGIN (settings: IMMEDIATE), so a second request only starts after the
first committed and finds its record on the first read.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import status
from rest_framework.response import Response

from govflow.core.models import IdempotencyRecord
from govflow.core.rows import update_fields

HEADER = "Idempotency-Key"
_REPLAYED_HEADERS = ("ETag", "Location")
_LOCK_NOT_AVAILABLE = "55P03"


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


def _error(code: str, message: str, status_code: int) -> Response:
    return Response({"error": code, "message": message}, status=status_code)


def _replay(record: IdempotencyRecord, key: str, fingerprint: str) -> HttpResponse:
    if record.fingerprint != fingerprint:
        return _error("idempotency_key_reused", f"{HEADER} {key!r} was used for a different "
                      "request", status.HTTP_422_UNPROCESSABLE_ENTITY)
    response = HttpResponse(bytes(record.content or b""), status=record.status_code,
                            content_type=record.content_type or "application/json")
    for name, value in record.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def _completed(user, key: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(user=user, key=key).first()


@contextmanager
def _bounded_lock_wait() -> Iterator[None]:
    """PostgreSQL: wait at most GOVFLOW_IDEMPOTENCY_WAIT_MS for a row lock inside the
    block, then restore the session's own lock_timeout (both transaction-local)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, "
                       "true)", [f"{settings.GOVFLOW_IDEMPOTENCY_WAIT_MS}ms"])
        previous = cursor.fetchone()[0]
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def _is_lock_timeout(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) == _LOCK_NOT_AVAILABLE


def _in_progress(key: str) -> Response:
    wait = settings.GOVFLOW_IDEMPOTENCY_WAIT_MS
    response = _error("in_progress", f"a request with {HEADER} {key!r} is still being "
                      f"processed after {wait} ms; retry later", status.HTTP_409_CONFLICT)
    response["Retry-After"] = str(max(1, math.ceil(wait / 1000)))
    return response


def _reserve(user, key: str, fingerprint: str) -> IdempotencyRecord | HttpResponse:
    """The reservation made by this request, or the response to send instead."""
    if connection.vendor == "postgresql":
        try:
            reserved = _reserve_in_one_statement(user, key, fingerprint)
        except OperationalError as exc:
            if not _is_lock_timeout(exc):
                raise
            # No savepoint here: the failed statement aborted the transaction, which
            # must end in a rollback (nothing was written).
            transaction.set_rollback(True)
            return _in_progress(key)
        if reserved is not None:
            return reserved
    existing = _completed(user, key)
    if existing is not None:
        return _replay(existing, key, fingerprint)
    try:
        # A savepoint: a refused INSERT leaves the request's transaction usable.
        with transaction.atomic(), _bounded_lock_wait():
            return IdempotencyRecord.objects.create(user=user, key=key, fingerprint=fingerprint)
    except IntegrityError:
        # The first request with this key committed while we waited on its INSERT.
        existing = _completed(user, key)
        if existing is None:
            raise
        return _replay(existing, key, fingerprint)
    except OperationalError as exc:
        if not _is_lock_timeout(exc):
            raise
        return _in_progress(key)


def _reserve_in_one_statement(user, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """PostgreSQL: the reservation as one INSERT … ON CONFLICT DO NOTHING whose lock wait
    is bounded, plus the statement that lifts the bound again; None when a record with
    this key was there (committed, or committed while we waited): the caller replays it.

    The bound is set in the same statement, before the insert can wait: the CTE holding
    ``set_config`` is volatile, so PostgreSQL evaluates it once, first, and the INSERT
    takes its row from it. A concurrent first request holds its uncommitted row; our
    INSERT waits for it (at most GOVFLOW_IDEMPOTENCY_WAIT_MS, then 55P03) and, once it
    commits, inserts nothing; if it rolled back, ours goes in. No unique violation can be
    raised, so no savepoint is needed: this costs two round trips where the general path
    below costs six (read, savepoint, bound, insert, unbound, release)."""
    table = connection.ops.quote_name(IdempotencyRecord._meta.db_table)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH bounded AS MATERIALIZED (SELECT current_setting('lock_timeout') AS previous, "
            "set_config('lock_timeout', %s, true) AS bound), "
            f"reserved AS (INSERT INTO {table} (user_id, key, fingerprint, content_type, "
            "headers, created_at) SELECT %s, %s, %s, '', '{}'::jsonb, %s FROM bounded "
            "ON CONFLICT (user_id, key) DO NOTHING RETURNING id) "
            "SELECT (SELECT id FROM reserved), previous FROM bounded",
            [f"{settings.GOVFLOW_IDEMPOTENCY_WAIT_MS}ms", user.pk, key, fingerprint, now])
        record_id, previous = cursor.fetchone()
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    if record_id is None:
        return None
    record = IdempotencyRecord(pk=record_id, user=user, key=key, fingerprint=fingerprint,
                               created_at=now)
    record._state.adding = False
    record._state.db = connection.alias
    return record


KEY_RULE = "must be 1 to 255 printable ASCII characters, not starting or ending with a space"


def valid_key(key: str) -> bool:
    """The key's format (the input gate checks it on every request that sends one)."""
    # Surrounding spaces would be stripped by some proxies and not by others.
    return 1 <= len(key) <= 255 and key.isascii() and key.isprintable() and key.strip() == key


def idempotent(handler: Callable) -> Callable:
    """Decorate an APIView's ``post`` so that it honours ``Idempotency-Key``."""

    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(self, request, *args, **kwargs)
        if not valid_key(key):
            # An empty key would otherwise collide for every request that sends one. (The
            # input gate refuses it first; this covers a request that did not pass it.)
            return Response(
                {"error": "invalid", "message": "The request has invalid fields.",
                 "fields": [{"path": HEADER, "message": KEY_RULE}]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            reserved = _reserve(request.user, key, fingerprint)
            if not isinstance(reserved, IdempotencyRecord):
                return reserved
            response = handler(self, request, *args, **kwargs)
            if response.status_code >= 400:
                # Nothing was changed, so there is nothing to remember (the reservation
                # goes too): a retry may succeed once the state allows it.
                transaction.set_rollback(True)
                return response
            # The receipt goes into the stored bytes too; imported here because the audit
            # app builds on core, not the other way round.
            from govflow.audit.receipts import attach_recorded

            attach_recorded(response)
            # Rendered here, as the client will receive it, so a replay is these bytes.
            response = self.finalize_response(request, response, *args, **kwargs)
            response.render()
            reserved.status_code = response.status_code
            reserved.body = response.data
            reserved.content = response.content
            reserved.content_type = response.get("Content-Type", "")
            reserved.headers = {h: response[h] for h in _REPLAYED_HEADERS if h in response}
            # As save(update_fields=…), without compiling an ORM query on every write.
            update_fields(reserved, ["status_code", "body", "content", "content_type",
                                     "headers"])
            return response

    return wrapper
