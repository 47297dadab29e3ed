-- PostgreSQL roles for a production govflow.
--
-- govflow_owner owns the schema and runs `manage.py migrate`.
-- govflow_app is what gunicorn and Celery connect as. On the log tables it may only
-- SELECT and INSERT: it cannot UPDATE, DELETE or TRUNCATE them, cannot disable their
-- triggers (only the owner can) and cannot set session_replication_role (superuser only).
-- A superuser can still rewrite rows; that is why signed checkpoints leave the database
-- and why `python -m govflow.verify` exists.
--
-- Run as a superuser, once:   psql -v app_password="'…'" -v owner_password="'…'" -f db-roles.sql
-- After each migrate, re-run the GRANT section (new tables need their grants).

CREATE ROLE govflow_owner LOGIN PASSWORD :owner_password;
CREATE ROLE govflow_app LOGIN PASSWORD :app_password;
CREATE DATABASE govflow OWNER govflow_owner;
\connect govflow
ALTER SCHEMA public OWNER TO govflow_owner;

-- GRANT section --------------------------------------------------------------------
SET ROLE govflow_owner;
GRANT USAGE ON SCHEMA public TO govflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO govflow_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO govflow_app;
-- The append-only tables: read and append, nothing else.
REVOKE UPDATE, DELETE, TRUNCATE ON
    audit_auditevent, audit_logleaf, audit_lognode, audit_checkpoint
    FROM govflow_app;
RESET ROLE;
