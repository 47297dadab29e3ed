"""KYC providers push results to a webhook signed with HMAC-SHA256 over timestamp and
body: a bad signature, a stale timestamp and a replay are each refused, naming the rule,
and nothing is written."""

from __future__ import annotations

import time
from datetime import timedelta

from rest_framework.test import APIClient

from govflow.audit.models import AuditEvent
from govflow.rollout.models import KycRecord, WebhookReceipt
from govflow.rollout.services import customer_register
from tests.rollout.support import events_since, last_event_id, post_webhook, webhook_body


def _customer(world, external_id="cust-1"):
    return customer_register(organization=world.lab, external_id=external_id,
                             display_name="Ada", actor=world.manager.user)


def test_a_signed_fresh_delivery_records_the_result(world):
    # given a registered customer and a provider's signed result
    made = _customer(world)
    mark = last_event_id()
    # when the provider delivers it
    response = post_webhook(APIClient(), webhook_body(world.lab.slug, "cust-1", level="enhanced"))
    # then the record is stored with exactly one event, naming no customer id or name
    assert response.status_code == 201, response.json()
    record = KycRecord.objects.get(customer=made)
    assert (record.level, record.status, record.provider) == ("enhanced", "verified", "demo_kyc")
    assert events_since(mark) == ["kyc.recorded"]
    logged = AuditEvent.objects.get(event_type="kyc.recorded")
    assert logged.payload["customer"] == made.pk
    assert logged.payload["level"] == "enhanced"
    assert "cust-1" not in logged.canonical
    assert "Ada" not in logged.canonical
    assert WebhookReceipt.objects.count() == 1


def test_a_bad_signature_is_refused(world):
    _customer(world)
    body = webhook_body(world.lab.slug, "cust-1")
    mark = last_event_id()
    # when the body is signed with another secret
    response = post_webhook(APIClient(), body, key="not-the-providers-secret")
    # then 401 bad_signature, and nothing is written
    assert response.status_code == 401
    assert response.json()["rule"] == "bad_signature"
    assert KycRecord.objects.count() == 0
    assert WebhookReceipt.objects.count() == 0
    assert events_since(mark) == []


def test_a_body_changed_after_signing_is_refused(world):
    _customer(world)
    timestamp = int(time.time())
    from govflow.rollout.providers.hmac_webhook import sign
    from tests.rollout.support import secret

    signature = sign(secret(), timestamp, webhook_body(world.lab.slug, "cust-1", level="basic"))
    tampered = webhook_body(world.lab.slug, "cust-1", level="enhanced")
    response = post_webhook(APIClient(), tampered, timestamp=timestamp, signature=signature)
    assert response.status_code == 401
    assert response.json()["rule"] == "bad_signature"
    assert KycRecord.objects.count() == 0


def test_a_stale_timestamp_is_refused_by_the_servers_clock(world, settings):
    _customer(world)
    settings.GOVFLOW_KYC_WEBHOOK_TOLERANCE_SECONDS = 300
    # when a correctly signed delivery carries a timestamp ten minutes old
    stale = int(time.time()) - 600
    response = post_webhook(APIClient(), webhook_body(world.lab.slug, "cust-1"), timestamp=stale)
    # then 401 stale: the signature covers the timestamp, so it cannot be re-dated
    assert response.status_code == 401
    assert response.json()["rule"] == "stale"
    assert KycRecord.objects.count() == 0


def test_a_timestamp_from_the_future_is_refused_too(world):
    _customer(world)
    future = int(time.time()) + 3600
    response = post_webhook(APIClient(), webhook_body(world.lab.slug, "cust-1"), timestamp=future)
    assert response.status_code == 401
    assert response.json()["rule"] == "stale"


def test_a_replayed_delivery_is_refused(world):
    _customer(world)
    body = webhook_body(world.lab.slug, "cust-1")
    timestamp = int(time.time())
    first = post_webhook(APIClient(), body, timestamp=timestamp)
    assert first.status_code == 201
    mark = last_event_id()
    # when the very same signed delivery arrives again, inside the tolerance window
    again = post_webhook(APIClient(), body, timestamp=timestamp)
    # then 409 replayed, and nothing more is written
    assert again.status_code == 409
    assert again.json()["rule"] == "replayed"
    assert KycRecord.objects.count() == 1
    assert WebhookReceipt.objects.count() == 1
    assert events_since(mark) == []


def test_malformed_headers_and_unknown_providers_are_refused(world):
    _customer(world)
    body = webhook_body(world.lab.slug, "cust-1")
    no_headers = APIClient().post("/api/kyc/webhooks/demo_kyc", data=body,
                                  content_type="application/json")
    assert no_headers.status_code == 400
    assert no_headers.json()["rule"] == "malformed"
    unknown = post_webhook(APIClient(), body, provider="nobody", key="x" * 32)
    assert unknown.status_code == 404


def test_a_result_for_an_unknown_customer_leaves_no_receipt_so_it_can_come_again(world):
    body = webhook_body(world.lab.slug, "cust-9")
    timestamp = int(time.time())
    # when the provider's result arrives before the lab registered the customer
    early = post_webhook(APIClient(), body, timestamp=timestamp)
    assert early.status_code == 404
    assert WebhookReceipt.objects.count() == 0
    # then, once registered, the same delivery is accepted (it was never recorded)
    _customer(world, "cust-9")
    assert post_webhook(APIClient(), body, timestamp=timestamp).status_code == 201


def test_a_result_that_does_not_make_sense_is_400(world):
    _customer(world)
    from django.utils import timezone

    expired_before_verified = webhook_body(world.lab.slug, "cust-1",
                                           expires_at=timezone.now() - timedelta(days=2))
    response = post_webhook(APIClient(), expired_before_verified)
    assert response.status_code == 400
    assert KycRecord.objects.count() == 0
