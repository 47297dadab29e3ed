"""Celery tasks of the audit log."""

from __future__ import annotations

from celery import shared_task

from govflow.audit.log import checkpoint_create


@shared_task(name="govflow.audit.tasks.checkpoint", acks_late=True, ignore_result=True)
def checkpoint() -> int | None:
    """Sign a checkpoint of the log (beat runs this on a schedule). Idempotent."""
    created = checkpoint_create()
    return created.size if created else None


@shared_task(name="govflow.audit.tasks.reconcile", acks_late=True, ignore_result=True)
def reconcile() -> int:
    """Compare the governed tables with the log; notify regulators of drift (beat)."""
    from govflow.audit.reconcile import audit_reconcile_and_alert

    return len(audit_reconcile_and_alert())
