"""Benchmark filing signed findings through gunicorn on loopback (prints figures; not a test).

    .venv/bin/python bench/findings_throughput.py \
        [--database-url postgres://postgres@127.0.0.1:5432/govflow_bench_findings] \
        [--findings 3000] [--clients 8] [--auditors 8] [--workers 3] [--threads 2]

What it does:
  1. creates the database if missing and migrates it (its findings and log tables are
     append-only: use a dedicated database, drop it afterwards);
  2. builds a lab, a release in third-party audit, a regulator who certifies an auditor
     firm with a signed certificate, and ``--auditors`` auditors, each with a registered
     Ed25519 key, an API token and an assignment to the release;
  3. signs ``--findings`` finding statements ahead of time (the auditors' own machines
     would; the signing is not what is measured);
  4. starts gunicorn (gthread workers, persistent database connections, DEBUG off) and
     POSTs the envelopes to /api/findings from ``--clients`` client processes over
     keep-alive connections, each request with an Idempotency-Key (as the client sends);
  5. reports findings accepted per second and p50/p99 latency, and checks the database
     holds exactly one finding and one `finding.filed` event per accepted request;
  6. on the same gunicorn, POSTs the same envelopes to the stripped baseline
     (bench/findings_baseline.py: token auth, JSON, DSSE Ed25519 verify, one
     `audit_append` transaction, no other logic) and prints both figures side by side,
     with govflow's share of the baseline.

Every request is served as in production: bearer-token lookup, Idempotency-Key record,
DSSE signature verification against the auditor's registered key, statement parsing,
the engagement/certificate/grant checks under the assignment's row lock, the finding
row and its audit event in one transaction.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/govflow_bench_findings"

BENCH_POLICY = """
name: bench_findings
stages:
  - name: internal_evals
  - name: third_party_audit
  - name: limited_rollout
    gates:
      - kind: third_party_audit
        risk_areas: [deception]
      - kind: open_findings
        severity: high
