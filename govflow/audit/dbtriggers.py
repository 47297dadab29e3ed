"""Database triggers that make log tables append-only.

PostgreSQL: a row trigger rejects UPDATE and DELETE and a statement trigger rejects
TRUNCATE. Nothing in them reads a session setting, so the application cannot switch
them off; only the table owner (ALTER TABLE … DISABLE TRIGGER) or a superuser
(session_replication_role) can, and in production the application connects as
neither (deploy/README.md). SQLite gets the equivalent BEFORE UPDATE/DELETE triggers.

Migrations call `install`; once a migration has used this SQL it is history, so
change it only together with a new migration that replaces the triggers.
"""

from __future__ import annotations

# Every table made append-only by a migration; tests use this list to step around the
# triggers when pytest-django flushes the database between transactional tests.
APPEND_ONLY_TABLES = [
    "audit_auditevent",
    "audit_logleaf",
    "audit_lognode",
    "audit_checkpoint",
    "audit_cosignature",
    "audit_sequencingalarm",
    "audit_quarantinedevent",
    "signoffs_signoff",
    "auditing_finding",
    "auditing_finding_attachments",
    "auditing_findingstatement",
    "auditing_findingstatement_attachments",
    "auditing_conclusion",
    "auditing_conclusion_findings",
    "oversight_signedaction",
    "rollout_kycrecord",
    "rollout_webhookreceipt",
    "rollout_kycexpiry",
    "rollout_growthapproval",
    "rollout_cohortsnapshot",
    "monitoring_incidentreport",
    "evalruns_evalsample",
]

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION govflow_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'govflow: % on %.% is refused: the table is append-only',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _pg_install(table: str) -> list[str]:
    return [
        PG_FUNCTION,
        f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{table}" '
        f"FOR EACH ROW EXECUTE FUNCTION govflow_append_only();",
        f'CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON "{table}" '
        f"FOR EACH STATEMENT EXECUTE FUNCTION govflow_append_only();",
    ]


def _sqlite_install(table: str) -> list[str]:
    return [
        f'CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON "{table}" BEGIN '
        f"SELECT RAISE(ABORT, 'govflow: {op} on {table} is refused: the table is append-only'); "
        f"END;"
        for op in ("UPDATE", "DELETE")
    ]


def install_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return _pg_install(table)
    if vendor == "sqlite":
        return _sqlite_install(table)
    raise NotImplementedError(f"append-only triggers are not written for {vendor}")


def uninstall_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f'DROP TRIGGER IF EXISTS {table}_append_only ON "{table}";',
            f'DROP TRIGGER IF EXISTS {table}_no_truncate ON "{table}";',
        ]
    return [f"DROP TRIGGER IF EXISTS {table}_no_{op};" for op in ("update", "delete")]


def installer(table: str, *, reverse: bool = False):
    """A RunPython callable installing (or removing) the triggers on ``table``."""

    def run(apps, schema_editor):  # noqa: ARG001 (RunPython's signature)
        vendor = schema_editor.connection.vendor
        sql = uninstall_sql(vendor, table) if reverse else install_sql(vendor, table)
        for statement in sql:
            # params=None: the PL/pgSQL body uses '%' placeholders of its own, which
            # psycopg would otherwise try to fill (and refuse) as query parameters.
            schema_editor.execute(statement, params=None)

    return run
