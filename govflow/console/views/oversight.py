"""Regulator actions: the overview, signing a statement, and signing keys."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from govflow.console.actions import ACTIONS, action_named
from govflow.console.overview import oversight_overview, own_keys
from govflow.console.signing import prepare, read_envelope
from govflow.console.views.base import page, refusal
from govflow.core.errors import DomainError, ValidationFailed
from govflow.keys.access import access_key_holder
from govflow.keys.services import key_register
from govflow.oversight.access import access_regulator


@login_required
def overview(request):
    try:
        access_regulator(request.user)
    except DomainError as exc:
        return refusal(request, exc)
    return page(request, "oversight.html", {**oversight_overview(request.user),
                                            "actions": ACTIONS})


@login_required
@require_http_methods(["GET", "POST"])
def sign(request, action: str):
    """GET: the statement to sign for ``action``; POST: record the signed envelope."""
    chosen = action_named(action)
    if request.method == "GET":
        try:
            statement, hidden = chosen.prepare(request.user, request.GET)
        except DomainError as exc:
            return refusal(request, exc, context={"action": chosen})
        return page(request, "sign.html", {"action": chosen, "hidden": hidden,
                                           **prepare(statement)})
    upload = request.FILES.get("envelope_file")
    envelope = read_envelope(upload.read() if upload else request.POST.get("envelope"))
    try:
        if not isinstance(envelope, dict):
            raise ValidationFailed("paste or upload the signed envelope (JSON)",
                                   detail={"rule": "malformed_envelope"})
        message, target = chosen.submit(request.user, envelope, request.POST)
    except DomainError as exc:
        return refusal(request, exc, context={"action": chosen})
    messages.success(request, message)
    return redirect(target)


@login_required
@require_http_methods(["GET", "POST"])
def keys(request):
    if request.method == "POST":
        try:
            access_key_holder(request.user)
            key = key_register(user=request.user,
                               public_key=request.POST.get("public_key", ""),
                               name=request.POST.get("name", "") or "browser key")
        except DomainError as exc:
            return refusal(request, exc, context={"keys": own_keys(request.user)})
        messages.success(request, f"Key {key.key_id[:16]}… registered.")
        return redirect("console:keys")
    return page(request, "keys.html", {"keys": own_keys(request.user)})
