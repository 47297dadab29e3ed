"""The Celery application. Workers start with ``celery -A govflow.celery worker``.

It is not imported from ``govflow/__init__.py`` on purpose: the stdlib-only client
(`python -m govflow.client`) and the offline verifier live in this package and must
import without Django or Celery installed.
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govflow.settings")

app = Celery("govflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_unready_production(**kwargs) -> None:
    from govflow.core.startup import assert_ready_for_production

    assert_ready_for_production()
