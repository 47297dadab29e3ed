"""Authorisation for oversight: regulators act (else 403); what a user cannot see is a
404, as everywhere."""

from __future__ import annotations

from django.http import Http404

from govflow.accounts.models import Role
from govflow.accounts.selectors import user_roles
from govflow.core.errors import PermissionDenied
from govflow.oversight.models import RegulatoryHold, Sanction, WhistleblowerReport
from govflow.oversight.selectors import (
    holds_visible_to,
    reports_visible_to,
    sanctions_visible_to,
)


def access_regulator(user) -> None:
    if Role.REGULATOR not in user_roles(user):
        raise PermissionDenied("this is for regulators", detail={"rule": "role"})


def access_hold(user, pk: int, *, act: bool = False) -> RegulatoryHold:
    hold = holds_visible_to(user).filter(pk=pk).first()
    if hold is None:
        raise Http404
    if act:
        access_regulator(user)
    return hold


def access_sanction(user, pk: int, *, act: bool = False) -> Sanction:
    sanction = sanctions_visible_to(user).filter(pk=pk).first()
    if sanction is None:
        raise Http404
    if act:
        access_regulator(user)
    return sanction


def access_report(user, pk: int) -> WhistleblowerReport:
    report = reports_visible_to(user).filter(pk=pk).first()
    if report is None:
        raise Http404
    return report
