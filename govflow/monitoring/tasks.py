"""Celery tasks of deployment monitoring: thin, idempotent, each calling one service.

Beat runs `tick` every GOVFLOW_MONITORING_TICK_SECONDS: reporting-clock reminders and
overdue marks, re-evaluations of systems that learn online (scheduling and deadlines),
and any notification whose after-commit delivery was lost.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task(name="govflow.monitoring.tasks.deliver_notifications", acks_late=True,
             ignore_result=True)
def deliver_notifications() -> int:
    from govflow.monitoring.services import notifications_deliver

    return notifications_deliver()


@shared_task(name="govflow.monitoring.tasks.tick", acks_late=True, ignore_result=True)
def tick() -> dict[str, int]:
    from govflow.monitoring.models import Reevaluation, ReevaluationResult
    from govflow.monitoring.services import (
        clock_tick,
        notifications_deliver,
        reevaluation_expire,
        reevaluation_schedule,
    )
    from govflow.monitoring.services.clocks import clocks_needing_attention
    from govflow.monitoring.services.reevaluation import releases_due_reevaluation

    now = timezone.now()
    done = {"reminded": 0, "overdue": 0, "reevaluations_scheduled": 0,
            "reevaluations_missed": 0}
    for clock_id in clocks_needing_attention():
        outcome = clock_tick(clock_id=clock_id, now=now)
        if outcome:
            done[outcome] += 1
    late = Reevaluation.objects.filter(result=ReevaluationResult.PENDING, due_at__lt=now)
    for pk in late.values_list("pk", flat=True):
        if reevaluation_expire(reevaluation_id=pk, now=now) is not None:
            done["reevaluations_missed"] += 1
    for release_id in releases_due_reevaluation():
        if reevaluation_schedule(release_id=release_id, now=now) is not None:
            done["reevaluations_scheduled"] += 1
    done["notifications_delivered"] = notifications_deliver()
    return done
