"""Test support for monitoring."""

from __future__ import annotations

from govflow.releases.services import release_advance
from govflow.rollout.services import cohort_admit
from tests.rollout.support import customer


def rolled_out(world, *ids: str):
    """Advance the world's release into its limited rollout, with ``ids`` in the cohort."""
    ids = ids or ("cust-1",)
    for external_id in ids:
        customer(world.lab, world.manager.user, external_id)
    cohort_admit(release_id=world.release.pk, stage="limited_rollout", external_ids=list(ids),
                 actor=world.manager.user)
    release_advance(release_id=world.release.pk, actor=world.manager.user)
    world.release.refresh_from_db()
    return world.release
