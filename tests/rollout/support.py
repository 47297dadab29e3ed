"""Test support for the rollout: a small policy, KYC results, signed webhooks."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from govflow.audit.models import AuditEvent
from govflow.releases.services import release_advance, release_open
from govflow.rollout.models import Customer
from govflow.rollout.providers import KycResult
from govflow.rollout.providers.hmac_webhook import sign
from govflow.rollout.services import customer_register, kyc_record
from tests import factories

# A cap of 4, growing past each 2 with a safety officer's signed approval; general
# availability after it; the sections the monitoring tests read too.
ROLLOUT_POLICY = """
name: rollout_test
stages:
  - name: internal_evals
  - name: third_party_audit
  - name: limited_rollout
    gates:
      - kind: cohort
        cap: 4
        kyc_level: standard
        step: 2
        step_approvals: {safety_officer: 1}
  - name: general_availability
    gates:
      - kind: monitoring
        max_heartbeat_age_minutes: 15
        severity: high
  - name: open_weights
    irreversible: true
incident_response:
  pause_at: critical
  notify_regulator_at: high
reassessment:
  restart_stage:
    internet_access: internal_evals
    retrieval: third_party_audit
    tools: third_party_audit
    default: internal_evals
  reachability:
    internet_access: [code_execution, compute_purchase]
  online_learning:
    every_days: 7
    result_within_days: 2
    from_stage: limited_rollout
"""

# The same, with an independent audit to pass before the limited rollout: a release in
# its third_party_audit stage can have auditors assigned, with access grants.
AUDITED_POLICY = ROLLOUT_POLICY.replace("name: rollout_test", "name: rollout_audited").replace(
    """    gates:
      - kind: cohort""", """    gates:
      - kind: third_party_audit
        min_auditors: 1
        risk_areas: [deception]
      - kind: cohort""")

PROVIDER = "demo_kyc"


def secret(provider: str = PROVIDER) -> str:
    return settings.GOVFLOW_KYC_PROVIDERS[provider]["secret"]


def release_at(lab, manager, stage: str, *, policy_text: str = ROLLOUT_POLICY, **manifest):
    """A release of ``lab`` (its manifest changed by ``manifest``) advanced, through gates
    that are met, to ``stage``."""
    release = release_open(system_version=factories.system_version(lab, manager, **manifest),
                           policy_version=factories.policy(policy_text), title="rollout",
                           actor=manager)
    while release.stage != stage:
        release_advance(release_id=release.pk, actor=manager)
        release.refresh_from_db()
    return release


def customer(lab, manager, external_id: str, *, level: str = "standard",
             expires_in: timedelta | None = timedelta(days=365)) -> Customer:
    made = customer_register(organization=lab, external_id=external_id,
                             display_name=f"Customer {external_id}", actor=manager)
    if expires_in is not None:
        verify(made, manager, level=level, expires_in=expires_in)
    return made


def verify(made: Customer, manager, *, level: str = "standard",
           expires_in: timedelta = timedelta(days=365), status: str = "verified"):
    now = timezone.now()
    result = KycResult(organization=made.organization.slug, customer=made.external_id,
                       reference=f"chk-{made.external_id}-{now.timestamp()}", level=level,
                       status=status, evidence_digest=digest(made.external_id.encode()),
                       verified_at=now - timedelta(days=1), expires_at=now + expires_in)
    return kyc_record(customer_id=made.pk, provider_name=PROVIDER, result=result, actor=manager)


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def webhook_body(org_slug: str, external_id: str, *, level: str = "standard",
                 reference: str = "chk-1", expires_at: datetime | None = None) -> bytes:
    now = timezone.now()
    return json.dumps({
        "organization": org_slug, "customer": external_id, "reference": reference,
        "level": level, "status": "verified", "evidence_digest": digest(b"passport scan"),
        "verified_at": (now - timedelta(hours=1)).isoformat(),
        "expires_at": (expires_at or now + timedelta(days=365)).isoformat(),
    }).encode()


def post_webhook(client, body: bytes, *, key: str | None = None, timestamp: int | None = None,
                 provider: str = PROVIDER, signature: str | None = None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = signature or sign(key or secret(provider), timestamp, body)
    return client.post(f"/api/kyc/webhooks/{provider}", data=body,
                       content_type="application/json",
                       HTTP_X_KYC_TIMESTAMP=str(timestamp), HTTP_X_KYC_SIGNATURE=signature)


def events_since(mark: int) -> list[str]:
    return list(AuditEvent.objects.filter(pk__gt=mark).order_by("id")
                .values_list("event_type", flat=True))


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
