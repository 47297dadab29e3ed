"""`manage.py demo` outside the demo world's package (tests/demo/): on an empty database."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from govflow.releases.models import Release

pytestmark = pytest.mark.django_db


def test_the_demo_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="not in production"):
        call_command("demo", stdout=StringIO())
    assert not Release.objects.exists()
