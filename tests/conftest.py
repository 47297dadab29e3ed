"""Shared fixtures: personas (who is acting) and the database arrangements tests need.

Personas follow the demo's cast: a release manager of the lab that owns the release,
another lab's release manager (an outsider), a regulator, and anonymous.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests import factories
from tests.dbreset import empty_append_only_tables
from tests.witness.support import log_witness  # noqa: F401 (a fixture for every test)


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(
        reason="needs PostgreSQL: set DATABASE_URL=postgres://… (SQLite default in use)"
    )
    from django.conf import settings

    vendor = settings.DATABASES["default"]["ENGINE"]
    for item in items:
        if "postgres" in item.keywords and "postgresql" not in vendor:
            item.add_marker(skip_pg)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """One PostgreSQL test database per pytest process, so runs started side by side
    (by several developers, or CI and a benchmark) never drop each other's database."""
    import os

    from django.conf import settings

    db = settings.DATABASES["default"]
    if "postgresql" in db["ENGINE"]:
        db.setdefault("TEST", {})["NAME"] = f"test_{db['NAME']}_{os.getpid()}"


@pytest.fixture
def lab():
    return factories.organization(kind="lab")


@pytest.fixture
def release_manager(lab):
    return factories.person(lab, "release_manager")


@pytest.fixture
def outsider():
    return factories.person(factories.organization(kind="lab"), "release_manager")


@pytest.fixture
def regulator():
    return factories.person(factories.organization(kind="regulator"), "regulator")


@pytest.fixture
def api():
    """An API client factory: api(user) is authenticated with a fresh bearer token."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.token_for(user)}")
        return client

    return make


@pytest.fixture
def live_db(transactional_db):
    """Real commits (for concurrency tests and live servers). Set up after
    transactional_db, so torn down before its flush."""
    yield
    empty_append_only_tables()


@pytest.fixture(autouse=True)
def _live_server_uses_live_db(request):
    # pytest-django's live_server brings transactional_db along; the append-only
    # tables need live_db's teardown too, or the flush after the test fails.
    if "live_server" in request.fixturenames:
        request.getfixturevalue("live_db")


@pytest.fixture(autouse=True)
def _receipts_dir(monkeypatch, tmp_path):
    # The client keeps receipts of what it records; never in the developer's home.
    monkeypatch.setenv("GOVFLOW_RECEIPTS_DIR", str(tmp_path / "receipts"))


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
