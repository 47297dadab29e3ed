"""Authorisation for oversight: regulators act (else 403); what a user cannot see is a
404, as everywhere."""

from __future__ import annotations

from govflow.accounts.access import require_regulator, visible_or_404
from govflow.oversight.models import RegulatoryHold, Sanction, WhistleblowerReport
from govflow.oversight.selectors import (
    holds_visible_to,
    reports_visible_to,
    sanctions_visible_to,
)

# Kept under its old name: the oversight API and console call it.
access_regulator = require_regulator


def access_hold(user, pk: int, *, act: bool = False) -> RegulatoryHold:
    hold = visible_or_404(holds_visible_to(user), pk)
    if act:
        require_regulator(user)
    return hold


def access_sanction(user, pk: int, *, act: bool = False) -> Sanction:
    sanction = visible_or_404(sanctions_visible_to(user), pk)
    if act:
        require_regulator(user)
    return sanction


def access_report(user, pk: int) -> WhistleblowerReport:
    return visible_or_404(reports_visible_to(user), pk)
