"""Monitoring shares the rollout's world (a lab, its release before the limited rollout,
another lab, a regulator) and its fresh caches."""

from tests.rollout.conftest import (  # noqa: F401 (fixtures)
    _fresh_caches,
    _tasks_run_in_process,
    live_world,
    world,
)
