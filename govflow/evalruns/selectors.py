"""Reads of eval runs, scoped to what the acting user may see: a lab its own releases'
runs, a regulator every lab's, an auditor those of the releases it is assigned to (the
same rule as the releases themselves)."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from govflow.evalruns.models import EvalRun, EvalSample
from govflow.releases.selectors import releases_visible_to


def eval_runs_visible_to(user) -> QuerySet[EvalRun]:
    return EvalRun.objects.filter(release__in=releases_visible_to(user)).select_related(
        "release", "created_by"
    )


def eval_runs_filtered(user, *, release: int | None = None, status: str | None = None,
                       scenario: str | None = None) -> QuerySet[EvalRun]:
    qs = eval_runs_visible_to(user).annotate(stored=Count("samples"))
    if release is not None:
        qs = qs.filter(release_id=release)
    if status:
        qs = qs.filter(status=status)
    if scenario:
        qs = qs.filter(scenario=scenario)
    return qs.order_by("-created_at", "-id")


def eval_samples_of(run: EvalRun, *, cell: str | None = None,
                    status: str | None = None) -> QuerySet[EvalSample]:
    qs = EvalSample.objects.filter(run=run)
    if cell:
        qs = qs.filter(cell_key=cell)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("cell_key", "sample_index", "paraphrase")


def run_progress(run: EvalRun) -> dict:
    """Stored samples by status, and how many are still missing."""
    rows = EvalSample.objects.filter(run=run).order_by().values("status").annotate(n=Count("id"))
    by_status = {row["status"]: row["n"] for row in rows}
    stored = sum(by_status.values())
    return {"total": run.total_samples, "stored": stored,
            "missing": run.total_samples - stored, "by_status": by_status}

