"""Start-up checks that refuse a production deployment with demo defaults.

They run with every management command and at server start (Django system checks),
so `gunicorn` behind `manage.py check --deploy` and `migrate` both stop with a
message naming what is wrong.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def production_settings(app_configs, **kwargs):  # noqa: ARG001 (Django's signature)
    if not settings.PRODUCTION:
        return []
    errors = []
    if settings.SECRET_KEY == settings.DEMO_SECRET_KEY:
        errors.append(
            Error(
                "DJANGO_SECRET_KEY is the public demo default.",
                hint="Set DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) to a long random value.",
                id="govflow.E001",
            )
        )
    if settings.DEBUG:
        errors.append(
            Error(
                "DJANGO_DEBUG is on in production.",
                hint="Unset DJANGO_DEBUG or set it to false.",
                id="govflow.E002",
            )
        )
    return errors
