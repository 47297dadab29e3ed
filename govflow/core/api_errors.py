"""Every error under /api/ is the API's JSON error shape, whatever produced it.

DRF views answer through `govflow.core.api.exception_handler`; this middleware catches
the rest: Django's own 404 for an unmatched path (or `/api/releases/abc`), its 400 for a
SuspiciousOperation, its 500 for an unhandled exception (technical HTML pages in DEBUG),
405s and 413s from anything outside DRF. The original headers are kept (Allow,
Retry-After, Vary) apart from the body's own.
"""

from __future__ import annotations

from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse

from govflow.core.inputgate import API_PREFIX, is_json

_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
}
_BODY_HEADERS = {"content-type", "content-length", "content-encoding", "content-disposition"}


def json_error(status: int) -> dict[str, str]:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return {"error": _CODES.get(status, "error"), "message": f"{phrase}."}


class ApiJsonErrors:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path_info.startswith(API_PREFIX)
            or getattr(response, "streaming", False)
            or is_json(response.get("Content-Type", ""))
        ):
            return response
        replacement = JsonResponse(json_error(response.status_code),
                                   status=response.status_code)
        for name, value in response.items():
            if name.lower() not in _BODY_HEADERS:
                replacement[name] = value
        return replacement
