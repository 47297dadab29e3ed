"""Row locks for release services. Lock before reading state you will act on."""

from __future__ import annotations

from govflow.core.errors import NotFound
from govflow.releases.models import Release


def lock_release(release_id: int) -> Release:
    release = (
        Release.objects.select_for_update(of=("self",))
        .select_related("system_version", "policy")
        .filter(pk=release_id)
        .first()
    )
    if release is None:
        raise NotFound(f"release {release_id} does not exist")
    return release
