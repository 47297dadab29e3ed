"""Celery tasks of the rollout: thin, idempotent, each calling one service."""

from __future__ import annotations

from celery import shared_task
from django.db.models import Max
from django.utils import timezone

from govflow.rollout import cache
from govflow.rollout.models import KycRecord


@shared_task(name="govflow.rollout.tasks.publish_snapshot", acks_late=True, ignore_result=True)
def publish_snapshot(cohort_id: int) -> int:
    """Sign a snapshot of the cohort as it is now (queued after every admission/removal;
    a snapshot per cohort version at most, so repeats are harmless)."""
    from govflow.rollout.services import snapshot_publish

    return snapshot_publish(cohort_id=cohort_id).cohort_version


@shared_task(name="govflow.rollout.tasks.expire_kyc", acks_late=True, ignore_result=True)
def expire_kyc() -> int:
    """Beat: process every KYC record that has expired and not been processed."""
    from govflow.rollout.services import kyc_expire

    # Only records in force (each customer's latest): a superseded record expiring
    # changes nothing.
    latest = KycRecord.objects.values("customer_id").annotate(last=Max("id")).values("last")
    due = (KycRecord.objects.filter(id__in=latest, expires_at__lte=timezone.now(),
                                    expiry__isnull=True)
           .order_by("expires_at").values_list("pk", flat=True)[:1000])
    return sum(1 for pk in due if kyc_expire(record_id=pk) is not None)


@shared_task(name="govflow.rollout.tasks.invalidate_key", bind=True, acks_late=True,
             ignore_result=True, max_retries=None, retry_backoff=True, retry_backoff_max=30)
def invalidate_key(self, key: str) -> None:
    """Retry an access-cache invalidation that failed after its change committed."""
    try:
        cache.replace_key(key)
    except Exception as exc:  # noqa: BLE001
        raise self.retry(exc=exc) from exc
