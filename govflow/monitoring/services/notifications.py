"""The notification outbox: rows written in the transaction of the change they tell
about, delivered by a worker after commit (and by beat, should a delivery be lost).

Delivery here is a log line per notification and the row marked delivered; recipients
read their notifications through `GET /api/notifications`. A deployment that mails or
calls a webhook replaces `deliver` and keeps everything else.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from govflow.accounts.models import Organization, OrganizationKind
from govflow.core.tasks import enqueue_after_commit
from govflow.monitoring.models import Notification

log = logging.getLogger(__name__)


def regulators():
    return Organization.objects.filter(kind=OrganizationKind.REGULATOR).order_by("id")


def notify(*, organizations, release, kind: str, subject: str,
           body: dict[str, Any]) -> list[Notification]:
    """Queue a notification to each organization. Call inside the change's transaction."""
    from govflow.monitoring.tasks import deliver_notifications

    now = timezone.now()
    rows = [Notification.objects.create(organization=org, release=release, kind=kind,
                                        subject=subject[:200], body=body, created_at=now)
            for org in organizations]
    if rows:
        enqueue_after_commit(deliver_notifications)
    return rows


def deliver(notification: Notification) -> None:
    log.info("notification %s to %s: [%s] %s", notification.pk,
             notification.organization.slug, notification.kind, notification.subject)


def notifications_deliver(*, limit: int = 200) -> int:
    """Deliver what is pending, each row in its own short transaction; concurrent
    workers skip rows another holds (PostgreSQL), so nothing is delivered twice."""
    delivered = 0
    for _ in range(limit):
        with transaction.atomic():
            row = (Notification.objects.select_for_update(skip_locked=True, of=("self",))
                   .select_related("organization")
                   .filter(delivered_at__isnull=True).order_by("id").first())
            if row is None:
                break
            row.attempts += 1
            deliver(row)
            row.delivered_at = timezone.now()
            row.save(update_fields=["attempts", "delivered_at"])
            delivered += 1
    return delivered
