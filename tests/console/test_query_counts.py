"""How many SQL queries each console page takes, cold (cache cleared: trail checks and
gate verdicts recomputed) and warm, pinned as exact counts.

A count, not a time: the page's cost must not grow with the number of releases on it or
with what each holds. A new N+1 (one query per release, per gate, per document) moves
these numbers; a change that really needs one more query updates them, visibly.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from govflow.audit.log import checkpoint_create
from govflow.releases.services import release_open
from tests import factories

pytestmark = pytest.mark.django_db

PAGE = 50  # govflow.console.selectors.RELEASES_PER_PAGE


@pytest.fixture
def world(lab, release_manager, regulator):
    """A page and a bit of releases; every third one has a red-team report (the policy's
    gate reads it), and the log is checkpointed."""
    version = factories.system_version(lab, release_manager)
    policy = factories.policy()
    releases = [release_open(system_version=version, policy_version=policy, title=f"r{i}",
                             actor=release_manager) for i in range(PAGE + 5)]
    for release in releases[::3]:
        factories.attach(release, release_manager)
    checkpoint_create()
    return {"releases": releases}


def _count(client, url: str, *, cold: bool) -> int:
    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def _counts(client, url: str) -> tuple[int, int]:
    client.get(url)  # the session and the first request's one-off reads
    cold = _count(client, url, cold=True)
    return cold, _count(client, url, cold=False)


def test_the_release_list_takes_the_same_queries_whatever_its_releases_hold(
        client_for, regulator, world, release_manager):
    client = client_for(regulator)

    # given the first page (releases with and without evidence, gates evaluated cold)
    first = _counts(client, "/console/")
    # when more evidence arrives on every release of the page
    for release in world["releases"][-PAGE:]:
        factories.attach(release, release_manager, document_type="other_report")
    checkpoint_create()
    after = _counts(client, "/console/")

    # then: one query per fact, not per release or per document
    assert first == after == (21, 18)
    assert _counts(client, "/console/?page=2") == (21, 18)
    assert _counts(client, "/console/?status=active&stage=internal_evals") == (21, 18)


def test_the_release_page_takes_a_pinned_number_of_queries(client_for, regulator, world,
                                                           release_manager):
    release = world["releases"][0]
    client = client_for(regulator)

    assert _counts(client, f"/console/releases/{release.pk}/") == (23, 21)
    # more evidence, more events: the same count
    for _ in range(3):
        factories.attach(release, release_manager, document_type="other_report",
                         body=f"doc {_}".encode())
    checkpoint_create()
    assert _counts(client, f"/console/releases/{release.pk}/") == (23, 21)


@pytest.mark.parametrize(("url", "expected"), [
    ("/console/audit/", (11, 11)),
    ("/console/checkpoints/", (9, 9)),
    ("/console/oversight/", (12, 12)),
    ("/console/keys/", (7, 7)),
])
def test_the_other_console_pages_take_a_pinned_number_of_queries(client_for, regulator,
                                                                 world, url, expected):
    assert _counts(client_for(regulator), url) == expected


def test_one_releases_audit_trail_takes_a_pinned_number_of_queries(client_for, regulator,
                                                                   world):
    release = world["releases"][0]

    assert _counts(client_for(regulator), f"/console/audit/?release={release.pk}") == (12, 12)
