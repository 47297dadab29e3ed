"""If-Match handling for endpoints that act on what the caller saw."""

from __future__ import annotations

import re

from govflow.core.errors import PreconditionRequired, StaleVersion

_ETAG = re.compile(r'^(?:W/)?"(\d+)-(\d+)"$')


def expected_version(request, object_id: int) -> int:
    raw = request.headers.get("If-Match")
    if not raw:
        raise PreconditionRequired(
            "send If-Match with the ETag you last read (GET the release first)"
        )
    match = _ETAG.match(raw.strip())
    if match is None or int(match.group(1)) != object_id:
        raise StaleVersion(f"If-Match {raw!r} is not an ETag of this object")
    return int(match.group(2))
