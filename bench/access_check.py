"""Benchmark the serving gateway's access check (prints figures; not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/govflow_bench_access \
    GOVFLOW_CACHE_URL=redis://127.0.0.1:6379/13 \
        .venv/bin/python bench/access_check.py [--seconds 15] [--connections 4]

Reports:
  1. `GET /api/access/check` through gunicorn on loopback, against PostgreSQL and Redis:
     checks per second and p50/p99/p99.9 latency, for a release in its limited rollout
     with a cohort of 1,000 KYC'd customers (members and non-members asked at random), the
     cache warm as it is in steady state; then the same with the access cache switched off
     (bench/access_check_nocache_settings.py), every answer computed from PostgreSQL, as
     for a first-time customer or the first check after a pause;
  2. local membership checks per second against a signed snapshot of the same cohort
     (govflow.rollout.membership.SnapshotIndex: leaf, position and inclusion proof against
     the signed root), and the one-time cost of verifying the snapshot.

The load generator is a few processes of plain keep-alive sockets (no HTTP library), so
that it takes as little of this machine's CPU from gunicorn as it can; it shares the
machine all the same, which the figures include. The database named in DATABASE_URL is
created if missing and migrated; use a dedicated one (its log tables are append-only).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govflow.settings")

TOKEN = "gf_bench_access_gateway_token"
COHORT = 1000
POLICY = """
name: bench_access
stages:
  - name: internal_evals
  - name: limited_rollout
    gates:
      - kind: cohort
        cap: 1000
        kyc_level: standard
  - name: general_availability
"""


def _ensure_database() -> None:
    import psycopg
    from dj_database_url import parse

    cfg = parse(os.environ["DATABASE_URL"])
    admin = f"host={cfg['HOST']} port={cfg['PORT'] or 5432} user={cfg['USER']} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname=%s",
                              [cfg["NAME"]]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


def _world() -> int:
    """A lab, its gateway's token, and a release in its limited rollout with 1,000
    KYC'd customers in the cohort. Idempotent; returns the release id."""
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from govflow.accounts.models import ApiToken
    from govflow.accounts.services import (
        membership_grant,
        organization_create,
        token_digest,
        token_issue,
        user_create,
    )
    from govflow.policy.services import policy_register
    from govflow.releases.models import Release
    from govflow.releases.services import release_advance, release_open
    from govflow.rollout.models import Customer
    from govflow.rollout.providers import KycResult
    from govflow.rollout.services import cohort_admit, customer_register, kyc_record
    from govflow.systems.services import system_register

    release = Release.objects.filter(title="bench access").first()
    if release is not None:
        return release.pk
    lab = organization_create(name="Bench Lab", slug="bench-lab", kind="lab")
    manager = user_create(username="bench-manager")
    membership_grant(user=manager, organization=lab, role="release_manager")
    if not ApiToken.objects.filter(digest=token_digest(TOKEN)).exists():
        token_issue(user=manager, name="gateway", ttl_days=3650, secret=TOKEN)
    version = system_register(organization=lab, name="bench system", actor=manager, manifest={
        "model": {"name": "bench", "weights_digest": "sha256:" + "1" * 64,
                  "parameter_count": 1}})
    release = release_open(system_version=version, policy_version=policy_register(
        source=POLICY, source_path="bench"), title="bench access", actor=manager)
    now = timezone.now()
    print(f"  registering {COHORT:,} customers with KYC …", flush=True)
    for n in range(COHORT):
        customer = customer_register(organization=lab, external_id=f"cust-{n:05d}",
                                     display_name=f"Customer {n}", actor=manager)
        kyc_record(customer_id=customer.pk, provider_name="bench", actor=manager,
                   result=KycResult(organization=lab.slug, customer=customer.external_id,
                                    reference=f"chk-{n}", level="standard", status="verified",
                                    evidence_digest="sha256:" + "2" * 64,
                                    verified_at=now - timedelta(days=1),
                                    expires_at=now + timedelta(days=365)))
    external_ids = list(Customer.objects.filter(organization=lab)
                        .values_list("external_id", flat=True))
    cohort_admit(release_id=release.pk, stage="limited_rollout", external_ids=external_ids,
                 actor=manager)
    release_advance(release_id=release.pk, actor=manager)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would, soon after a bulk load
    return release.pk


