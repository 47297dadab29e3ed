"""The access check's short way through Django.

The serving gateway calls `GET /api/access/check` on every session, so this middleware,
right after SecurityMiddleware (HTTPS redirect and security headers still apply), answers
it at once: no URL resolution, no sessions, CSRF, messages or authentication middleware
(the view reads its own bearer token), none of which the endpoint uses. Every other
request goes on down the stack. The URL is routed to the same view too, so the endpoint
behaves the same should this middleware be left out.
"""

from __future__ import annotations

from govflow.rollout.api.check import access_check

PATH = "/api/access/check"


class AccessCheckShortcut:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == PATH:
            return access_check(request)
        return self.get_response(request)
