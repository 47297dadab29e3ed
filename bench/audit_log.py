"""Benchmark the audit log on PostgreSQL (prints figures; not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/govflow_bench \
        .venv/bin/python bench/audit_log.py [--events 1000000] [--append 2000] [--rounds 5]
        [--append-only]

Reports:
  1. events appended per second, one transaction per event (as services do), with one
     writer process and with 8 concurrent writer processes, sequencing included (a
     sequencer process integrates while they write; the clock stops when the last event
     has its leaf), beside a bare single-row INSERT + COMMIT through psycopg on a table
     shaped like the log, with as many writers, in the same run;
  2. sequencing + checkpointing time for the whole log;
  3. inclusion-proof time at the full size (p50/p99 over 1,000 random leaves);
  4. offline verification of a whole-log bundle (leaves, tree, release-heads chains and
     the replay of every decision) vs. plain hashlib hashing the same leaves and nodes
     (the ratio is the figure that matters; both run in this process). Half the filled
     events belong to one of 100 releases, so the per-release chains are exercised.

The database named in DATABASE_URL is created if missing and migrated; its log tables
are append-only, so use a dedicated database and drop it afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govflow.settings")
# As production runs: DEBUG's cursor wrapper records every query, a cost no deployment pays.
os.environ.setdefault("DJANGO_DEBUG", "0")


def _setup() -> None:
    import django

    django.setup()


def _ensure_database() -> None:
    import psycopg
    from dj_database_url import parse

    cfg = parse(os.environ["DATABASE_URL"])
    admin = f"host={cfg['HOST']} port={cfg['PORT'] or 5432} user={cfg['USER']} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        query = "SELECT 1 FROM pg_database WHERE datname=%s"
        exists = conn.execute(query, [cfg["NAME"]]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


def _writer(n: int, barrier) -> None:
    _setup()
    from django.db import connection, transaction

    from govflow.accounts.models import Organization
    from govflow.audit.events import EventType
    from govflow.audit.services import audit_append

    subject = Organization.objects.first()
    barrier.wait()
    for i in range(n):
        with transaction.atomic():
            audit_append(
                event_type=EventType.ORGANIZATION_CREATED, actor=None, subject=subject,
                organization_id=subject.pk, payload={"bench": i},
            )
    connection.close()


def _sequencer(stop, done_at) -> None:
    """Integrate while the writers write; record when nothing was left to integrate
    after the writers had stopped."""
    _setup()
    from django.db import connection

    from govflow.audit import log

    try:
        from govflow.audit.pending import unsequenced_exists
    except ImportError:  # a tree from before the sequencer's floor (to compare with)
        from govflow.audit.models import AuditEvent

        def unsequenced_exists() -> bool:
            return AuditEvent.objects.filter(leaf__isnull=True).exists()

    while True:
        finished = stop.is_set()
        log.log_integrate()
        if finished and not unsequenced_exists():
            done_at.value = time.perf_counter()
            break
        time.sleep(0.02)
    connection.close()


def append_rate(writers: int, per_writer: int) -> float:
    """govflow's append rate, sequencing included."""
    barrier = mp.Barrier(writers + 1)
    stop, done_at = mp.Event(), mp.Value("d", 0.0)
    sequencer = mp.Process(target=_sequencer, args=(stop, done_at))
    sequencer.start()
    procs = [mp.Process(target=_writer, args=(per_writer, barrier)) for _ in range(writers)]
    for p in procs:
        p.start()
    barrier.wait()
    start = time.perf_counter()
    for p in procs:
        p.join()
    stop.set()
    sequencer.join()
    return writers * per_writer / (done_at.value - start)


BARE_TABLE = """
CREATE TABLE IF NOT EXISTS bench_bare_log (
    id bigserial PRIMARY KEY, uuid uuid NOT NULL UNIQUE, event_type varchar(64) NOT NULL,
    created_at timestamptz NOT NULL, organization_id bigint, release_id bigint,
    subject_type varchar(64) NOT NULL, subject_id varchar(64) NOT NULL, payload jsonb NOT NULL,
    canonical text NOT NULL, leaf_hash varchar(64) NOT NULL
)"""


def _dsn() -> str:
    from dj_database_url import parse

    cfg = parse(os.environ["DATABASE_URL"])
    return (f"host={cfg['HOST']} port={cfg['PORT'] or 5432} user={cfg['USER']} "
            f"dbname={cfg['NAME']}" + (f" password={cfg['PASSWORD']}" if cfg["PASSWORD"] else ""))


def _bare_writer(n: int, barrier) -> None:
    import json

    import psycopg

    canonical = json.dumps({"payload": {"bench": 0}, "type": "organization.created"} | {
        "pad": "x" * 300})
    with psycopg.connect(_dsn()) as conn:
        barrier.wait()
        for i in range(n):
            conn.execute(
                "INSERT INTO bench_bare_log (uuid, event_type, created_at, organization_id, "
                "subject_type, subject_id, payload, canonical, leaf_hash) "
                "VALUES (%s, 'organization.created', now(), 1, 'accounts.organization', '1', "
                "%s, %s, %s)",
                [uuid.uuid4(), json.dumps({"bench": i}), canonical, "0" * 64],
            )
            conn.commit()


