"""POST /api/findings reads each fact once: the statements it runs are pinned (a count,
not a time), and so is how often each fact's table is read, so a repeated read cannot
creep back unnoticed. The token, its user, their organization and roles are one read;
the signer's keys are read once to verify and once more inside the recording
transaction (the re-check that lets a revocation committed in between win); the
engagement (assignment, access grant, certificate, release) once, under its lock.

The count differs by database where the code does: on PostgreSQL the Idempotency-Key
reservation is one statement (plus the one lifting its lock bound) and the key re-check
rides in the nonce's INSERT; on SQLite each is the general path."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from tests.auditing.support import finding_statement
from tests.queries import reads, statements

pytestmark = pytest.mark.django_db


# Statements of one POST /api/findings with an Idempotency-Key, inside the test's own
# transaction (so the request's transaction is a savepoint: +2).
FILING = {
    # token+holder · reserve (bounded INSERT, unbound) · keys · savepoint · nonce+key
    # re-check · engagement · finding · audit event · release · receipt's events ·
    # response stored · plus the request's own savepoint pair
    "postgresql": 14,
    # token+holder · existing? · savepoint · INSERT · release · keys · savepoint · key
    # re-check · nonce · engagement · finding · audit event · release · receipt's events ·
    # response stored · plus the request's own savepoint pair
    "sqlite": 17,
}


def test_filing_a_finding_reads_each_fact_once(world, django_assert_num_queries):
    envelope = world.erin.sign(finding_statement(world.release))
    client = world.erin.client
    client.get("/api/me")  # the first use writes the token's last_used_at

    with django_assert_num_queries(FILING[connection.vendor]) as captured:
        response = client.post("/api/findings", {"envelope": envelope}, format="json",
                               HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))

    assert response.status_code == 201, response.json()
    assert "receipt" in response.json()
    sql = statements(captured)
    once = ("accounts_apitoken", "accounts_membership", "accounts_organization",
            "auditing_assignment", "auditing_accessgrant", "auditing_certificate",
            "releases_release")
    for table in once:
        assert reads(sql, table) == 1, (table, sql)
    # verified, then re-checked inside the recording transaction
    assert reads(sql, "keys_signingkey") == 2, sql
    assert reads(sql, "audit_auditevent") == 1, sql  # the receipt's, after the append
