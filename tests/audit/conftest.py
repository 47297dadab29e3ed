"""Fixtures of the audit-log tests."""

from __future__ import annotations

import secrets

import pytest
from django.db import connection

from govflow.audit.dbtriggers import APPEND_ONLY_TABLES


@pytest.fixture
def app_role(live_db):
    """A login role granted what deploy/db-roles.sql grants govflow_app."""
    name = f"govflow_app_test_{secrets.token_hex(4)}"
    password = secrets.token_hex(16)
    tables = ", ".join(APPEND_ONLY_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {name} LOGIN PASSWORD %s", [password])
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {name}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}"
        )
        cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {tables} FROM {name}")
    params = connection.settings_dict
    dsn = (
        f"host={params['HOST'] or '127.0.0.1'} port={params['PORT'] or 5432} "
        f"dbname={params['NAME']} user={name} password={password}"
    )
    yield dsn
    with connection.cursor() as cursor:
        cursor.execute(f"DROP OWNED BY {name}")
        cursor.execute(f"DROP ROLE {name}")
