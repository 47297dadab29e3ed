"""Page sections that read other areas through those areas' own scoped selectors.

The console shows findings (govflow.auditing), eval runs (govflow.evalruns) and incidents
(govflow.monitoring) with each area's rules (what is visible, what counts as closed or
open), never its own copy of them. Every one of those apps is always installed.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from govflow.auditing.models import CLOSED_STATUSES
from govflow.auditing.selectors import assignments_visible_to, findings_visible_to
from govflow.evalruns.selectors import eval_runs_visible_to
from govflow.monitoring.models import IncidentStatus
from govflow.monitoring.selectors import incidents_visible_to


def open_findings_by_release(user, release_ids: list[int]) -> dict[int, int]:
    """Unclosed findings per release (auditing's own rule of "closed"), one query."""
    rows = (findings_visible_to(user).filter(release_id__in=release_ids)
            .values_list("release_id", "current_status"))
    return dict(Counter(rid for rid, status in rows if status not in CLOSED_STATUSES))


def findings_of(user, release) -> list[Any]:
    """The release's findings you may see, each with its statements (its timeline)."""
    return list(
        findings_visible_to(user).filter(release=release)
        .prefetch_related("statements__author", "attachments").order_by("id")
    )


def assignments_of(user, release) -> list[dict[str, Any]]:
    """The release's auditor assignments you may see, each with its conclusion (if any)."""
    rows = assignments_visible_to(user).filter(release=release).order_by("id")
    return [{"assignment": a, "conclusion": getattr(a, "conclusion", None)} for a in rows]


def open_incidents_by_release(user, release_ids: list[int]) -> dict[int, int]:
    """Open incidents per release, through monitoring's own selector, one query."""
    qs = incidents_visible_to(user).filter(release_id__in=release_ids,
                                           status=IncidentStatus.OPEN)
    return dict(Counter(qs.values_list("release_id", flat=True)))


def incidents_of(user, release) -> list[Any]:
    """The release's incidents, each with its reports and reporting clocks (its timeline)."""
    return list(incidents_visible_to(user).filter(release=release).order_by("id")
                .prefetch_related("reports", "clocks"))


def eval_runs_of(user, release) -> list[Any]:
    return list(eval_runs_visible_to(user).filter(release=release).order_by("id"))
