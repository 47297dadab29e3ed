"""docs/walkthrough.md, executed: each ```sh block in order, in one shell, in a scratch
directory, against a live demo server; each block's output must show its `#> …` lines.

The server is the demo as `make run` builds it (migrate, `manage.py demo`), on the
database the suite runs on: a fresh PostgreSQL database when DATABASE_URL names one, else
an embedded SQLite file in the test's directory. Celery tasks run eagerly in the web
process (no worker, no broker, and Redis is never touched). When an act changes (a flag, an
answer), change the page and its `#>` lines together: this test is how they stay true.
"""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from tests.docs.shell_doc import Shell, blocks, missing
from tests.e2e.stack import REPO, Stack, pg_create, pg_drop

PAGE = REPO / "docs" / "walkthrough.md"
BLOCK_TIMEOUT = 120

pytestmark = [pytest.mark.e2e, pytest.mark.walkthrough]


def _status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=REPO,
                          capture_output=True, text=True, check=False).stdout


@pytest.fixture
def demo_server(tmp_path):
    admin = os.environ.get("DATABASE_URL", "")
    name = f"govflow_walkthrough_{uuid.uuid4().hex[:8]}"
    if admin.startswith("postgres"):
        url = pg_create(admin, name)
    else:
        url = f"sqlite:///{tmp_path / 'var' / 'govflow.sqlite3'}"
    stack = Stack(tmp_path, database_url=url, extra={"CELERY_TASK_ALWAYS_EAGER": "1"})
    try:
        stack.manage("migrate", "--noinput")
        stack.manage("demo")
        stack.start("web", f"python manage.py runserver 127.0.0.1:{stack.port} --noreload")
        stack.wait_http()
        yield stack
    finally:
        stack.stop_all()
        if admin.startswith("postgres"):
            pg_drop(admin, name)


def test_the_walkthrough_runs_as_written(demo_server):
    page = PAGE.read_text()
    before = _status()
    shell = Shell(REPO, {**demo_server.env, "GF": str(REPO), "GOVFLOW_URL": demo_server.url})
    try:
        for block in blocks(page):
            output, _ = shell.run(block.code, BLOCK_TIMEOUT)
            absent = missing(block.expected, output)
            assert absent is None, (
                f"docs/walkthrough.md block {block.number} (line {block.line}): expected "
                f"{absent!r} in its output:\n{output[-4000:]}\n"
                f"--- server log\n{demo_server.all_logs()[-3000:]}")
    finally:
        shell.close()

    # the walkthrough left nothing in the repository (its files went to the scratch dir)
    assert _status() == before


def test_every_block_of_the_walkthrough_says_what_it_shows():
    found = blocks(PAGE.read_text())

    assert len(found) >= 8
    assert all(block.expected for block in found), [b.line for b in found if not b.expected]
    assert "uuidgen" not in PAGE.read_text()
