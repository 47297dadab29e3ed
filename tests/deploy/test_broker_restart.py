"""The Procfile's worker outlives its broker: started before Redis is up, it waits for it;
when Redis restarts and loses everything (`SHUTDOWN NOSAVE`), it reconnects and answers
again. The broker is a redis-server of this test's own (never the machine's shared one).
"""

from __future__ import annotations

import time

import pytest

from tests.e2e import redis_server
from tests.e2e.stack import Stack

pytestmark = pytest.mark.skipif(bool(redis_server.available()),
                                reason="needs redis-server and redis-cli on PATH")


PING = "from celery import Celery; print(len(Celery().control.ping(timeout=2.0)))"


def pongs(stack: Stack, timeout: float) -> int:
    """How many workers answer a remote-control ping through the stack's broker, within
    timeout (0: none, or the broker is down). The ping runs in a process of the stack's
    environment: Celery's broker_url prefers CELERY_BROKER_URL from the environment to
    any configuration, and this test process's names the suite's broker."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = stack.python("-c", PING, check=False)
        if result.returncode == 0 and int(result.stdout.strip() or 0) > 0:
            return int(result.stdout.strip())
        time.sleep(0.5)
    return 0


def wait_for_log(stack: Stack, text: str, timeout: float, *, after: int = 0) -> int:
    """Wait until the worker's log shows ``text`` past offset ``after``; where it ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = stack.log("worker")
        found = log.find(text, after)
        if found >= 0:
            return found + len(text)
        time.sleep(0.5)
    raise AssertionError(f"no {text!r} in the worker's log after {timeout}s:\n"
                         f"{stack.log('worker')[-4000:]}")


def test_the_worker_waits_for_its_broker_and_survives_its_restart(tmp_path):
    # given a worker started before its broker is up (a machine booting in any order):
    # it tries, fails, and keeps trying. (Generous timeouts: a loaded CI machine can take
    # a minute to import the app in a new worker.)
    redis = redis_server.RedisServer(tmp_path)
    stack = Stack(tmp_path, database_url=f"sqlite:///{tmp_path / 'govflow.sqlite3'}",
                  broker_url=redis.url(0))
    try:
        worker = stack.start("worker")
        seen = wait_for_log(stack, "Cannot connect to redis://", 300)
        assert worker.poll() is None, stack.log("worker")

        # when Redis comes up, then the worker connects and answers
        redis.start()
        seen = wait_for_log(stack, " ready.", 120, after=seen)
        assert pongs(stack, 90), stack.log("worker")[-4000:]

        # when Redis restarts and loses every message, then the worker reconnects
        redis.restart()
        seen = wait_for_log(stack, "Connection to broker lost", 120, after=seen)
        wait_for_log(stack, "Connected to redis://", 120, after=seen)
        assert pongs(stack, 90), stack.log("worker")[-4000:]
        assert worker.poll() is None, stack.log("worker")[-4000:]
    finally:
        stack.stop_all()
        redis.kill()
