"""schemathesis against the live server's OpenAPI schema: gunicorn (the Procfile's `web`)
serving the demo world, every operation fuzzed as a lab's release manager and as a
regulator; no operation may answer 500 and every response must conform to the schema it
documents (the issue's *findings are fixed, not excluded*)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings

from tests.e2e.stack import Stack, pg_create, pg_drop

pytestmark = [
    pytest.mark.e2e,
    # It runs once per CI run, in the PostgreSQL one (.ci/run): the API surface is the
    # same on SQLite, and three minutes twice would not fit CI's budget.
    pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                       reason="schemathesis runs against PostgreSQL: set "
                              "DATABASE_URL=postgres://… (SQLite default in use)"),
]

# Examples per operation in the fuzzing phase: small enough that both personas finish
# well under three minutes on a two-core CI machine.
MAX_EXAMPLES = int(os.environ.get("GOVFLOW_SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = "not_a_server_error,response_schema_conformance"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """gunicorn over the demo world, in a PostgreSQL database of its own (dropped
    afterwards). No Celery worker: tasks the API queues go to a filesystem broker
    directory nobody reads, so no other test run's worker can take them."""
    root = tmp_path_factory.mktemp("schemathesis")
    admin_url = os.environ.get("DATABASE_URL", "")
    name = f"gf_schemathesis_{os.getpid()}"
    url = pg_create(admin_url, name)
    stack = Stack(root, database_url=url)
    try:
        stack.manage("migrate", "--noinput", "-v0")
        stack.manage("demo")
        stack.start("web")
        stack.wait_http()
        yield stack
    finally:
        stack.stop_all()
        pg_drop(admin_url, name)


@pytest.mark.parametrize("persona", ["alice", "rita"])
def test_the_live_api_conforms_to_its_schema_and_never_fails(demo_server, persona, tmp_path):
    # given the demo world and a persona's token (alice: release manager; rita: regulator)
    token = f"gf_demo_{persona}_token"

    # when schemathesis generates requests for every operation in /api/schema/
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{demo_server.url}/api/schema/",
         "--header", f"Authorization: Bearer {token}", "--checks", CHECKS,
         "--phases", "examples,coverage,fuzzing", "--max-examples", str(MAX_EXAMPLES),
         "--workers", "2", "--seed", "20261124", "--generation-database", "none",
         "--request-timeout", "30", "--no-color"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    elapsed = time.monotonic() - started

    # then no operation answered 500 or broke its documented schema
    assert result.returncode == 0, (
        f"schemathesis ({persona}) found problems:\n{result.stdout[-30000:]}\n"
        f"{demo_server.log('web')[-5000:]}"
    )
    assert "Tested:" in result.stdout, result.stdout[-3000:]
    print(f"schemathesis as {persona}: {elapsed:.0f}s")
