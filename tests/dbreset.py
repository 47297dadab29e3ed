"""Emptying the test database past its append-only triggers, as only a database superuser
could: for fixtures whose rows outlive one test's transaction (live servers, concurrency
tests, a demo world shared by a package of tests)."""

from __future__ import annotations

from django.core.management import call_command
from django.db import connection

from govflow.audit.dbtriggers import APPEND_ONLY_TABLES, install_sql, uninstall_sql


def empty_append_only_tables() -> None:
    """Make the append-only log tables flushable.

    PostgreSQL: session_replication_role = replica switches every trigger off for this
    connection; Django closes the connection after a TransactionTestCase's flush, so the
    next test starts with triggers on. SQLite has no such switch: empty the tables here with
    the triggers briefly dropped, so the flush finds nothing to delete in them.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
            return
        cursor.execute("PRAGMA foreign_keys = OFF")
        try:
            for table in APPEND_ONLY_TABLES:
                for statement in uninstall_sql("sqlite", table):
                    cursor.execute(statement)
                cursor.execute(f'DELETE FROM "{table}"')
                for statement in install_sql("sqlite", table):
                    cursor.execute(statement)
        finally:
            cursor.execute("PRAGMA foreign_keys = ON")


def flush_database() -> None:
    """Every row gone (content types and permissions made again, as after migrate), the
    triggers on again: what a TransactionTestCase leaves behind, outside one."""
    empty_append_only_tables()
    try:
        call_command("flush", interactive=False, verbosity=0)
    finally:
        if connection.vendor == "postgresql":
            # this connection stays open (no TransactionTestCase closes it): triggers on
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")
