"""Production database roles: the application's role can read and append to the log
tables and nothing more — not even switch the append-only triggers off."""

from __future__ import annotations

import secrets

import psycopg
import pytest
from django.db import connection

from govflow.audit.dbtriggers import APPEND_ONLY_TABLES
from tests import factories

pytestmark = pytest.mark.postgres


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


def _refused(dsn: str, sql: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn, pytest.raises(psycopg.Error) as caught:
        conn.execute(sql)
    return str(caught.value)


def test_app_role_reads_the_log(app_role):
    factories.organization()
    with psycopg.connect(app_role, autocommit=True) as conn:
        count = conn.execute("SELECT count(*) FROM audit_auditevent").fetchone()[0]
    assert count >= 1


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("UPDATE audit_auditevent SET event_type = 'x'", "permission denied"),
        ("DELETE FROM audit_auditevent", "permission denied"),
        ("TRUNCATE audit_auditevent", "permission denied"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
        ("DROP TRIGGER audit_auditevent_append_only ON audit_auditevent", "must be owner"),
    ],
)
def test_app_role_cannot_rewrite_or_unguard_the_log(app_role, sql, message):
    factories.organization()
    assert message in _refused(app_role, sql)


def test_even_a_role_allowed_to_update_hits_the_trigger(app_role):
    # The owner (here: the test's superuser connection, with triggers enabled) is
    # refused by the trigger itself, not by privileges.
    factories.organization()
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET event_type = 'x'")
