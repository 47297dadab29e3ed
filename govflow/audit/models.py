"""The audit log's rows.

`AuditEvent` is append-only: a migration installs database triggers that reject
UPDATE, DELETE and TRUNCATE, with no setting the application could flip to get
around them. Each row keeps the exact canonical JSON bytes that were hashed into
its Merkle leaf, so a verifier recomputes the leaf from what is stored, never from
a re-serialisation that could differ.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    uuid = models.UUIDField(unique=True, editable=False)
    event_type = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_index=True)
    # No database-level foreign keys on the actor and the organization: a referential
    # check locks the referenced row (FOR KEY SHARE) in every appending transaction, and
    # concurrent appends for one organization then queue on that row's multixact
    # (bench/audit_log.py). The event's canonical bytes, not these columns, are the
    # record; the columns only scope who may read it, and users and organizations are
    # never deleted (PROTECT still holds in the ORM).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
        db_constraint=False,
    )
    organization = models.ForeignKey(
        "accounts.Organization", null=True, on_delete=models.PROTECT, related_name="+",
        db_constraint=False,
    )
    # The release this event belongs to, if any: what a per-release export selects on.
    release_id = models.BigIntegerField(null=True, db_index=True)
    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)
    payload = models.JSONField()
    canonical = models.TextField(help_text="RFC 8785 JSON of the event, exactly as hashed.")
    leaf_hash = models.CharField(max_length=64, help_text="hex SHA-256(0x00 || canonical)")

    class Meta:
        ordering = ["id"]
        # A plain index on event_type: db_index=True would add a second, LIKE-pattern one
        # on PostgreSQL that no query uses and every append maintains.
        indexes = [models.Index(fields=["subject_type", "subject_id"]),
                   models.Index(fields=["event_type"], name="audit_event_type_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event_type} {self.subject_type}:{self.subject_id}"


class LogState(models.Model):
    """The single row the sequencer locks: how many events the Merkle tree holds.

    Sequencing under this row lock is what keeps two integrators (say, two Celery beat
    schedulers started by mistake) from forking the log: the second waits, then finds
    nothing left to integrate.
    """

    size = models.BigIntegerField(default=0)
    # Where the sequencer starts looking for unsequenced events (govflow.audit.pending):
    # every event id up to floor_event is in the tree (at size floor_size) or quarantined,
    # or never committed. mark_*: the highest id and the open transactions at the last
    # run, from which the next run may raise the floor.
    floor_event = models.BigIntegerField(default=0)
    floor_size = models.BigIntegerField(default=0)
    mark_event = models.BigIntegerField(null=True)
    mark_transactions = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"log size {self.size}"


class LogLeaf(models.Model):
    """Position of an event in the Merkle tree. Append-only."""

    index = models.BigIntegerField(primary_key=True)
    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="leaf")

    class Meta:
        ordering = ["index"]

    def __str__(self) -> str:
        return f"leaf {self.index} → event {self.event_id}"


# Perfect-subtree node keys pack (level, index) into one integer so a proof's nodes
# are fetched with a single `key IN (…)` query.
NODE_INDEX_BITS = 48


def node_key(level: int, index: int) -> int:
    return (level << NODE_INDEX_BITS) | index


class LogNode(models.Model):
    """Hash of a perfect subtree (level, index) of the log. Append-only."""

    key = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        return f"node {self.key >> NODE_INDEX_BITS}/{self.key & ((1 << NODE_INDEX_BITS) - 1)}"


class Checkpoint(models.Model):
    """A signed statement of the log's size and root (C2SP tlog-checkpoint). Append-only."""

    size = models.BigIntegerField(unique=True)
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField(help_text="the signed note, exactly as published")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class Cosignature(models.Model):
    """A witness's cosignature (C2SP tlog-cosignature v1) on one of the log's checkpoints.
    Append-only. Not itself an audit event: it is verifiable on its own (the witness's key
    signs the checkpoint), and logging it would grow the tree it vouches for."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT,
                                   related_name="cosignatures")
    witness = models.CharField(max_length=200, help_text="the witness's key name")
    witness_key = models.CharField(max_length=300, help_text="its cosignature/v1 vkey")
    timestamp = models.BigIntegerField(help_text="POSIX seconds, as the witness signed it")
    line = models.TextField(help_text="the note signature line, exactly as returned")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["checkpoint_id", "witness"]
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness_key"],
                                    name="audit_one_cosignature_per_witness"),
        ]

    def __str__(self) -> str:
        return f"{self.witness} cosigned checkpoint {self.checkpoint_id}"


class ReceiptKey(models.Model):
    """Which events a request with an Idempotency-Key recorded, so that a retry answered
    by replay carries the same receipt as the first answer (govflow.audit.receipts).
    No longer written: a stored answer now carries its receipt in its own bytes. Kept
    (read only) for the answers stored before, which a retry may still replay."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    key = models.CharField(max_length=255)
    events = models.JSONField(help_text="ids of the events the request recorded")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"],
                                               name="audit_one_receipt_per_request_key")]

    def __str__(self) -> str:
        return f"receipt key {self.key}"


class ReleaseHead(models.Model):
    """Where the sequencer's chain over one release's leaves stands (trust.release_chain).

    A cache of what the log already says: the sequencer keeps it so that it need not
    refold the whole log at each checkpoint. Tampering with it only makes the next
    `log.release_heads` event disagree with the events, which every verifier recomputes.
    """

    release_id = models.BigIntegerField(primary_key=True)
    count = models.BigIntegerField(default=0)
    head = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        return f"release {self.release_id}: {self.count} event(s)"


class SequencingAlarm(models.Model):
    """An event the sequencer refused: its stored leaf hash or columns disagree with its
    canonical bytes (someone wrote the row past `audit_append`). Sequencing stops at it
    until it is quarantined (`QuarantinedEvent`); the regulator is notified once, when it
    is raised. Append-only: an alarm is answered, never cleared."""

    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    raised_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"alarm on event {self.event_id}: {self.reason}"


class QuarantinedEvent(models.Model):
    """A refused event set aside so that sequencing can resume (`manage.py audit alarm
    quarantine`). Append-only. The refused row stays in the events table and never gets a
    leaf; ``record`` is the `log.event_quarantined` event, sequenced next, that carries the
    row's bytes, both hashes and the alarm into the tree, so every later checkpoint (and
    its witnesses) commits to the fact that the log was tampered with and how."""

    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="+")
    alarm = models.OneToOneField(SequencingAlarm, on_delete=models.PROTECT,
                                 related_name="quarantine")
    record = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"event {self.event_id} quarantined by event {self.record_id}"


class ReconcileRun(models.Model):
    """One run of `audit reconcile --alert` (beat's `audit-reconcile`): what it found, so
    that the console can show regulators the drift until a run finds none. A record of a
    check anyone can rerun from the log, not evidence itself."""

    ran_at = models.DateTimeField(auto_now_add=True)
    drift = models.JSONField(default=list, help_text="the first 100 places, as sentences")
    count = models.IntegerField(default=0, help_text="how many places in all")

    class Meta:
        ordering = ["-ran_at", "-id"]

    def __str__(self) -> str:
        return f"reconcile at {self.ran_at}: {self.count} place(s)"
