"""gunicorn started as the Procfile starts it (`-c deploy/gunicorn.conf.py`) refuses too
many or too large headers itself, before a worker parses anything, and passes an ordinary
request through to the app."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")

pytestmark = pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is not installed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    var = tmp_path_factory.mktemp("gunicorn-var")
    port = _free_port()
    env = {**os.environ, "GOVFLOW_VAR_DIR": str(var),
           "DATABASE_URL": f"sqlite:///{var / 'db.sqlite3'}", "GOVFLOW_CACHE_URL": ""}
    process = subprocess.Popen(
        [str(GUNICORN), "govflow.wsgi", "-c", "deploy/gunicorn.conf.py", "--bind",
         f"127.0.0.1:{port}", "--workers", "1"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("gunicorn did not start")
    yield port
    process.terminate()
    process.wait(timeout=30)


def _get(port: int, headers: list[tuple[str, str]]) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("GET", "/api/no-such-endpoint")
    for name, value in headers:
        conn.putheader(name, value)
    conn.endheaders()
    response = conn.getresponse()
    return response.status, response.read().decode("latin-1")


def test_an_ordinary_request_reaches_the_app(gunicorn):
    status, body = _get(gunicorn, [("User-Agent", "test")])

    assert status == 404
    assert '"error": "not_found"' in body  # the app's JSON, not gunicorn's page


def test_gunicorn_refuses_more_than_64_header_fields(gunicorn):
    status, body = _get(gunicorn, [(f"X-H{i}", "1") for i in range(70)])

    assert status == 431
    assert "Request Header Fields Too Large" in body  # gunicorn's own answer


def test_gunicorn_refuses_a_header_line_over_8190_bytes(gunicorn):
    status, body = _get(gunicorn, [("X-Big", "a" * 9000)])

    assert status == 431
    assert "Request Header Fields Too Large" in body
