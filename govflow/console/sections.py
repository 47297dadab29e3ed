"""Page sections that read other areas' selectors when those areas are installed.

The console depends on no optional area: findings (govflow.auditing), eval runs
(govflow.evalruns) and incidents (govflow.monitoring) appear when their app is in
INSTALLED_APPS, through that app's own scoped selectors and rules, and the section says
"not installed" otherwise.
"""

from __future__ import annotations

from collections import Counter
from importlib import import_module
from typing import Any

from django.apps import apps


def installed(app: str) -> bool:
    return apps.is_installed(f"govflow.{app}")


def _module(app: str, name: str):
    if not installed(app):
        return None
    try:
        return import_module(f"govflow.{app}.{name}")
    except ImportError:
        return None


# --- findings (govflow.auditing) ---------------------------------------------------------


def open_findings_by_release(user, release_ids: list[int]) -> dict[int, int] | None:
    """Unclosed findings per release (auditing's own rule of "closed"), one query."""
    selectors, models = _module("auditing", "selectors"), _module("auditing", "models")
    if selectors is None or models is None:
        return None
    rows = (selectors.findings_visible_to(user).filter(release_id__in=release_ids)
            .values_list("release_id", "current_status"))
    return dict(Counter(rid for rid, status in rows if status not in models.CLOSED_STATUSES))


def findings_of(user, release) -> list[Any] | None:
    """The release's findings you may see, each with its statements (its timeline)."""
    selectors = _module("auditing", "selectors")
    if selectors is None:
        return None
    return list(
        selectors.findings_visible_to(user).filter(release=release)
        .prefetch_related("statements__author", "attachments").order_by("id")
    )


# --- incidents (govflow.monitoring) ------------------------------------------------------


def _incident_selector():
    selectors = _module("monitoring", "selectors")
    return getattr(selectors, "incidents_visible_to", None) if selectors else None


def open_incidents_by_release(user, release_ids: list[int]) -> dict[int, int] | None:
    """Open incidents per release, through monitoring's own selector, one query."""
    visible, models = _incident_selector(), _module("monitoring", "models")
    if visible is None:
        return None
    qs = visible(user).filter(release_id__in=release_ids)
    status = getattr(models, "IncidentStatus", None)
    if status is not None:
        qs = qs.filter(status=status.OPEN)
    else:
        qs = qs.filter(resolved_at__isnull=True)
    return dict(Counter(qs.values_list("release_id", flat=True)))


def incidents_of(user, release) -> list[Any] | None:
    """The release's incidents, each with its reports and reporting clocks (its timeline)."""
    visible = _incident_selector()
    if visible is None:
        return None
    qs = visible(user).filter(release=release).order_by("id")
    related = [f.name for f in qs.model._meta.related_objects]
    return list(qs.prefetch_related(*[n for n in ("reports", "clocks") if n in related]))


# --- eval runs (govflow.evalruns) --------------------------------------------------------


def eval_runs_of(user, release) -> list[Any] | None:
    selectors = _module("evalruns", "selectors")
    if selectors is None:
        return None
    visible = (getattr(selectors, "eval_runs_visible_to", None)
               or getattr(selectors, "runs_visible_to", None))
    if visible is None:
        return None
    return list(visible(user).filter(release=release).order_by("id"))
