"""The one access layer: who a user is to an object, and the two ways of saying no.

Every area's `access_*` functions are written with these. The rule everywhere (CONVENTIONS
rule 5): what a user may not see does not exist for them (404, through `visible_or_404`
or `not_found`); what they may see but not do is a 403 (`PermissionDenied`) naming the
rule that refused it. Which releases a user may see at all is `releases_visible_to`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

from govflow.accounts.models import ROLES_BY_KIND, Organization, OrganizationKind, Role
from govflow.accounts.selectors import user_organization, user_roles
from govflow.core.errors import PermissionDenied

# The roles of a lab's people (ROLES_BY_KIND says which roles a lab may hand out).
LAB_STAFF: frozenset[str] = frozenset(ROLES_BY_KIND[OrganizationKind.LAB])
# The lab roles that answer for a running release: resolve incidents, manage monitoring,
# remove customers from a cohort.
STEWARDS: frozenset[str] = frozenset({Role.RELEASE_MANAGER, Role.SAFETY_OFFICER})

M = TypeVar("M", bound=Model)


def not_found() -> NoReturn:
    """The one way to say "there is nothing here for you"."""
    raise Http404


def visible_or_404(qs: QuerySet[M], pk: int) -> M:
    """The row ``pk`` of a queryset already scoped to the user, or 404."""
    row = qs.filter(pk=pk).first()
    if row is None:
        not_found()
    return row


def organization_kind(user: Any) -> str | None:
    org = user_organization(user)
    return org.kind if org is not None else None


def is_regulator(user: Any) -> bool:
    return organization_kind(user) == OrganizationKind.REGULATOR


def is_auditor(user: Any) -> bool:
    # An auditor firm hands out only the auditor role (ROLES_BY_KIND), so the firm is
    # enough; the role is checked too so a membership edited in the admin cannot widen it.
    return organization_kind(user) == OrganizationKind.AUDITOR and Role.AUDITOR in user_roles(
        user
    )


def holds_any_role(user: Any, roles: Iterable[str]) -> bool:
    """``user`` holds one of ``roles`` (in whatever organization they belong to: a role
    exists only in the organization kind that may hand it out, ROLES_BY_KIND)."""
    return bool(frozenset(roles) & user_roles(user))


def roles_of(user: Any) -> list[str]:
    """The user's roles, sorted, as the API and the console show them."""
    return sorted(user_roles(user))


def is_member_of(user: Any, organization: Organization | int | None) -> bool:
    org = user_organization(user)
    org_id = organization.pk if isinstance(organization, Organization) else organization
    return org is not None and org_id is not None and org.pk == org_id


def has_lab_role(user: Any, organization: Organization | int | None,
                 roles: Iterable[str] = LAB_STAFF) -> bool:
    """A member of that lab holding one of ``roles``."""
    return is_member_of(user, organization) and bool(set(roles) & user_roles(user))


def require_lab_role(user: Any, organization: Organization | int | None,
                     roles: Iterable[str] = LAB_STAFF, *, what: str = "this action") -> None:
    """Refuse (403) unless ``user`` is of that lab and holds one of ``roles``."""
    roles = frozenset(roles)
    if not has_lab_role(user, organization, roles):
        raise PermissionDenied(
            f"{what} needs one of these roles in the lab that owns the release: "
            + ", ".join(sorted(roles)),
            detail={"rule": "role"},
        )


def require_lab_role_or_regulator(user: Any, organization: Organization | int | None,
                                  roles: Iterable[str]) -> None:
    if is_regulator(user):
        return
    roles = frozenset(roles)
    if not has_lab_role(user, organization, roles):
        raise PermissionDenied("this needs one of these roles in the release's lab, or a "
                               "regulator: " + ", ".join(sorted(roles)), detail={"rule": "role"})


def require_regulator(user: Any) -> None:
    if not is_regulator(user):
        raise PermissionDenied("this is for regulators", detail={"rule": "role"})


def require_auditor(user: Any) -> None:
    if not is_auditor(user):
        raise PermissionDenied("this is for auditors", detail={"rule": "role"})
