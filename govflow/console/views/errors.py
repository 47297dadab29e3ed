"""Refusals and missing pages outside the API, as console pages.

Django's handler404/handler403 are used only when DEBUG is off; with DEBUG on, a 404
becomes the technical page that lists every URL pattern, which a demo server (DEBUG on
by default) would show to anyone. So a middleware also replaces a 403/404 that no view
rendered itself with the console page, whatever DEBUG says. Paths under /api/ are left
to the API, which answers errors in JSON.
"""

from __future__ import annotations

from django.http import JsonResponse

from govflow.console.views.base import page

API_PREFIX = "/api/"
MESSAGES = {
    403: ("Not allowed", "You are signed in, but this page is not open to your role."),
    404: ("Not found", "There is no such page, or it belongs to an organization whose "
                       "records you may not see."),
}


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def error_page(request, status: int):
    if _is_api(request):
        code = "not_found" if status == 404 else "permission_denied"
        return JsonResponse({"error": code, "message": MESSAGES[status][0] + "."},
                            status=status)
    title, message = MESSAGES[status]
    response = page(request, "error.html", {"status": status, "title": title,
                                            "message": message}, status=status)
    response.console_error_page = True
    return response


def handler404(request, exception=None):
    return error_page(request, 404)


def handler403(request, exception=None):
    return error_page(request, 403)


class ConsoleErrorPages:
    """Swap a bare 403/404 (Django's own, or the DEBUG technical page) outside /api/ for
    the console's page. A view that rendered its own refusal (a console template, a file
    download, a JSON answer) is kept: only Django's plain HTML pages are replaced."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (response.status_code in MESSAGES and not _is_api(request)
                and not getattr(response, "console_error_page", False)
                and not getattr(response, "console_page", False)
                and response.get("Content-Type", "").startswith("text/html")
                and not response.streaming):
            return error_page(request, response.status_code)
        return response
