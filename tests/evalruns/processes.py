"""Real processes for the broker tests: SIMULATED agents (`python -m evals.simulator`) and
Celery workers (`celery -A govflow.celery worker`), each started in its own session so a
test can SIGKILL a worker with its pool children, as a lost machine would be."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate: Callable[[], object], *, timeout: float, what: str,
             every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


class Process:
    """A child process whose output is collected by a thread."""

    def __init__(self, argv: list[str], *, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, text: str, *, timeout: float) -> str:
        def found():
            if self.proc.poll() is not None:
                raise AssertionError(f"process exited ({self.proc.returncode}):\n{self.output}")
            return next((line for line in self.lines if text in line), None)

        return wait_for(found, timeout=timeout, what=f"{text!r} from {self.proc.args[:4]}")

    def kill(self) -> None:
        """SIGKILL the whole process group: the worker and its pool children at once."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def simulator(*args: str) -> tuple[Process, str]:
    sim = Process([sys.executable, "-m", "evals.simulator", "--port", "0", *args])
    line = sim.wait_for_line("SIMULATOR READY", timeout=20)
    return sim, line.split()[2]


def worker(*, queue: str, database_url: str, broker_url: str, endpoints: dict,
           var_dir: Path, concurrency: int = 2, **settings: str) -> Process:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "govflow.settings",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "GOVFLOW_EVAL_ENDPOINTS": json.dumps(endpoints),
        "GOVFLOW_VAR_DIR": str(var_dir),
        **settings,
    }
    proc = Process([
        sys.executable, "-m", "celery", "-A", "govflow.celery", "worker", "--loglevel=INFO",
        f"--concurrency={concurrency}", "--pool=prefork", "-Q", queue,
        f"--hostname={queue}-{time.monotonic_ns()}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ], env=env)
    proc.wait_for_line(" ready.", timeout=60)
    return proc