# --- the load generator ------------------------------------------------------------------


def _request(release: int, customer: str) -> bytes:
    return (f"GET /api/access/check?release={release}&customer={customer} HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n").encode()


def _client(port: int, release: int, connections: int, seconds: float, warmup: float,
            seed: int, out) -> None:
    rng = random.Random(seed)
    # Members and non-members (whom the check must refuse) at random.
    requests = [_request(release, f"cust-{rng.randrange(int(COHORT * 1.2)):05d}")
                for _ in range(4096)]
    sel = selectors.DefaultSelector()
    state = {}
    for _ in range(connections):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        state[sock] = {"buf": b"", "sent": 0.0}
        sel.register(sock, selectors.EVENT_READ)
    latencies: list[float] = []
    errors = cached = 0
    start = time.perf_counter()
    measure_from = start + warmup
    end = measure_from + seconds
    i = 0

    def send(sock):
        nonlocal i
        state[sock]["sent"] = time.perf_counter()
        sock.sendall(requests[i & 4095])
        i += 1

    for sock in state:
        send(sock)
    while True:
        now = time.perf_counter()
        if now >= end:
            break
        for key, _ in sel.select(timeout=1.0):
            sock = key.fileobj
            st = state[sock]
            chunk = sock.recv(65536)
            if not chunk:
                raise SystemExit("gunicorn closed a keep-alive connection")
            st["buf"] += chunk
            head, sep, rest = st["buf"].partition(b"\r\n\r\n")
            if not sep:
                continue
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            if len(rest) < length:
                continue
            body, st["buf"] = rest[:length], rest[length:]
            done = time.perf_counter()
            if not head.startswith(b"HTTP/1.1 200"):
                errors += 1
            if done >= measure_from:
                latencies.append(done - st["sent"])
                cached += b'"cached": true' in body
            send(sock)
    out.put((latencies, errors, cached))


