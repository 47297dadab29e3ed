"""Reading policies back as `Policy` objects."""

from __future__ import annotations

from functools import lru_cache

from govflow.policy.document import Policy, parse_policy
from govflow.policy.models import PolicyVersion


@lru_cache(maxsize=64)
def _parse_cached(digest: str, source: str) -> Policy:
    return parse_policy(source, source=digest)


def policy_of(version: PolicyVersion) -> Policy:
    """The rules of a registered policy version (parsed once per process)."""
    return _parse_cached(version.digest, version.source)