"""


def _ensure_database(url: str) -> None:
    import psycopg
    from dj_database_url import parse

    cfg = parse(url)
    admin = f"host={cfg['HOST']} port={cfg['PORT'] or 5432} user={cfg['USER']} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname=%s",
                            [cfg["NAME"]]).fetchone():
            conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


def prepare_database(url: str) -> None:
    """Point this process (and the gunicorn it starts) at ``url`` with the baseline's
    settings, DEBUG off, persistent connections; create and migrate the database."""
    if "postgres" not in url:
        sys.exit("use a dedicated PostgreSQL database, e.g. " + DEFAULT_DB)
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="bench.findings_baseline_settings",
                      DJANGO_DEBUG="false", GOVFLOW_LOG_LEVEL="WARNING",
                      DATABASE_CONN_MAX_AGE="600")
    _ensure_database(url)
    subprocess.run([sys.executable, str(REPO / "manage.py"), "migrate", "-v0"], check=True,
                   cwd=REPO)


def _setup_world(auditors: int, findings: int) -> tuple[int, list[tuple[str, list[bytes]]]]:
    """Build the world through the services; return the release id and, per auditor,
    (token, pre-signed request bodies)."""
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone

    from govflow.accounts.services import (
        membership_grant,
        organization_create,
        token_issue,
        user_create,
    )
    from govflow.auditing import predicates as statements
    from govflow.auditing import services
    from govflow.auditing.acts import CERTIFICATE_ISSUE
    from govflow.client import signing
    from govflow.keys.acts import act_perform
    from govflow.keys.services import key_register
    from govflow.policy.services import policy_register
    from govflow.releases.services import release_advance, release_open
    from govflow.systems.services import system_register
    from govflow.trust.keys import generate_private_key, public_key_to_base64

    run = uuid.uuid4().hex[:8]

    def org(kind: str):
        return organization_create(name=f"bench {kind} {run}", slug=f"bench-{kind}-{run}",
                                   kind=kind)

    def someone(organization, role: str, name: str):
        user = user_create(username=f"{name}-{run}")
        membership_grant(user=user, organization=organization, role=role)
        key = generate_private_key()
        key_register(user=user, public_key=public_key_to_base64(key.public_key()), name="bench")
        return user, key

    lab, firm, regulators = org("lab"), org("auditor"), org("regulator")
    manager, _ = someone(lab, "release_manager", "manager")
    rita, rita_key = someone(regulators, "regulator", "rita")
    version = system_register(organization=lab, name=f"bench system {run}", actor=manager,
                              manifest={"model": {"name": "bench", "parameter_count": 1,
                                                  "weights_digest": "sha256:" + "ab" * 32}})
    release = release_open(system_version=version, title=f"bench {run}", actor=manager,
                           policy_version=policy_register(source=BENCH_POLICY))
    release_advance(release_id=release.pk, actor=manager)
    now = timezone.now()
    certificate = statements.build_certificate(
        auditor=firm.slug, risk_areas=["deception"], access_levels=["black_box"],
        valid_from=now.isoformat(), valid_until=(now + timedelta(days=30)).isoformat())
    act_perform(CERTIFICATE_ISSUE, envelope=signing.sign(certificate, rita_key), actor=rita)
    release_json = {"id": release.pk, "system": version.system_id,
                    "system_version_number": version.number,
                    "manifest_digest": version.manifest_digest}
    plan = []
    per_auditor = -(-findings // auditors)
    for n in range(auditors):
        user, key = someone(firm, "auditor", f"auditor{n}")
        services.assignment_create(release_id=release.pk, auditor=user, actor=rita,
                                   ends_at=now + timedelta(days=7))
        bodies = []
        for i in range(per_auditor):
            statement = statements.build_finding(
                release=release_json, title=f"bench finding {n}/{i}", severity="low",
                category="deception", description="Deceives its manager under pressure. " * 8,
                reproduction_steps=["run the scenario at pressure 0.8", "read the report"])
            bodies.append(json.dumps({"envelope": signing.sign(statement, key)}).encode())
        plan.append((token_issue(user=user, name="bench").secret, bodies))
    from django.db import connection

    connection.close()
    return release.pk, plan


def _client(port: int, requests: list[tuple[str, bytes]], idempotency: bool, barrier,
            results, url: str = "/api/findings") -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, statuses = [], {}
    barrier.wait()
    for token, body in requests:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if idempotency:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        start = time.perf_counter()
        try:
            conn.request("POST", url, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status = 0
        latencies.append(time.perf_counter() - start)
        statuses[status] = statuses.get(status, 0) + 1
    results.put((latencies, statuses))


def _cpu_seconds(port: int, database: str) -> dict[str, float]:
    """CPU time used so far by this benchmark's gunicorn and by the PostgreSQL backends
    serving its database (from /proc; Linux only): where a request's cost goes. Other
    sessions on the same server are left out."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        used = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        if b"gunicorn" in cmdline and f"127.0.0.1:{port}".encode() in cmdline:
            name = "gunicorn"
        elif cmdline.startswith(b"postgres:") and f" {database} ".encode() in cmdline:
            name = "postgres"
        else:
            continue
        totals[name] = totals.get(name, 0.0) + used
    return totals


