"""The whistleblower channel: public pages (no login, nothing about the sender is read
or kept) and the regulators' inbox.

The public views never touch request.user, request.META or cookies beyond Django's
CSRF check, and their responses are not cached and send no referrer to other sites.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from govflow.console.views.base import page, refusal
from govflow.core.errors import DomainError
from govflow.oversight.access import access_regulator, access_report
from govflow.oversight.selectors import report_messages, reports_visible_to
from govflow.oversight.whistleblower import report_by_receipt, report_file, report_message_add


def _public(request, template: str, context: dict, status: int = 200):
    response = render(request, f"console/whistleblower/{template}", context, status=status)
    # same-origin: the channel's own forms still carry Origin (Django's CSRF check needs
    # it), but no page elsewhere learns the visitor came from here.
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def report(request):
    if request.method == "GET":
        return _public(request, "form.html", {})
    data = request.POST
    try:
        filed, code = report_file(body=data.get("body", ""), subject=data.get("subject", ""),
                                  concerning=data.get("concerning", ""))
    except DomainError as exc:
        return _public(request, "form.html", {"error": exc, "data": data},
                       status=exc.status_code)
    return _public(request, "receipt.html", {"code": code, "report": filed})


@never_cache
@require_http_methods(["GET", "POST"])
def receipt(request):
    """Read replies with the receipt code (sent in the body, never in the URL) and,
    optionally, write back."""
    if request.method == "GET":
        return _public(request, "lookup.html", {})
    code = request.POST.get("code", "")
    found = report_by_receipt(code)
    if found is None:
        return _public(request, "lookup.html", {"not_found": True}, status=404)
    error = None
    if request.POST.get("body"):
        try:
            report_message_add(report_id=found.pk, body=request.POST["body"])
        except DomainError as exc:
            error = exc
    return _public(request, "thread.html", {"report": found, "code": code, "error": error,
                                            "messages_": list(report_messages(found))})


@login_required
def inbox(request):
    try:
        access_regulator(request.user)
    except DomainError as exc:
        return refusal(request, exc)
    reports = list(reports_visible_to(request.user).order_by("-id")[:200])
    return page(request, "inbox.html", {"reports": reports})


@login_required
@require_http_methods(["GET", "POST"])
def inbox_report(request, pk: int):
    found = access_report(request.user, pk)
    if request.method == "POST":
        try:
            access_regulator(request.user)
            report_message_add(report_id=found.pk, body=request.POST.get("body", ""),
                               actor=request.user)
        except DomainError as exc:
            return refusal(request, exc)
        messages.success(request, "Reply sent: the reporter reads it with their receipt code.")
        return redirect("console:inbox-report", pk=found.pk)
    return page(request, "report.html", {"report": found,
                                         "messages_": list(report_messages(found))})
