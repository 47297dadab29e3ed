"""Benchmark the input gate's cost (prints figures; not a test).

    .venv/bin/python bench/input_gate.py [--requests 2000] [--database-url URL]

What it measures: the latency of two requests through Django's full handler (every
middleware, URL resolution, the view, the database), in this process, with the input gate
(govflow.core.inputgate and the DSSE payload check in Statement.parse) switched on and off
alternately, request by request, in the same run:

  1. `GET /api/access/check?release=…&customer=…` as the serving gateway sends it (the
     demo world's release and customers; the access cache warm, as in steady state);
  2. `POST /api/findings` with a signed finding (a DSSE envelope, about 2 KB), each one
     a new finding.

"Off" means the gate's middleware passes every request through and the JSON is parsed by
DRF's own parser and plain `json.loads`, as on main before the gate. Figures are p50 and
p99 in milliseconds, and the difference of the medians. Without --database-url the world
is built in a fresh SQLite file in a temporary directory (the default cache is then the
file cache under it); with it, the database named must be a throwaway one (its log tables
are append-only). No network: the gate's cost is CPU in the web process, which this shows
without a load generator competing for the machine.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _configure(database_url: str | None) -> None:
    var = Path(tempfile.mkdtemp(prefix="govflow-bench-gate-"))
    os.environ["GOVFLOW_VAR_DIR"] = str(var)
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{var / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govflow.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")


class Switch:
    """Turns the gate off and on without rebuilding the handler."""

    def __init__(self) -> None:
        from rest_framework import parsers

        import govflow.trust.intoto as intoto
        from govflow.core import inputgate

        self.on = True
        gate_check = inputgate.InputGate.check
        gated_parse = inputgate.JSONParser.parse
        gated_json = intoto.parse_json
        switch = self

        def check(gate, request):
            return gate_check(gate, request) if switch.on else None

        def parse(parser, stream, media_type=None, parser_context=None):
            if switch.on:
                return gated_parse(parser, stream, media_type, parser_context)
            return parsers.JSONParser.parse(parser, stream, media_type, parser_context)

        def statement_json(payload, **kwargs):
            if switch.on:
                return gated_json(payload, **kwargs)
            text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
            return json.loads(text, **kwargs)

        inputgate.InputGate.check = check
        inputgate.JSONParser.parse = parse
        intoto.parse_json = statement_json


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def _run(name: str, send, count: int, switch: Switch) -> None:
    times = {True: [], False: []}
    statuses = {True: set(), False: set()}
    for n in range(count):
        for state in ((True, False) if n % 2 else (False, True)):  # alternate the order too
            switch.on = state
            started = time.perf_counter()
            status = send()
            times[state].append(time.perf_counter() - started)
            statuses[state].add(status)
    on, off = _percentiles(times[True]), _percentiles(times[False])
    print(f"{name}: {count} requests each way")
    for label, (p50, p99), state in (("off", off, False), ("on ", on, True)):
        print(f"  gate {label}: p50 {p50:.3f} ms  p99 {p99:.3f} ms  "
              f"(statuses {sorted(statuses[state])})")
    print(f"  cost at the median: {on[0] - off[0]:+.3f} ms "
          f"({(on[0] / off[0] - 1) * 100:+.1f} %)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per request kind and state")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    _configure(args.database_url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", "--noinput", verbosity=0)
    call_command("demo", verbosity=0, stdout=io.StringIO())
    from bench.findings_throughput import _setup_world
    from govflow.demo.build import demo_token
    from govflow.releases.models import Release
    from govflow.rollout.models import Customer

    release = Release.objects.get(title__icontains="audit") if Release.objects.filter(
        title__icontains="audit").count() == 1 else Release.objects.order_by("pk").first()
    customers = list(Customer.objects.filter(organization=release.organization)
                     .values_list("external_id", flat=True))
    _, plan = _setup_world(auditors=1, findings=2 * args.requests + 1)
    token, bodies = plan[0]
    switch = Switch()
    client = Client()

    gateway = {"HTTP_AUTHORIZATION": f"Bearer {demo_token('alice')}"}
    turn = iter(range(10**9))

    def access_check() -> int:
        customer = customers[next(turn) % len(customers)]
        return client.get(f"/api/access/check?release={release.pk}&customer={customer}",
                          **gateway).status_code

    pending = iter(bodies)
    auditor = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def signed_finding() -> int:
        return client.post("/api/findings", next(pending), content_type="application/json",
                           **auditor).status_code

    # warm caches, imports and the access cache
    for _ in range(50):
        access_check()
    signed_finding()
    print(f"database: {django.db.connection.vendor}; envelope body "
          f"{len(bodies[0])} bytes; release {release.pk} with {len(customers)} customers")
    _run("GET /api/access/check", access_check, args.requests, switch)
    _run("POST /api/findings (signed)", signed_finding, args.requests, switch)
    _micro(bodies[-1], release.pk, customers[0])


def _micro(body: bytes, release_id: int, customer: str) -> None:
    """The gate's own work per request, without the rest of the handler around it (the
    end-to-end difference above is within the noise of a database commit)."""
    import base64
    import timeit

    from django.test import RequestFactory

    from govflow.core.boundedjson import parse_json
    from govflow.core.inputgate import InputGate, check_headers

    gate = InputGate(lambda request: None)
    factory = RequestFactory()
    payload = base64.b64decode(json.loads(body)["envelope"]["payload"])
    url = f"/api/access/check?release={release_id}&customer={customer}"
    # what a browser and a proxy in front send: 15 header fields, a session and CSRF cookie
    browser = factory.get("/console/", **{
        "HTTP_HOST": "govflow.example", "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
        "HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9", "HTTP_ACCEPT_ENCODING": "gzip, deflate, br",
        "HTTP_COOKIE": "csrftoken=" + "c" * 32 + "; sessionid=" + "s" * 32,
        "HTTP_REFERER": "https://govflow.example/console/", "HTTP_CONNECTION": "keep-alive",
        "HTTP_UPGRADE_INSECURE_REQUESTS": "1", "HTTP_SEC_FETCH_DEST": "document",
        "HTTP_SEC_FETCH_MODE": "navigate", "HTTP_SEC_FETCH_SITE": "same-origin",
        "HTTP_X_FORWARDED_FOR": "203.0.113.9", "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_SEC_CH_UA": '"Chromium";v="120", "Not?A_Brand";v="24"'})
    cases = {
        "a browser's 15 headers: check_headers alone": lambda: check_headers(browser),
        # a fresh request each call, as in production; building it is timed on its own
        "access check: building the request (not the gate)": lambda: factory.get(url),
        "access check: building the request + the gate's check":
            lambda: gate.check(factory.get(url)),
        "finding request body: parse_json": lambda: parse_json(body),
        "finding request body: json.loads": lambda: json.loads(body),
        "DSSE payload: parse_json": lambda: parse_json(payload),
        "DSSE payload: json.loads": lambda: json.loads(payload),
    }
    print("the gate's own work, per call (median of 7 runs of 2,000):")
    for name, call in cases.items():
        runs = timeit.repeat(call, number=2000, repeat=7)
        print(f"  {name}: {statistics.median(runs) / 2000 * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
