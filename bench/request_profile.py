"""Where a request's time goes: the queries and the profile of POST /api/findings and
GET /api/me, in-process (prints figures; not a test).

    .venv/bin/python bench/request_profile.py \
        [--database-url postgres://postgres@127.0.0.1:5432/govflow_bench_profile] \
        [--requests 300] [--top 25]

It builds the world of bench/findings_throughput.py (one auditor, assigned, keyed,
certified; findings signed ahead of time), then through Django's test client, which runs
the same middleware and views as gunicorn does:
  1. lists every SQL statement one request runs (POST /api/findings with an
     Idempotency-Key, as the client sends, then GET /api/me), with its time;
  2. profiles ``--requests`` requests of each with cProfile and prints the functions with
     the most time of their own, and each middleware's cumulative time (the middleware
     nest: a middleware's figure includes everything inside it);
  3. prints the CPU time per request with and without the profiler.
Use a dedicated PostgreSQL database (findings and the log are append-only).
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import io
import json
import os
import pstats
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/govflow_bench_profile"


# The steps of a request worth naming: (file suffix, function) under a label.
PHASES = {
    "token authentication": ("accounts/authentication.py", "authenticate"),
    "organization + roles": ("accounts/selectors.py", "user_identity"),
    "  user_organization": ("accounts/selectors.py", "user_organization"),
    "  user_roles": ("accounts/selectors.py", "user_roles"),
    "idempotency: fingerprint": ("core/idempotency.py", "_fingerprint"),
    "idempotency: reserve": ("core/idempotency.py", "_reserve"),
    "idempotency: whole wrapper": ("core/idempotency.py", "wrapper"),
    "act_perform": ("keys/acts.py", "act_perform"),
    "  statement_read (parse)": ("keys/verification.py", "statement_read"),
    "  authorise": ("auditing/acts.py", "_engaged"),
    "  signature_verify": ("keys/verification.py", "signature_verify"),
    "  act_record (transaction)": ("keys/acts.py", "act_record"),
    "    nonce_spend": ("keys/acts.py", "nonce_spend"),
    "    finding_file": ("auditing/services/findings.py", "finding_file"),
    "      engagement_in_force": ("auditing/services/standing.py", "engagement_in_force"),
    "      audit_append": ("audit/services.py", "audit_append"),
    "output serializer .data": ("rest_framework/serializers.py", "data"),
    "render (JSONRenderer)": ("rest_framework/renderers.py", "render"),
    "receipt: attach": ("audit/receipts.py", "_attach"),
    "receipt: remember/recall": ("audit/receipts.py", "_remember_or_recall"),
    "/api/me view": ("accounts/api.py", "get"),
    "psycopg execute (all)": ("django/db/backends/utils.py", "_execute"),
    "ORM compile (all)": ("django/db/models/sql/compiler.py", "as_sql"),
}


def _queries_of(send) -> list[tuple[float, str]]:
    """(wall ms, SQL) of every statement ``send`` runs, savepoints and COMMIT included."""
    from django.db import connection

    seen: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append(((time.perf_counter() - start) * 1000, sql))

    real_commit = connection.connection.commit

    def commit() -> None:  # Django commits through the driver, not through a cursor
        start = time.perf_counter()
        real_commit()
        seen.append(((time.perf_counter() - start) * 1000, "COMMIT"))

    connection.connection.commit = commit
    try:
        with connection.execute_wrapper(timed):
            send()
    finally:
        connection.connection.commit = real_commit
    return seen


def _print_queries(title: str, queries: list[tuple[float, str]]) -> None:
    print(f"== {title}: {len(queries)} statements (COMMIT included; BEGIN is implicit)")
    for n, (ms, sql) in enumerate(queries, 1):
        print(f"  {n:2} {ms:6.2f} ms  {' '.join(sql.split())[:140]}")


class _Timings:
    """Each middleware's time, inclusive of everything inside it (the middleware nest):
    Django's handler wraps every layer with ``convert_exception_to_response`` when it
    loads the middleware, so wrapping that function times every layer and the view."""

    def __init__(self) -> None:
        self.names: list[str] = []  # outermost first
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def install(self) -> None:
        from django.core.handlers import base

        original = base.convert_exception_to_response

        def timed(inner):
            name = "view (URL resolve, DRF, view)" if inspect.ismethod(inner) \
                else type(inner).__name__
            self.names.insert(0, name)

            def layer(request):
                wall, cpu = time.perf_counter(), time.process_time()
                try:
                    return inner(request)
                finally:
                    self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - wall
                    self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu

            return original(layer)

        base.convert_exception_to_response = timed

    def reset(self) -> None:
        self.wall.clear()
        self.cpu.clear()

    def print(self, count: int) -> None:
        print("-- each layer's own time, ms per request (its total minus the layer inside it)")
        print(f"  {'wall':>7} {'CPU':>7}  layer (outermost first)")
        for i, name in enumerate(self.names):
            inner = self.names[i + 1] if i + 1 < len(self.names) else None
            own_wall = self.wall.get(name, 0.0) - (self.wall.get(inner, 0.0) if inner else 0.0)
            own_cpu = self.cpu.get(name, 0.0) - (self.cpu.get(inner, 0.0) if inner else 0.0)
            print(f"  {own_wall * 1000 / count:7.3f} {own_cpu * 1000 / count:7.3f}  {name}")


def _profile(title: str, send, count: int, top: int, timings: _Timings,
             sort: str = "tottime") -> None:
    timings.reset()
    start = time.process_time()
    for _ in range(count):
        send()
    plain = (time.process_time() - start) * 1000 / count
    print(f"== {title}: {plain:.2f} ms CPU per request in this process (unprofiled; the "
          "test client's own work included)")
    timings.print(count)
    # CPU time, not wall: where this process spends its processor (the database's own
    # work and the waits for it are the wall figures above).
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(count):
        send()
    profiler.disable()
    stats = pstats.Stats(profiler)
    print("-- steps, cumulative CPU ms per request (profiled, so inflated; compare rows)")
    for label, (filename, func) in PHASES.items():
        spent = sum(ct for (file, _line, name), (_cc, _nc, _tt, ct, _callers)
                    in stats.stats.items()  # type: ignore[attr-defined]
                    if name == func and file.endswith(filename))
        if spent:
            print(f"  {spent * 1000 / count:7.3f}  {label}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(top)
    print(f"-- cProfile, by {sort} CPU time (all requests)")
    print("\n".join(line for line in out.getvalue().splitlines()[4:] if line.strip()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"],
                        help="order of the cProfile listing")
    args = parser.parse_args()
    from bench.findings_throughput import _setup_world, prepare_database

    prepare_database(args.database_url)
    _, plan = _setup_world(1, 3 * args.requests + 20)
    token, bodies = plan[0]
    from django.test import Client

    timings = _Timings()
    timings.install()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    pending = iter(bodies)

    def file_one() -> None:
        response = client.post("/api/findings", data=next(pending),
                               content_type="application/json",
                               HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
        if response.status_code != 201:
            sys.exit(f"POST /api/findings: {response.status_code} {response.content[:300]!r}")

    def baseline() -> None:
        response = client.post("/bench/baseline", data=next(pending),
                               content_type="application/json")
        if response.status_code != 201:
            sys.exit(f"POST /bench/baseline: {response.status_code}")

    def me() -> None:
        response = client.get("/api/me")
        if response.status_code != 200:
            sys.exit(f"GET /api/me: {response.status_code}")

    for _ in range(5):  # warm: imports, URL resolver, prepared caches
        file_one()
        me()
    _print_queries("POST /api/findings", _queries_of(file_one))
    _print_queries("GET /api/me", _queries_of(me))
    response = client.get("/api/me")
    print("  /api/me body:", json.dumps(response.json())[:200])
    _profile("POST /api/findings", file_one, args.requests, args.top, timings, args.sort)
    _profile("GET /api/me", me, args.requests, args.top, timings, args.sort)
    _print_queries("POST /bench/baseline (the stripped path)", _queries_of(baseline))
    _profile("POST /bench/baseline", baseline, args.requests // 2, args.top, timings, args.sort)
    print(f"  machine load (1, 5, 15 min): {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
