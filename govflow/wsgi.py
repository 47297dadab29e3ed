"""WSGI entry point (gunicorn govflow.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govflow.settings")
application = get_wsgi_application()

from govflow.core.startup import assert_ready_for_production  # noqa: E402 (needs setup)

assert_ready_for_production()
