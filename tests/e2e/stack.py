"""Real govflow processes for end-to-end tests: the Procfile's commands, each started as
its own process group against a database made for the test, so a test can kill one
(SIGKILL a worker, restart the web process) and read each one's log afterwards."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def procfile(path: Path = REPO / "Procfile") -> dict[str, str]:
    """name -> command, as honcho reads it."""
    entries = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and ":" in line:
            name, _, command = line.partition(":")
            entries[name.strip()] = command.strip()
    return entries


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def pg_create(admin_url: str, name: str) -> str:
    """A fresh, empty PostgreSQL database; its URL."""
    import psycopg

    with psycopg.connect(with_database(admin_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(admin_url, name)


def pg_drop(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(with_database(admin_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Stack:
    """The environment of one deployment and the processes started in it."""

    def __init__(self, root: Path, *, database_url: str, broker_url: str | None = None,
                 cache_url: str | None = None, extra: dict[str, str] | None = None):
        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DJANGO_SETTINGS_MODULE", "PYTEST", "GOVFLOW_", "CELERY_"))}
        env.update(
            PATH=f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}",
            PYTHONUNBUFFERED="1",
            GOVFLOW_VAR_DIR=str(root / "var"),
            GOVFLOW_BIND=f"127.0.0.1:{self.port}",
            DATABASE_URL=database_url,
            WEB_CONCURRENCY="2",
            CELERY_CONCURRENCY="2",
        )
        env.pop("GOVFLOW_CACHE_URL", None)
        if broker_url:
            env["CELERY_BROKER_URL"] = broker_url
        if cache_url:
            env["GOVFLOW_CACHE_URL"] = cache_url
        env.update(extra or {})
        self.env = env
        self.procs: dict[str, subprocess.Popen] = {}
        self.commands = procfile()

    # -- one-off commands -------------------------------------------------------------
    def manage(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=self.env,
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n"
                                 f"{result.stderr}")
        return result

    def python(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120,
               check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, *args], cwd=REPO, env={**self.env, **(env or {})},
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"python {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def add_witness(self) -> str:
        """Make a witness key and point the Procfile's `witness:` entry and the app's
        GOVFLOW_WITNESSES at it (call before starting web and workers). Its vkey."""
        key = self.root / "witness.key"
        vkey = self.python("-m", "govflow.witness", "keygen", "--name", "e2e.test/witness",
                           "--out", str(key)).stdout.strip()
        listen = f"127.0.0.1:{free_port()}"
        self.env.update(
            GOVFLOW_WITNESS_KEY_FILE=str(key), GOVFLOW_WITNESS_STATE=str(self.root / "witness"),
            GOVFLOW_WITNESS_LISTEN=listen,
            GOVFLOW_LOG_VKEY=self.manage("log_verifier_key").stdout.strip(),
            GOVFLOW_WITNESSES=f"http://{listen} {vkey}",
        )
        return vkey

    # -- long-running processes ------------------------------------------------------
    def start(self, name: str, command: str | None = None) -> subprocess.Popen:
        """Start a Procfile entry (or a command) in a process group of its own."""
        command = command or self.commands[name.split("#")[0]]
        log = open(self.logs / f"{name.replace('#', '-')}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=REPO, env=self.env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.procs[name] = proc
        return proc

    def signal(self, name: str, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
        proc = self.procs.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        if sig != signal.SIGKILL:
            # a Celery pool child may outlive its parent for a moment
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    os.killpg(proc.pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.2)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.signal(name, signal.SIGTERM, timeout=30)

    def log(self, name: str) -> str:
        path = self.logs / f"{name.replace('#', '-')}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def all_logs(self, tail: int = 4000) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-tail:]}"
                         for p in sorted(self.logs.glob("*.log")))

    def wait_http(self, path: str = "/api/schema/", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None and name.startswith("web"):
                    raise AssertionError(f"{name} exited:\n{self.log(name)[-4000:]}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=5) as response:
                    if response.status < 500:
                        return
            except urllib.error.HTTPError as exc:
                if exc.code < 500:
                    return
                last = exc
            except OSError as exc:
                last = exc
            time.sleep(0.3)
        raise AssertionError(f"{self.url}{path} not up after {timeout}s: {last}\n"
                             f"{self.all_logs()}")


def http(method: str, url: str, *, token: str | None = None, body: object = None,
         headers: dict[str, str] | None = None, timeout: float = 60):
    """(status, headers, parsed JSON or raw bytes) of one request; no exception on 4xx."""
    data = None
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw, got = response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        status, raw, got = exc.code, exc.read(), exc.headers
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw
    return status, got, parsed
