"""Reads of holds, sanctions and whistleblower reports, scoped to the acting user.

- holds: whoever may see the release sees its holds (a lab must know why it is stopped);
- sanctions: regulators all, a lab its own;
- whistleblower reports: regulators only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet

from govflow.accounts.access import is_regulator
from govflow.accounts.models import OrganizationKind
from govflow.accounts.selectors import user_organization
from govflow.oversight.models import (
    RegulatoryHold,
    Sanction,
    WhistleblowerMessage,
    WhistleblowerReport,
)
from govflow.oversight.rules import sanction_forbids
from govflow.releases.selectors import releases_visible_to


def holds_visible_to(user) -> QuerySet[RegulatoryHold]:
    return RegulatoryHold.objects.filter(release__in=releases_visible_to(user)).select_related(
        "release", "release__organization", "placed_by", "lifted_by"
    )


def standing_hold(release_id: int) -> RegulatoryHold | None:
    return RegulatoryHold.objects.filter(release_id=release_id, lifted_at__isnull=True).first()


def standing_holds(release_ids: Iterable[int]) -> dict[int, RegulatoryHold]:
    """The standing hold of each release that has one, in one query."""
    rows = RegulatoryHold.objects.filter(release_id__in=list(release_ids),
                                         lifted_at__isnull=True)
    return {hold.release_id: hold for hold in rows}


def sanctions_visible_to(user) -> QuerySet[Sanction]:
    qs = Sanction.objects.select_related("lab", "imposed_by", "lifted_by")
    org = user_organization(user)
    if org is None:
        return qs.none()
    if org.kind == OrganizationKind.REGULATOR:
        return qs
    if org.kind == OrganizationKind.LAB:
        return qs.filter(lab=org)
    return qs.none()


def sanctions_in_force(*, lab_id: int, now: datetime) -> list[Sanction]:
    return list(Sanction.objects.filter(lab_id=lab_id, lifted_at__isnull=True, until__gt=now)
                .order_by("id"))


def sanction_applies(sanction: Sanction, *, stage_names: list[str], target: str,
                     training_compute_flop: float | None) -> bool:
    """Whether ``sanction`` forbids entering ``target`` (the rule: oversight.rules)."""
    return sanction_forbids(stage=sanction.stage,
                            min_training_compute_flop=sanction.min_training_compute_flop,
                            stage_names=stage_names, target=target,
                            training_compute_flop=training_compute_flop)


def reports_visible_to(user) -> QuerySet[WhistleblowerReport]:
    if not is_regulator(user):
        return WhistleblowerReport.objects.none()
    return WhistleblowerReport.objects.all()


def report_messages(report: WhistleblowerReport) -> QuerySet[WhistleblowerMessage]:
    return report.messages.select_related("author").order_by("id")
