"""A redis-server of the test's own, on a free port of 127.0.0.1.

A test that injects a broker fault (`SHUTDOWN NOSAVE`, then a start again) does it to this
process only: the machine's Redis on 6379 serves other engineers' runs and CI's other
tests, and must never lose its queues because one test restarted it.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from pathlib import Path

from tests.e2e.stack import free_port


def available() -> list[str]:
    """The tools this needs that are missing from PATH."""
    return [tool for tool in ("redis-server", "redis-cli") if not shutil.which(tool)]


class RedisServer:
    """No persistence (`--save ""`, no AOF): a restart loses every message, as a crashed
    broker without a disk would; that is the fault the journey injects."""

    def __init__(self, root: Path):
        self.dir = root / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
                              capture_output=True, text=True, timeout=30)

    def up(self) -> bool:
        return self.cli("ping").stdout.strip() == "PONG"

    def start(self, timeout: float = 30) -> None:
        log = open(self.dir / "redis.log", "ab")  # noqa: SIM115 (the child keeps it)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while not self.up():
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited ({self.proc.returncode}):\n"
                                     f"{self.log()[-2000:]}")
            assert time.monotonic() < deadline, f"redis-server not up after {timeout}s"
            time.sleep(0.1)

    def stop(self) -> None:
        """`SHUTDOWN NOSAVE`: whatever was queued is gone; then the process is waited for,
        so the port is free for a start again."""
        if self.proc is None:
            return
        self.cli("shutdown", "nosave")
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def kill(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def log(self) -> str:
        path = self.dir / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""
