"""The rollout's world: a lab with a release manager, a safety officer (with a key) and a
release at the stage before its limited rollout; another lab; a regulator. The access
cache and the token cache start empty for every test."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from django.core.cache import caches

from govflow.rollout import tokens
from tests import factories
from tests.auditing.support import Person, person
from tests.rollout.support import release_at


@pytest.fixture(autouse=True)
def _fresh_caches(settings, tmp_path):
    """An access cache of the test's own: release and customer ids repeat from test to
    test (and from run to run), and a decision cached by one must not answer another."""
    alias = settings.GOVFLOW_ACCESS_CACHE_ALIAS
    prefix = f"govflow-test-{uuid.uuid4().hex}"
    if settings.GOVFLOW_CACHE_URL:
        backend = {**settings.CACHES[alias], "KEY_PREFIX": prefix}
    else:
        backend = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                   "LOCATION": prefix}
    settings.CACHES = {**settings.CACHES, alias: backend}
    tokens.forget_all()
    yield
    tokens.forget_all()
    if settings.GOVFLOW_CACHE_URL:
        # Best effort: the keys are the test's own, and a Redis restarted meanwhile (by a
        # resilience test running alongside) has lost them anyway.
        client = redis.Redis.from_url(settings.GOVFLOW_CACHE_URL)
        try:
            for key in client.scan_iter(match=f"{prefix}:*"):
                client.delete(key)
        except redis.ConnectionError:
            pass
        finally:
            client.close()
    caches[alias].close()


@pytest.fixture(autouse=True)
def _tasks_run_in_process():
    """Tasks queued after commit (a snapshot after an admission) run at once, here."""
    from govflow.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@dataclass
class World:
    lab: Any
    manager: Person
    safety: Person
    signer: Person
    outsider: Person
    regulator: Person
    release: Any  # at third_party_audit: its limited_rollout cohort is being chosen


def make_world() -> World:
    lab = factories.organization(kind="lab")
    manager = person(lab, "release_manager")
    return World(
        lab=lab, manager=manager, safety=person(lab, "safety_officer"),
        signer=person(lab, "lab_signer"),
        outsider=person(factories.organization(kind="lab"), "release_manager"),
        regulator=person(factories.organization(kind="regulator"), "regulator"),
        release=release_at(lab, manager.user, "third_party_audit"),
    )


@pytest.fixture
def world(db) -> World:
    return make_world()


@pytest.fixture
def live_world(live_db) -> World:
    return make_world()
