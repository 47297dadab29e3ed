"""Which events await sequencing, found without reading the whole log.

An event's id is drawn from a sequence when its INSERT runs, but transactions commit in
any order: id 100 may commit after id 101 was sequenced. So "id above the last one
sequenced" would lose 100 for ever, and "every event without a leaf" (the anti-join the
sequencer ran before) reads both whole tables at every run: 53 ms at 20,000 events, and
growing with the log, while writers wait for the CPU it takes (bench/audit_log.py).

The *floor* is an event id such that every event at or below it is in the tree, is
quarantined, or will never exist (its transaction rolled back). The sequencer looks only
above it, through the primary key. On PostgreSQL the floor advances in two steps, one
per sequencer run, without making any writer wait:

  run k:   note M, the highest id visible now, then the transactions open now: their
           virtual transaction ids in pg_locks (each transaction holds its own from its
           first statement, before its INSERT draws an id). Ids are drawn in increasing
           order, so a transaction holding an id ≤ M that has not committed is open at
           that moment, and is one of those noted.
  run k+1: if none of them is open any more, every id ≤ M is committed (visible to this
           run's queries, which start after the check) or rolled back. Once this run has
           integrated what it sees, the floor may rise to M.

SQLite runs every writer and the sequencer in IMMEDIATE transactions, one at a time, so
what is committed is all there is: there the floor is the last id the run looked at.

The floor only decides where the sequencer starts looking; it vouches for nothing a
verifier relies on. If the tree is thrown away (its size falls below the size the floor
was set at), the floor falls back to zero and the whole table is looked at again.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from govflow.audit.models import AuditEvent, LogState

# Transactions of other databases of the cluster cannot hold one of our ids; leaving
# them out keeps someone else's long transaction from holding the floor back.
# (govflow uses no prepared transactions, which would have no backend here.)
_OPEN_TRANSACTIONS = (
    "SELECT l.virtualxid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'virtualxid' AND a.datname = current_database() "
    "AND l.pid <> pg_backend_pid()"
)
_ANY_STILL_OPEN = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'virtualxid' "
    "AND virtualxid = ANY(%s))"
)


@dataclass
class Window:
    """One sequencer run's view: look above ``floor``; ``candidate`` is how far the floor
    may rise once everything visible has been integrated (None: not this run)."""

    floor: int
    candidate: int | None

    @classmethod
    def open(cls, state: LogState) -> Window:
        """Called under the LogState row lock, before the run's first pending query."""
        floor = state.floor_event if state.size >= state.floor_size else 0
        if connection.vendor != "postgresql":
            return cls(floor=floor, candidate=None)
        candidate = None
        if state.mark_event is not None and floor <= state.mark_event:
            with connection.cursor() as cursor:
                cursor.execute(_ANY_STILL_OPEN, [list(state.mark_transactions)])
                (still_open,) = cursor.fetchone()
            if not still_open:
                candidate = state.mark_event
        return cls(floor=floor, candidate=candidate)

    def pending(self):
        return AuditEvent.objects.filter(pk__gt=self.floor, leaf__isnull=True)

    def close(self, state: LogState, *, last_seen: int | None, stopped_at: int | None) -> None:
        """Raise the floor as far as this run proved, and take the next mark. Saved by
        the caller with the state row. ``stopped_at``: the refused event, if any; the
        floor stays below it. ``last_seen``: the highest id this run looked at."""
        floor = self.floor
        if connection.vendor == "postgresql":
            if self.candidate is not None:
                floor = max(floor, self.candidate)
        elif last_seen is not None:
            floor = max(floor, last_seen)
        if stopped_at is not None:
            floor = min(floor, stopped_at - 1)
        state.floor_event, state.floor_size = max(floor, 0), state.size
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT max(id) FROM audit_auditevent")
                (highest,) = cursor.fetchone()
                cursor.execute(_OPEN_TRANSACTIONS)
                state.mark_transactions = [row[0] for row in cursor.fetchall()]
            state.mark_event = highest


def unsequenced_exists() -> bool:
    """Whether any committed event still waits for the sequencer (quarantined rows aside)."""
    from govflow.audit.models import QuarantinedEvent

    state = LogState.objects.filter(pk=1).first()
    floor = state.floor_event if state is not None and state.size >= state.floor_size else 0
    quarantined = QuarantinedEvent.objects.values("event_id")
    return (AuditEvent.objects.filter(pk__gt=floor, leaf__isnull=True)
            .exclude(pk__in=quarantined).exists())
