"""Django system checks: `manage.py check --deploy` names what production lacks."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def production_settings(app_configs, **kwargs):  # noqa: ARG001 (Django's signature)
    if not settings.PRODUCTION:
        return []
    from govflow.core.startup import configuration_problems

    return [
        Error(problem, id=f"govflow.E{index:03d}")
        for index, problem in enumerate(configuration_problems(), start=1)
    ]
