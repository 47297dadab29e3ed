"""The demo's limited rollout (called from `govflow.demo.build`; idempotent): a dozen
customers of Frontier Lab, each verified by the demo KYC provider through its signed
webhook, admitted to the limited-rollout cohort of the release in audit, and a signed
snapshot of that cohort. The release is not in its rollout yet, so the access check says
why each customer is refused until it is; the assigned auditors are let in."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from govflow.accounts.models import Organization
from govflow.rollout import services
from govflow.rollout.models import Customer, KycRecord
from govflow.rollout.providers.hmac_webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from govflow.rollout.selectors import active_members, cohort_of

LAB = "frontier-lab"
PROVIDER = "demo_kyc"
STAGE = "limited_rollout"
CUSTOMERS = [(f"cust-{n:04d}", name) for n, name in enumerate(
    ["Acme Analytics", "Borealis Bank", "Cobalt Health", "Delta Logistics", "Ember Energy",
     "Fjord Insurance", "Granite Legal", "Harbor Schools", "Iris Research", "Juniper Retail",
     "Kestrel Media", "Lumen Labs"], start=1)]


def _verified_by_webhook(customer: Customer) -> None:
    """As the provider would: a signed, timestamped delivery to the webhook."""
    now = timezone.now()
    body = json.dumps({
        "organization": LAB, "customer": customer.external_id,
        "reference": f"demo-check-{customer.external_id}", "level": "standard",
        "status": "verified", "evidence_digest": "sha256:" + "0" * 63 + "1",
        "verified_at": (now - timedelta(days=3)).isoformat(),
        "expires_at": (now + timedelta(days=365)).isoformat(),
    }).encode()
    timestamp = int(time.time())
    secret = settings.GOVFLOW_KYC_PROVIDERS[PROVIDER]["secret"]
    services.kyc_webhook_accept(provider_name=PROVIDER, body=body, headers={
        TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)})


def build_rollout_demo(world) -> None:
    if PROVIDER not in settings.GOVFLOW_KYC_PROVIDERS:
        return
    alice = get_user_model().objects.get(username="alice")
    lab = Organization.objects.get(slug=LAB)
    for external_id, name in CUSTOMERS:
        customer = Customer.objects.filter(organization=lab, external_id=external_id).first()
        if customer is None:
            customer = services.customer_register(organization=lab, external_id=external_id,
                                                  display_name=name, actor=alice)
        if not KycRecord.objects.filter(customer=customer).exists():
            _verified_by_webhook(customer)
    release = world.releases["in_audit"]
    release.refresh_from_db()
    from govflow.rollout.policy import cohort_rules

    if cohort_rules(release, STAGE) is None or release.stage != "third_party_audit":
        return  # a database built under an older default policy
    cohort = cohort_of(release, STAGE)
    present = set(active_members(cohort).values_list("customer__external_id", flat=True)) \
        if cohort else set()
    missing = [external_id for external_id, _ in CUSTOMERS if external_id not in present]
    if missing:
        services.cohort_admit(release_id=release.pk, stage=STAGE, external_ids=missing,
                              actor=alice)
    services.snapshot_publish(cohort_id=cohort_of(release, STAGE).pk)
