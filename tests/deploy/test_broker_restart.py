"""The Procfile's worker outlives its broker: started before Redis is up, it waits for it;
when Redis restarts and loses everything (`SHUTDOWN NOSAVE`), it reconnects and answers
again. The broker is a redis-server of this test's own (never the machine's shared one).
"""

from __future__ import annotations

import time

import pytest
import redis
from celery import Celery

from tests.e2e import redis_server
from tests.e2e.stack import Stack

pytestmark = pytest.mark.skipif(bool(redis_server.available()),
                                reason="needs redis-server and redis-cli on PATH")


def pongs(broker_url: str, timeout: float) -> list[dict]:
    """The workers that answer a remote-control ping through the broker, within timeout;
    [] when none does (or the broker is down)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client = Celery(broker=broker_url)  # a fresh connection pool each time
        try:
            answers = client.control.ping(timeout=1.0)
        except (OSError, redis.exceptions.ConnectionError):
            answers = []
        finally:
            client.close()
        if answers:
            return answers
        time.sleep(0.5)
    return []


def test_the_worker_waits_for_its_broker_and_survives_its_restart(tmp_path):
    # given a worker started before its broker is up (a machine booting in any order)
    redis = redis_server.RedisServer(tmp_path)
    stack = Stack(tmp_path, database_url=f"sqlite:///{tmp_path / 'govflow.sqlite3'}",
                  broker_url=redis.url(0))
    try:
        worker = stack.start("worker")
        time.sleep(3)
        assert worker.poll() is None, stack.log("worker")

        # when Redis comes up, then the worker connects and answers
        redis.start()
        assert pongs(redis.url(0), 90), stack.log("worker")[-4000:]

        # when Redis restarts and loses every message, then the worker reconnects
        redis.restart()
        assert pongs(redis.url(0), 90), stack.log("worker")[-4000:]
        assert worker.poll() is None, stack.log("worker")[-4000:]
        assert "Connection to broker lost" in stack.log("worker")
    finally:
        stack.stop_all()
        redis.kill()