def bare_rate(writers: int, per_writer: int) -> float:
    """A bare single-row INSERT + COMMIT per event: the ceiling for this machine."""
    import psycopg

    with psycopg.connect(_dsn(), autocommit=True) as conn:
        conn.execute(BARE_TABLE)
        conn.execute("TRUNCATE bench_bare_log")
    barrier = mp.Barrier(writers + 1)
    procs = [mp.Process(target=_bare_writer, args=(per_writer, barrier)) for _ in range(writers)]
    for p in procs:
        p.start()
    barrier.wait()
    start = time.perf_counter()
    for p in procs:
        p.join()
    return writers * per_writer / (time.perf_counter() - start)


def bulk_fill(target: int) -> None:
    """Top the log up to ``target`` events quickly (bulk insert, same canonical form)."""
    from django.utils import timezone

    from govflow.audit.models import AuditEvent
    from govflow.core.digests import canonical_json

    have = AuditEvent.objects.count()
    batch = []
    now = timezone.now().isoformat().replace("+00:00", "Z")
    for i in range(have, target):
        u = uuid.uuid4()
        release = 1_000_000 + i % 100 if i % 2 else None
        body = {"v": 1, "uuid": str(u), "type": "bench.filled", "at": now, "actor": None,
                "organization": None, "release": release,
                "subject": {"type": "bench", "id": str(i)}, "payload": {"n": i}}
        data = canonical_json(body)
        batch.append(AuditEvent(
            uuid=u, event_type="bench.filled", created_at=timezone.now(), release_id=release,
            subject_type="bench",
            subject_id=str(i), payload={"n": i}, canonical=data.decode(),
            leaf_hash=hashlib.sha256(b"\x00" + data).hexdigest(),
        ))
        if len(batch) == 20000:
            AuditEvent.objects.bulk_create(batch)
            batch = []
            print(f"\r  filled {i + 1:,}/{target:,}", end="", flush=True)
    if batch:
        AuditEvent.objects.bulk_create(batch)
    print()


def hashlib_baseline(canonicals: list[bytes]) -> float:
    start = time.perf_counter()
    sha = hashlib.sha256
    level = [sha(b"\x00" + c).digest() for c in canonicals]
    while len(level) > 1:
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--append", type=int, default=2000, help="events per append run")
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternate bare and govflow this many times; medians reported")
    parser.add_argument("--append-only", action="store_true", help="only section 1")
    args = parser.parse_args()
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("set DATABASE_URL to a dedicated PostgreSQL database, e.g. …/govflow_bench")
    _ensure_database()
    _setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from govflow.accounts.models import Organization
    from govflow.accounts.services import organization_create

    if not Organization.objects.exists():
        organization_create(name="Bench Lab", slug="bench-lab", kind="lab")
    from django.db import connection

    connection.close()

    print("== 1. append (one transaction per event), sequencing included, vs bare INSERT")
    # The machine is shared and its load swings within seconds: each round measures the
    # bare INSERT and govflow back to back, and the ratio of each round is what counts.
    for writers in (1, 8):
        bares, ours = [], []
        for _ in range(args.rounds):
            bares.append(bare_rate(writers, args.append // writers))
            ours.append(append_rate(writers, args.append // writers))
        ratios = [o / b for o, b in zip(ours, bares, strict=True)]
        print(f"  {writers} writer(s): bare INSERT+COMMIT {statistics.median(bares):,.0f}/s   "
              f"govflow {statistics.median(ours):,.0f}/s   ratio median "
              f"{statistics.median(ratios):.2f} (rounds: "
              f"{', '.join(f'{r:.2f}' for r in ratios)})   load {os.getloadavg()[0]:.1f}",
              flush=True)
    if args.append_only:
        return

    from govflow.audit import log
    from govflow.audit.export import build_bundle
    from govflow.audit.logkey import log_verifier_key
    from govflow.verify.bundle import verify_bundle

    print(f"== 2. fill to {args.events:,} events, sequence and checkpoint")
    bulk_fill(args.events)
    start = time.perf_counter()
    checkpoint = log.checkpoint_create()
    print(f"  sequenced + checkpointed {checkpoint.size:,} events in "
          f"{time.perf_counter() - start:.1f} s")

    print(f"== 3. inclusion proofs at size {checkpoint.size:,}")
    import random

    rng = random.Random(7)
    times = []
    for _ in range(1000):
        index = rng.randrange(checkpoint.size)
        t = time.perf_counter()
        log.inclusion_proof(index, checkpoint.size)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"  p50 {statistics.median(times):.2f} ms   p99 {times[989]:.2f} ms")

    print("== 4. offline verification of the whole log")
    start = time.perf_counter()
    bundle = build_bundle(release=None)
    took = time.perf_counter() - start
    print(f"  export built in {took:.1f} s ({len(bundle['events']):,} events)")
    canonicals = [e["canonical"].encode() for e in bundle["events"]]
    base = hashlib_baseline(canonicals)
    start = time.perf_counter()
    report = verify_bundle(bundle, log_key=log_verifier_key())
    took = time.perf_counter() - start
    assert report.passed, report.render()
    print(f"  hashlib leaves+nodes: {base:.2f} s   govflow.verify: {took:.2f} s   "
          f"ratio {took / base:.2f}x")


if __name__ == "__main__":
    main()
