"""Customers and their KYC records: registering, recording results, processing expiry.

A KYC result changes what the access check answers for that customer, so each of these
replaces the customer's cache token after commit (govflow.rollout.cache).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from govflow.accounts.models import Organization, OrganizationKind
from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict, NotFound, ValidationFailed
from govflow.core.names import display_name_checked
from govflow.core.times import rfc3339
from govflow.rollout import cache
from govflow.rollout.models import (
    CohortMember,
    Customer,
    KycExpiry,
    KycRecord,
    WebhookReceipt,
)
from govflow.rollout.providers import KycResult, WebhookRejected, provider
from govflow.rollout.selectors import latest_kyc


def _invalidate_after_commit(external_ids: list[str]) -> None:
    transaction.on_commit(lambda: cache.invalidate_customers(external_ids), robust=True)


@transaction.atomic
def customer_register(*, organization: Organization, external_id: str, display_name: str,
                      actor) -> Customer:
    if organization.kind != OrganizationKind.LAB:
        raise ValidationFailed("customers belong to a lab")
    display_name_checked(display_name)
    if Customer.objects.filter(organization=organization, external_id=external_id).exists():
        raise Conflict(f"{organization.slug} already has a customer {external_id!r}",
                       detail={"rule": "duplicate"})
    try:
        with transaction.atomic():
            customer = Customer.objects.create(
                organization=organization, external_id=external_id,
                display_name=display_name, created_at=timezone.now(), created_by=actor,
            )
    except IntegrityError as exc:  # registered concurrently
        raise Conflict(f"{organization.slug} already has a customer {external_id!r}",
                       detail={"rule": "duplicate"}) from exc
    # No id or name in the log: the regulator confirms cohorts without either.
    audit_append(event_type=EventType.CUSTOMER_REGISTERED, actor=actor, subject=customer,
                 organization_id=organization.pk, payload={"customer": customer.pk})
    return customer


def _record(*, customer: Customer, provider_name: str, result: KycResult,
            receipt: WebhookReceipt | None, actor, now: datetime) -> KycRecord:
    record = KycRecord.objects.create(
        customer=customer, provider=provider_name, reference=result.reference,
        level=result.level, status=result.status, evidence_digest=result.evidence_digest,
        verified_at=result.verified_at, expires_at=result.expires_at, receipt=receipt,
        recorded_at=now, recorded_by=actor,
    )
    audit_append(
        event_type=EventType.KYC_RECORDED, actor=actor, subject=record,
        organization_id=customer.organization_id,
        payload={"customer": customer.pk, "provider": provider_name,
                 "reference": result.reference, "level": result.level,
                 "status": result.status, "evidence_digest": result.evidence_digest,
                 "verified_at": rfc3339(result.verified_at),
                 "expires_at": rfc3339(result.expires_at),
                 "receipt": receipt.pk if receipt else None},
    )
    _invalidate_after_commit([customer.external_id])
    return record


@transaction.atomic
def kyc_webhook_accept(*, provider_name: str, headers: Mapping[str, str], body: bytes,
                       now: datetime | None = None) -> KycRecord:
    """Authenticate a provider's delivery, refuse a replay, record its result.

    The receipt and the record commit together: a delivery refused for its content (an
    unknown customer, say) leaves no receipt, so the provider may deliver it again."""
    now = now or timezone.now()
    adapter = provider(provider_name)
    if adapter is None:
        raise WebhookRejected("unknown_provider", f"no KYC provider {provider_name!r}", 404)
    delivery = adapter.authenticate(headers=headers, body=body, now=now)
    if WebhookReceipt.objects.filter(provider=provider_name,
                                     signature=delivery.signature).exists():
        raise WebhookRejected("replayed", "this delivery was already accepted", 409)
    try:
        with transaction.atomic():
            receipt = WebhookReceipt.objects.create(
                provider=provider_name, signature=delivery.signature,
                timestamp=delivery.timestamp, body_sha256=delivery.body_sha256,
                received_at=now,
            )
    except IntegrityError as exc:  # the same delivery, accepted concurrently
        raise WebhookRejected("replayed", "this delivery was already accepted", 409) from exc
    result = adapter.parse(body)
    customer = (Customer.objects.select_for_update()
                .filter(organization__slug=result.organization, external_id=result.customer)
                .first())
    if customer is None:
        raise WebhookRejected("unknown_customer", "no such customer of that organization", 404)
    return _record(customer=customer, provider_name=provider_name, result=result,
                   receipt=receipt, actor=None, now=now)


@transaction.atomic
def kyc_record(*, customer_id: int, provider_name: str, result: KycResult, actor) -> KycRecord:
    """Record a result a lab operator enters by hand (e.g. from a provider's portal)."""
    customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return _record(customer=customer, provider_name=provider_name, result=result,
                   receipt=None, actor=actor, now=timezone.now())


@transaction.atomic
def kyc_expire(*, record_id: int, now: datetime | None = None) -> KycExpiry | None:
    """Process the expiry of a customer's KYC record in force: once (idempotent), with an
    event naming the cohorts it leaves without valid KYC. None if there is nothing to do:
    not expired yet, superseded by a newer record, or processed already."""
    now = now or timezone.now()
    record = (KycRecord.objects.select_for_update().select_related("customer")
              .filter(pk=record_id).first())
    if record is None or record.expires_at > now or KycExpiry.objects.filter(
            record=record).exists():
        return None
    if latest_kyc([record.customer_id])[record.customer_id].pk != record.pk:
        return None
    expiry = KycExpiry.objects.create(record=record, processed_at=now)
    cohorts = sorted(CohortMember.objects.filter(customer=record.customer,
                                                 removed_at__isnull=True)
                     .values_list("cohort_id", flat=True))
    audit_append(event_type=EventType.KYC_EXPIRED, actor=None, subject=record,
                 organization_id=record.customer.organization_id,
                 payload={"customer": record.customer_id, "record": record.pk,
                          "expired_at": rfc3339(record.expires_at), "cohorts": cohorts})
    _invalidate_after_commit([record.customer.external_id])
    return expiry