def _wait_ready(port: int, token: str, proc: subprocess.Popen) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("gunicorn exited during start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/me", headers={"Authorization": f"Bearer {token}"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not answer within 60 s")


def _run_clients(port: int, plan, clients: int, idempotency: bool = True,
                 url: str = "/api/findings") -> tuple[float, list[float], dict]:
    # Interleave the auditors' findings and deal them out to the client processes (with
    # as many clients as auditors, each client files one auditor's findings).
    interleaved = []
    for i in range(max(len(bodies) for _, bodies in plan)):
        interleaved += [(token, bodies[i]) for token, bodies in plan if i < len(bodies)]
    work = [interleaved[c::clients] for c in range(clients)]
    barrier, results = mp.Barrier(clients + 1), mp.Queue()
    procs = [mp.Process(target=_client,
                        args=(port, requests, idempotency, barrier, results, url))
             for requests in work]
    for p in procs:
        p.start()
    barrier.wait()
    start = time.perf_counter()
    collected = [results.get() for _ in procs]
    wall = time.perf_counter() - start
    for p in procs:
        p.join()
    latencies = sorted(lat for lats, _ in collected for lat in lats)
    statuses: dict[int, int] = {}
    for _, counts in collected:
        for code, n in counts.items():
            statuses[code] = statuses.get(code, 0) + n
    return wall, latencies, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--findings", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client processes")
    parser.add_argument("--auditors", type=int, default=8, help="auditors filing (each has "
                        "its own engagement, whose row lock serialises its own findings)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads per gunicorn worker (1: sync workers)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-idempotency-key", action="store_true",
                        help="send no Idempotency-Key (the client always sends one)")
    args = parser.parse_args()
    from dj_database_url import parse

    prepare_database(args.database_url)
    print(f"== setting up {args.auditors} assigned auditors, signing "
          f"{args.findings + args.warmup} findings")
    release, plan = _setup_world(args.auditors, args.findings + args.warmup)
    warm = [(token, bodies[: args.warmup // len(plan)]) for token, bodies in plan]
    timed = [(token, bodies[args.warmup // len(plan):]) for token, bodies in plan]

    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "govflow.wsgi:application",
         "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers),
         *(["--worker-class", "gthread", "--threads", str(args.threads)]
           if args.threads > 1 else ["--worker-class", "sync"]),
         "--keep-alive", "30", "--log-level", "warning"],
        cwd=REPO, env=os.environ.copy(), start_new_session=True,
    )
    try:
        _wait_ready(args.port, plan[0][0], gunicorn)
        kind = f"x {args.threads} threads (gthread)" if args.threads > 1 else "(sync)"
        print(f"== gunicorn: {args.workers} workers {kind}; {args.clients} client processes")
        _run_clients(args.port, warm, args.clients)
        database = parse(args.database_url)["NAME"]
        cpu_before = _cpu_seconds(args.port, database)
        wall, latencies, statuses = _run_clients(args.port, timed, args.clients,
                                                 idempotency=not args.no_idempotency_key)
        cpu_after = _cpu_seconds(args.port, database)
        _run_clients(args.port, warm, args.clients, idempotency=False, url="/bench/baseline")
        base_wall, base_latencies, base_statuses = _run_clients(
            args.port, timed, args.clients, idempotency=False, url="/bench/baseline")
        cpu_base = _cpu_seconds(args.port, database)
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)

    accepted = statuses.get(201, 0)
    ms = [lat * 1000 for lat in latencies]
    print(f"== {sum(statuses.values())} findings POSTed in {wall:.2f} s: statuses {statuses}")
    print(f"  accepted: {accepted / wall:,.0f} findings/s")
    print(f"  latency: p50 {statistics.median(ms):.1f} ms   "
          f"p99 {ms[int(len(ms) * 0.99) - 1]:.1f} ms   max {ms[-1]:.1f} ms")
    per = {name: (cpu_after.get(name, 0) - cpu_before.get(name, 0)) * 1000 / max(accepted, 1)
           for name in ("gunicorn", "postgres")}
    print("  CPU per accepted finding: " + ", ".join(f"{k} {v:.1f} ms" for k, v in per.items())
          + f" (on {os.cpu_count()} cores)")
    base_ok = base_statuses.get(201, 0)
    base_ms = [lat * 1000 for lat in base_latencies]
    base_cpu = {name: (cpu_base.get(name, 0) - cpu_after.get(name, 0)) * 1000 / max(base_ok, 1)
                for name in ("gunicorn", "postgres")}
    print(f"== stripped baseline (token auth, JSON, DSSE verify, one audit_append), same "
          f"gunicorn: statuses {base_statuses}")
    print(f"  {'':10} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8} {'gunicorn CPU ms':>16}")
    for label, n, t, lat, cpu in (("govflow", accepted, wall, ms, per),
                                  ("baseline", base_ok, base_wall, base_ms, base_cpu)):
        print(f"  {label:10} {n / t:8,.0f} {statistics.median(lat):8.1f} "
              f"{lat[int(len(lat) * 0.99) - 1]:8.1f} {cpu['gunicorn']:16.1f}")
    print(f"  govflow runs at {100 * (accepted / wall) / max(base_ok / base_wall, 1e-9):.0f}% "
          f"of the baseline (goal: at least 50%, p99 at most 50 ms)")
    print(f"  machine load (1, 5, 15 min): {' '.join(f'{v:.2f}' for v in os.getloadavg())}")

    import django

    django.setup()
    from govflow.audit.models import AuditEvent
    from govflow.auditing.models import Finding

    stored = Finding.objects.filter(release_id=release).count()
    events = AuditEvent.objects.filter(release_id=release, event_type="finding.filed").count()
    warmed = sum(len(b) for _, b in warm)
    print(f"  stored: {stored} findings, {events} finding.filed events "
          f"(expected {accepted + warmed} each, {warmed} from the warm-up)")
    if not stored == events == accepted + warmed:
        sys.exit("MISMATCH between accepted requests, findings and events")


if __name__ == "__main__":
    main()
