"""A pause reaches the serving gateway within one second, measured here against the real
Redis cache: the cached "allow" is warm, the release manager pauses, and the very next
check is refused. The invalidation runs in the request that paused, right after commit;
no worker is involved."""

from __future__ import annotations

import time

import pytest
from rest_framework.test import APIClient

from govflow.releases.services import release_advance
from govflow.rollout import cache
from govflow.rollout.services import cohort_admit
from tests.rollout.support import customer

pytestmark = pytest.mark.redis


@pytest.fixture(autouse=True)
def _needs_redis(settings):
    if not settings.GOVFLOW_CACHE_URL:
        pytest.skip("needs Redis as the cache: set GOVFLOW_CACHE_URL=redis://… "
                    "(the file/memory cache of the SQLite default is in use)")
    assert "RedisCache" in settings.CACHES[settings.GOVFLOW_ACCESS_CACHE_ALIAS]["BACKEND"]


def _client(person) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {person.token}")
    return client


def test_a_pause_is_refused_by_the_next_check_within_one_second(live_world):
    world = live_world
    customer(world.lab, world.manager.user, "cust-1")
    cohort_admit(release_id=world.release.pk, stage="limited_rollout", external_ids=["cust-1"],
                 actor=world.manager.user)
    release_advance(release_id=world.release.pk, actor=world.manager.user)
    gateway, manager = _client(world.manager), _client(world.manager)
    url = f"/api/access/check?release={world.release.pk}&customer=cust-1"
    # given a warm cache: the gateway's last two answers were "allow", the second from Redis
    assert gateway.get(url).json()["allow"] is True
    warm = gateway.get(url).json()
    assert warm["allow"] is True
    assert warm["cached"] is True
    etag = manager.get(f"/api/releases/{world.release.pk}")["ETag"]
    # when the release manager pauses the release
    started = time.perf_counter()
    paused = manager.post(f"/api/releases/{world.release.pk}/pause", {"reason": "incident"},
                          format="json", HTTP_IF_MATCH=etag)
    assert paused.status_code == 200
    # then the gateway is refused within one second (in fact by its very next check)
    checks = 0
    while True:
        checks += 1
        answer = gateway.get(url).json()
        if not answer["allow"]:
            break
        assert time.perf_counter() - started < 1.0, "still allowed a second after the pause"
    elapsed = time.perf_counter() - started
    print(f"pause request + first refused check: {elapsed * 1000:.1f} ms")  # -s shows it
    assert elapsed < 1.0
    assert checks == 1
    assert answer["reason"] == f"release {world.release.pk} is paused"
    # and Redis itself holds the new state: a decision computed afresh, then cached again
    decision, tokens = cache.lookup(world.release.pk, "cust-1")
    assert tokens is not None
    assert decision is not None
    assert decision.allow is False
