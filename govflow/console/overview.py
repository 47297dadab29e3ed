"""The regulator's actions page: holds, sanctions, auditor certificates and escalated
findings, each read through its own area's scoped selector."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from govflow.accounts.models import OrganizationKind
from govflow.accounts.selectors import organizations_visible_to
from govflow.auditing.models import FindingStatus
from govflow.auditing.selectors import certificates_visible_to, findings_visible_to
from govflow.keys.selectors import keys_visible_to
from govflow.oversight.selectors import holds_visible_to, sanctions_visible_to
from govflow.policy.document import load_policy_file
from govflow.policy.services import policy_file_path

RECENT = 50


def _default_stages() -> list[str]:
    try:
        return load_policy_file(policy_file_path(settings.GOVFLOW_DEFAULT_POLICY)).stage_names
    except Exception:  # noqa: BLE001 (a broken policy file must not take the page down)
        return []


def oversight_overview(user) -> dict[str, Any]:
    now = timezone.now()
    orgs = list(organizations_visible_to(user).order_by("name"))
    data: dict[str, Any] = {
        "holds": list(holds_visible_to(user).order_by("lifted_at", "-id")[:RECENT]),
        "sanctions": list(sanctions_visible_to(user).order_by("-id")[:RECENT]),
        "labs": [o for o in orgs if o.kind == OrganizationKind.LAB],
        "auditors": [o for o in orgs if o.kind == OrganizationKind.AUDITOR],
        "stages": _default_stages(),
        "now": now,
        "has_key": keys_visible_to(user).filter(user=user, revoked_at__isnull=True).exists(),
        "auditing": True,
        "certificates": list(certificates_visible_to(user).order_by("-id")[:RECENT]),
        "escalated": list(findings_visible_to(user)
                          .filter(current_status=FindingStatus.ESCALATED)
                          .order_by("id")[:RECENT]),
    }
    return data


def own_keys(user):
    return list(keys_visible_to(user).filter(user=user).order_by("-id"))
