"""Celery tasks of the audit log."""

from __future__ import annotations

from celery import shared_task

from govflow.audit.log import checkpoint_create
from govflow.audit.witnessing import checkpoint_witness


@shared_task(name="govflow.audit.tasks.checkpoint", acks_late=True, ignore_result=True)
def checkpoint() -> int | None:
    """Sign a checkpoint of the log and have the witnesses cosign it (beat runs this on a
    schedule). Idempotent: a checkpoint every witness already cosigned is left alone, and
    one a witness missed (it was down) is offered again on the next run."""
    created = checkpoint_create()
    if created is None:
        return None
    checkpoint_witness(checkpoint=created)
    return created.size


@shared_task(name="govflow.audit.tasks.reconcile", acks_late=True, ignore_result=True)
def reconcile() -> int:
    """Compare the governed tables with the log; notify regulators of drift (beat)."""
    from govflow.audit.reconcile import audit_reconcile_and_alert

    return len(audit_reconcile_and_alert())
