"""The input gate: one check in front of every request (API, console, webhooks, the
public whistleblower form), and the JSON parser the API uses behind it.

What it refuses, before any view runs:
- headers past their limits (`MAX_HEADER_FIELDS`, `MAX_HEADER_VALUE_BYTES`,
  `MAX_HEADER_BYTES`): 431; a header value with a control character or a character
  outside latin-1, a header govflow reads (`READ_HEADERS`) with anything but visible
  ASCII, a malformed Idempotency-Key: 400 naming the header;
- a body larger than its route allows, from the declared Content-Length and before a
  byte of it is read: 413 (uploads have their own limits, `body_limit`);
- a control character (`govflow.core.boundedjson`) in the path, a query parameter, a
  form field, or anywhere in a JSON body: 400 naming the field;
- a JSON body nested deeper than ``MAX_JSON_DEPTH``: 400, counted on the raw bytes.

The JSON body is parsed once, here; `JSONParser` hands DRF that same value, so the API
pays for one parse. Anything else that reads JSON from a request (the KYC webhook, a DSSE
payload after base64 decoding, an envelope pasted into the console) calls
`boundedjson.parse_json`, the same helper.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, parsers

from govflow.core import idempotency
from govflow.core.boundedjson import InputRefused, check_text, parse_json

API_PREFIX = "/api/"
# Room for the multipart framing (boundaries, part headers, the small fields) around an
# upload whose own size limit is a setting.
MULTIPART_ALLOWANCE = 64 * 1024

_UNSET = object()
_ATTR = "_govflow_json"

# Header limits. gunicorn enforces its own in front (deploy/gunicorn.conf.py, the same
# numbers); these hold for any server in front of the app and for the test client.
# A browser sends about 15 headers and a proxy adds a few; a session cookie, a CSRF cookie
# and a bearer token are each under 200 bytes.
MAX_HEADER_FIELDS = 64
MAX_HEADER_VALUE_BYTES = 8190  # gunicorn's limit_request_field_size
MAX_HEADER_BYTES = 32 * 1024   # all names and values together
# The headers govflow (or Django, DRF, axes for it) reads: their grammars are ASCII
# (tokens, URLs, entity tags, digests, numbers), so anything else in them is an attack on
# a parser, not a value. The two X-KYC ones are the KYC webhook's
# (govflow.rollout.providers.hmac_webhook; a test keeps the names in step). Cookie is
# not among them: a site on a parent domain may set a cookie with UTF-8 in it, which the
# browser then sends here too, and refusing it would lock those users out; Django's
# cookie parser takes latin-1 text, and the general rule below still applies to it.
READ_HEADERS = frozenset({
    "HTTP_AUTHORIZATION", "HTTP_HOST", "HTTP_ORIGIN", "HTTP_REFERER",
    "HTTP_IF_MATCH", "HTTP_IDEMPOTENCY_KEY", "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_KYC_TIMESTAMP",
    "HTTP_X_KYC_SIGNATURE", "CONTENT_TYPE", "CONTENT_LENGTH",
})
# RFC 9110 §5.5: a field value is visible characters, spaces, tabs and obs-text (bytes
# 0x80-0xFF, which WSGI hands over as latin-1); no other control character. A character
# past U+00FF cannot come off the wire at all (WSGI decodes header bytes as latin-1),
# only from a caller building the request in-process, and DRF's header decoding then
# raises: refused, rather than a 500.
_BAD_IN_ANY = re.compile("[\x00-\x08\x0a-\x1f\x7f\u0100-\U0010ffff]")
_BAD_IN_READ = re.compile("[^\t\x20-\x7e]")


# Routes that take uploads, with the setting that bounds the upload; every other route
# takes at most DATA_UPLOAD_MAX_MEMORY_SIZE. Read per request, so a changed setting (a
# test's) applies at once.
_UPLOAD_ROUTES = [
    (re.compile(r"^/api/releases/\d+/evidence$"), "GOVFLOW_MAX_EVIDENCE_BYTES"),
    (re.compile(r"^/api/releases/\d+/finding-attachments$"),
     "GOVFLOW_MAX_FINDING_ATTACHMENT_BYTES"),
]


def body_limit(path: str) -> int:
    if path.startswith(API_PREFIX):
        for pattern, setting in _UPLOAD_ROUTES:
            if pattern.match(path):
                return getattr(settings, setting) + MULTIPART_ALLOWANCE
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def refused(request: HttpRequest, status: int, code: str, message: str,
            fields: list[dict[str, str]] | None = None) -> HttpResponse:
    """The refusal in the API's JSON error shape under /api/, as plain text elsewhere
    (a console form or the whistleblower page shows it as it is)."""
    if request.path_info.startswith(API_PREFIX):
        body: dict[str, Any] = {"error": code, "message": message}
        if fields:
            body["fields"] = fields
        return JsonResponse(body, status=status)
    lines = [message, *(f"{f['path']}: {f['message']}" for f in fields or [])]
    return HttpResponse("\n".join(lines) + "\n", status=status,
                        content_type="text/plain; charset=utf-8")


def too_large(request: HttpRequest, size: int | None, limit: int | None) -> HttpResponse:
    seen = f" ({size} bytes)" if size is not None else ""
    most = f"; at most {limit} bytes are accepted here" if limit is not None else ""
    return refused(request, 413, "too_large", f"the request is too large{seen}{most}")


def header_name(meta_key: str) -> str:
    """``HTTP_IDEMPOTENCY_KEY`` → ``Idempotency-Key``, as people write it."""
    name = meta_key[5:] if meta_key.startswith("HTTP_") else meta_key
    return "-".join(part.capitalize() for part in name.split("_"))


def _header_refused(request: HttpRequest, key: str, message: str) -> HttpResponse:
    return refused(request, 400, "invalid", "The request has invalid fields.",
                   [{"path": header_name(key), "message": message}])


def _why(code: int) -> str:
    if code > 0xFF:
        return f"contains U+{code:04X}, a character outside latin-1"
    if code < 0x20 or code == 0x7F:
        return f"contains the control character U+{code:04X}"
    return f"contains U+{code:04X}; this header is ASCII"


def check_headers(request: HttpRequest) -> HttpResponse | None:
    """Header count, sizes and characters (see the module's docstring), before anything
    parses a header: DRF's token reading, Django's cookie and CSRF parsing, axes."""
    count = total = 0
    for key, value in request.META.items():
        if not (key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")):
            continue  # the server's own variables (REMOTE_ADDR, wsgi.input, …)
        if not isinstance(value, str):
            return _header_refused(request, key, "is not text")
        count += 1
        size = len(value)
        total += len(key) + size
        if size > MAX_HEADER_VALUE_BYTES:
            return refused(request, 431, "too_large",
                           f"the {header_name(key)} header is too large ({size} bytes; at "
                           f"most {MAX_HEADER_VALUE_BYTES})",
                           [{"path": header_name(key), "message": "too large"}])
        found = (_BAD_IN_READ if key in READ_HEADERS else _BAD_IN_ANY).search(value)
        if found is not None:
            return _header_refused(request, key, _why(ord(found.group())))
    if count > MAX_HEADER_FIELDS:
        return refused(request, 431, "too_large",
                       f"the request has {count} header fields; at most {MAX_HEADER_FIELDS}")
    if total > MAX_HEADER_BYTES:
        return refused(request, 431, "too_large",
                       f"the request's headers are too large ({total} bytes; at most "
                       f"{MAX_HEADER_BYTES})")
    key = request.META.get("HTTP_IDEMPOTENCY_KEY")
    if key is not None and not idempotency.valid_key(key):
        return _header_refused(request, "HTTP_IDEMPOTENCY_KEY", idempotency.KEY_RULE)
    return None


class InputGate:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self.check(request)
        if refusal is not None:
            return refusal
        return self.get_response(request)

    def check(self, request: HttpRequest) -> HttpResponse | None:
        refusal = check_headers(request)
        if refusal is not None:
            return refusal
        try:
            check_text(request.path, "path")
            if request.META.get("QUERY_STRING"):
                for name, values in request.GET.lists():
                    check_text(name, name)
                    for value in values:
                        check_text(value, name)
            declared = request.META.get("CONTENT_LENGTH") or "0"
            if not declared.isdigit():
                return refused(request, 400, "invalid", "Content-Length is not a number")
            size, limit = int(declared), body_limit(request.path_info)
            if size > limit:
                return too_large(request, size, limit)
            if size:
                self.check_body(request)
        except InputRefused as exc:
            return refused(request, 400, "invalid", "The request has invalid fields.",
                           [{"path": exc.path or "body", "message": exc.message}])
        except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent) as exc:
            # Django's own caps (DATA_UPLOAD_MAX_*), met while parsing a form.
            return refused(request, 413, "too_large", str(exc))
        return None

    def check_body(self, request: HttpRequest) -> None:
        content_type = request.content_type or ""
        if is_json(content_type):
            try:
                setattr(request, _ATTR, parse_json(request.body))
            except InputRefused:
                raise
            except ValueError:
                pass  # not JSON at all: the parser behind reports it as it always has
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            if body_limit(request.path_info) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                # Not an upload route: keep the raw bytes (the body is small, capped above),
                # so a view that reads request.body after the form was parsed (the KYC
                # webhook, an idempotency fingerprint) still can.
                request.body  # noqa: B018 (read for its side effect)
            for name, values in request.POST.lists():
                check_text(name, name)
                for value in values:
                    check_text(value, name)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser behind the gate: the value the gate parsed, or (a request that
    did not pass through the middleware, e.g. RequestFactory in a test) the same checks."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        django_request = getattr(request, "_request", None)
        value = getattr(django_request, _ATTR, _UNSET)
        if value is not _UNSET:
            return value
        raw = stream.read() if stream is not None else b""
        try:
            return parse_json(raw)
        except InputRefused as exc:
            raise exceptions.ValidationError({exc.path or "body": [exc.message]}) from exc
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
