"""Production database roles: the application's role can read and append to the log
tables and nothing more — not even switch the append-only triggers off."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from tests import factories

pytestmark = pytest.mark.postgres


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