def load(port: int, release: int, *, processes: int, connections: int, seconds: float,
         warmup: float) -> dict:
    out = mp.Queue()
    procs = [mp.Process(target=_client, args=(port, release, connections, seconds, warmup,
                                              n, out)) for n in range(processes)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = sorted(x for r in results for x in r[0])
    errors = sum(r[1] for r in results)
    count = len(latencies)
    cached = sum(r[2] for r in results) / max(count, 1)

    def pct(q: float) -> float:
        return latencies[min(count - 1, int(q * count))] * 1000

    return {"checks": count, "per_second": count / seconds, "p50": pct(0.50),
            "p99": pct(0.99), "p999": pct(0.999), "errors": errors,
            "mean": statistics.fmean(latencies) * 1000, "cached": cached}


def _warm(port: int, release: int) -> None:
    """Ask once for every customer the load will ask about: the steady state of a gateway
    whose customers come back, session after session."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor

    def ask(ids):
        conn = http.client.HTTPConnection("127.0.0.1", port)
        for n in ids:
            conn.request("GET", f"/api/access/check?release={release}&customer=cust-{n:05d}",
                         headers={"Authorization": f"Bearer {TOKEN}"})
            conn.getresponse().read()
        conn.close()

    everyone = list(range(int(COHORT * 1.2)))
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(ask, [everyone[i::4] for i in range(4)]))


def _gunicorn(port: int, workers: int, threads: int,
              settings_module: str = "govflow.settings") -> subprocess.Popen:
    # Persistent database connections, as a gunicorn deployment would configure them.
    env = {**os.environ, "DJANGO_DEBUG": "false", "GOVFLOW_LOG_LEVEL": "WARNING",
           "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "600"),
           "DJANGO_SETTINGS_MODULE": settings_module}
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "govflow.wsgi", "--pythonpath", str(ROOT / "bench"),
           "--bind", f"127.0.0.1:{port}",
           "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
           "--keep-alive", "60", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def _empty_cache() -> None:
    from django.conf import settings
    from django.core.cache import caches

    caches[settings.GOVFLOW_ACCESS_CACHE_ALIAS].clear()


# --- local snapshot checks ---------------------------------------------------------------


def snapshot_checks(release: int, iterations: int) -> tuple[float, float, float]:
    from govflow.audit.logkey import log_signing_key
    from govflow.rollout.api.serializers import SnapshotOut
    from govflow.rollout.membership import SnapshotIndex
    from govflow.rollout.models import Cohort
    from govflow.rollout.services import snapshot_publish

    cohort = Cohort.objects.get(release_id=release, stage="limited_rollout")
    snapshot = snapshot_publish(cohort_id=cohort.pk)
    body = SnapshotOut(snapshot, context={"with_members": True}).data
    key = log_signing_key().public_key()
    started = time.perf_counter()
    index = SnapshotIndex(body, key)
    load_ms = (time.perf_counter() - started) * 1000
    rng = random.Random(3)
    asked = [f"cust-{rng.randrange(int(COHORT * 1.2)):05d}" for _ in range(iterations)]
    started = time.perf_counter()
    hits = sum(1 for customer in asked if index.contains(customer))
    per_second = iterations / (time.perf_counter() - started)
    return load_ms, per_second, hits / iterations


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--connections", type=int, default=4, help="per process")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--port", type=int, default=8931)
    parser.add_argument("--snapshot-checks", type=int, default=200_000)
    args = parser.parse_args()
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("set DATABASE_URL to a dedicated database, e.g. …/govflow_bench_access")
    if not os.environ.get("GOVFLOW_CACHE_URL", "").startswith("redis://"):
        sys.exit("set GOVFLOW_CACHE_URL to a Redis database of its own, e.g. redis://…/13")
    _ensure_database()
    print("== setting up", flush=True)
    release = _world()
    from django.db import connection

    connection.close()
    _empty_cache()
    cores = os.cpu_count()
    print(f"  release {release}, cohort {COHORT:,}; {cores} cores; gunicorn {args.workers} "
          f"workers x {args.threads} threads (gthread); load {args.processes} processes x "
          f"{args.connections} keep-alive connections")
    server = _gunicorn(args.port, args.workers, args.threads)
    try:
        print(f"== 1. access checks through gunicorn, {args.seconds:g} s after "
              f"{args.warmup:g} s warm-up")
        _warm(args.port, release)
        _print("cache warm (steady state)", load(
            args.port, release, processes=args.processes, connections=args.connections,
            seconds=args.seconds, warmup=args.warmup))
    finally:
        _stop(server)
    server = _gunicorn(args.port, args.workers, args.threads,
                       settings_module="access_check_nocache_settings")
    try:
        _print("access cache off (every answer from PostgreSQL)", load(
            args.port, release, processes=args.processes, connections=args.connections,
            seconds=args.seconds, warmup=args.warmup))
    finally:
        _stop(server)
    print("== 2. local snapshot membership checks (verify once, then leaf + inclusion proof)")
    load_ms, per_second, hit_rate = snapshot_checks(release, args.snapshot_checks)
    print(f"  verifying the signed snapshot of {COHORT:,}: {load_ms:.1f} ms")
    print(f"  {per_second:,.0f} membership checks/s ({hit_rate:.0%} members)")


def _print(label: str, r: dict) -> None:
    print(f"  {label}:\n    {r['per_second']:,.0f} checks/s   p50 {r['p50']:.2f} ms   "
          f"p99 {r['p99']:.2f} ms   p99.9 {r['p999']:.2f} ms   ({r['checks']:,} checks, "
          f"{r['cached']:.0%} from the cache, {r['errors']} errors)", flush=True)


def _stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


if __name__ == "__main__":
    main()
