"""Authorisation for the rollout: see first (else 404), then role (else 403).

Cohorts are the lab's business and the regulator's to check; auditors and other labs
see none of it. Only the lab's people change them: release managers admit customers;
release managers and safety officers remove them.
"""

from __future__ import annotations

from govflow.accounts.access import (
    STEWARDS,
    has_lab_role,
    holds_any_role,
    is_member_of,
    is_regulator,
    not_found,
    organization_kind,
)
from govflow.accounts.models import OrganizationKind, Role
from govflow.core.errors import PermissionDenied
from govflow.releases.access import access_release, access_release_action
from govflow.releases.models import Release

ADMITTERS = frozenset({Role.RELEASE_MANAGER})
REMOVERS = STEWARDS


def access_rollout(user, release_id: int) -> Release:
    """A release whose cohorts the user may see: their own lab's, or any for a regulator."""
    release = access_release(user, release_id)
    if not (is_regulator(user) or is_lab_of(user, release)):
        not_found()
    return release


def is_lab_of(user, release: Release) -> bool:
    return is_member_of(user, release.organization_id)


def access_cohort_change(user, release_id: int, roles) -> Release:
    access_rollout(user, release_id)
    return access_release_action(user, release_id, roles)


def access_customers(user) -> None:
    """Registering customers: a release manager of a lab."""
    if (organization_kind(user) != OrganizationKind.LAB
            or not holds_any_role(user, (Role.RELEASE_MANAGER,))):
        raise PermissionDenied("registering customers needs the release_manager role in a lab",
                               detail={"rule": "role"})


def access_snapshot_publish(user, release_id: int) -> Release:
    release = access_rollout(user, release_id)
    if not (is_regulator(user) or has_lab_role(user, release.organization_id, ADMITTERS)):
        raise PermissionDenied("publishing a snapshot is for the lab's release managers and "
                               "regulators", detail={"rule": "role"})
    return release
