"""What every console view shares: who is looking, and how a refusal is shown."""

from __future__ import annotations

from django.shortcuts import render

from govflow.accounts.access import is_regulator, roles_of
from govflow.accounts.selectors import user_organization
from govflow.core.errors import DomainError


def persona(request) -> dict:
    user = request.user
    org = user_organization(user)
    return {"org": org, "roles": roles_of(user), "is_regulator": is_regulator(user)}


def page(request, template: str, context: dict, status: int = 200):
    response = render(request, f"console/{template}", {**persona(request), **context},
                      status=status)
    response.console_page = True  # rendered by the console: an error page keeps its text
    return response


def refusal(request, exc: DomainError, template: str = "refused.html", context=None):
    """A refused action, as the API would say it: its status, message and rule."""
    return page(request, template, {**(context or {}), "error": exc,
                                    "rule": exc.detail.get("rule"),
                                    "fields": exc.detail.get("fields") or []},
                status=exc.status_code)
