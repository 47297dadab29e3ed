"""Shared fixtures: personas (who is acting) and the database arrangements tests need.

Personas follow the demo's cast: a release manager of the lab that owns the release,
another lab's release manager (an outsider), a regulator, and anonymous.
"""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from govflow.audit.dbtriggers import APPEND_ONLY_TABLES, install_sql, uninstall_sql
from tests import factories


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
def _restore_log_triggers(django_db_blocker):
    yield
    # Runs after pytest-django's flush. PostgreSQL: Django closed the connection, so
    # the next one starts with session_replication_role = origin again. SQLite (an
    # in-memory database that stays open): put the dropped triggers back.
    with django_db_blocker.unblock():
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                for table in APPEND_ONLY_TABLES:
                    for statement in install_sql("sqlite", table):
                        cursor.execute(statement)


@pytest.fixture
def live_db(_restore_log_triggers, transactional_db):
    """Real commits (for concurrency tests). The log tables are append-only, so the
    flush that cleans up afterwards has to step around their triggers, as only a
    database superuser could."""
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        else:
            for table in APPEND_ONLY_TABLES:
                for statement in uninstall_sql("sqlite", table):
                    cursor.execute(statement)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
