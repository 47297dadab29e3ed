"""One demo world for every test of this package that asks for it.

`manage.py demo` takes about 20 s (an eval run of 18 cells against the simulator, the
sign-offs, the audit, holds and cohorts); the tests here only read what it built, or run it
again to show that a second run changes nothing, inside their own transaction. So it is
built once, committed, and the database is flushed when the package is done. A test here
must not need an empty database (those stay with their area, e.g. tests/core/test_demo.py)
and must not be transactional (its flush would take the world away from the next test:
`demo` refuses to run then).
"""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from govflow.demo.build import IN_AUDIT_TITLE
from govflow.releases.models import Release
from tests.dbreset import flush_database

MD5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass(frozen=True)
class Demo:
    var_dir: Path  # the world's var/: demo-keys/ and media/
    output: str  # what the first `manage.py demo` printed

    def again(self) -> str:
        """`manage.py demo` once more, over the world; what it printed."""
        out = StringIO()
        call_command("demo", stdout=out)
        return out.getvalue()


@pytest.fixture(scope="package")
def _demo_world(django_db_setup, django_db_blocker, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("demo-world")
    with override_settings(VAR_DIR=var_dir, MEDIA_ROOT=var_dir / "media",
                           PASSWORD_HASHERS=MD5), django_db_blocker.unblock():
        out = StringIO()
        call_command("demo", stdout=out)
        try:
            yield Demo(var_dir=var_dir, output=out.getvalue())
        finally:
            flush_database()


@pytest.fixture
def demo(_demo_world, db, settings) -> Demo:
    """The demo world, built once for the package; this test's changes roll back."""
    settings.VAR_DIR = _demo_world.var_dir
    settings.MEDIA_ROOT = _demo_world.var_dir / "media"
    assert Release.objects.filter(title=IN_AUDIT_TITLE).exists(), (
        "the shared demo world is gone: did a transactional test flush the database?")
    return _demo_world

