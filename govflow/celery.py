"""The Celery application. Workers start with ``celery -A govflow.celery worker``.

It is not imported from ``govflow/__init__.py`` on purpose: the stdlib-only client
(`python -m govflow.client`) and the offline verifier live in this package and must
import without Django or Celery installed.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govflow.settings")

app = Celery("govflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
