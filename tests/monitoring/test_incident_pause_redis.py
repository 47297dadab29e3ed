"""A critical incident reported through the API pauses the release, and the serving
gateway's next check — answered through the real Redis cache — is refused, well within
one second: the pause and the cache invalidation happen in the reporting request."""

from __future__ import annotations

import time

import pytest
from rest_framework.test import APIClient

from tests import factories
from tests.monitoring.support import rolled_out

pytestmark = pytest.mark.redis


@pytest.fixture(autouse=True)
def _needs_redis(settings):
    if not settings.GOVFLOW_CACHE_URL:
        pytest.skip("needs Redis as the cache: set GOVFLOW_CACHE_URL=redis://… "
                    "(the file/memory cache of the SQLite default is in use)")


def test_a_critical_incident_is_refused_by_the_next_check_within_one_second(live_world):
    world = live_world
    rolled_out(world)
    gateway, monitor = APIClient(), APIClient()
    gateway.credentials(HTTP_AUTHORIZATION=f"Bearer {world.manager.token}")
    monitor.credentials(HTTP_AUTHORIZATION="Bearer " + factories.machine_token_for(
        world.manager.user, world.release))
    url = f"/api/access/check?release={world.release.pk}&customer=cust-1"
    gateway.get(url)
    assert gateway.get(url).json()["cached"] is True
    started = time.perf_counter()
    reported = monitor.post("/api/incidents", {
        "release": world.release.pk, "severity": "critical",
        "category": "weight_exfiltration", "description": "weights seen on a paste site"},
        format="json")
    answer = gateway.get(url).json()
    elapsed = time.perf_counter() - started
    assert reported.status_code == 201
    assert reported.json()["response"]["paused"] is True
    assert answer["allow"] is False
    assert answer["reason"] == f"release {world.release.pk} is paused"
    print(f"critical incident + first refused check: {elapsed * 1000:.1f} ms")  # -s shows it
    assert elapsed < 1.0
