"""KYC providers: how a provider's verification results reach govflow.

A provider plugs in behind `KycProvider`: it authenticates an incoming delivery (and
names it for the replay store) and turns its body into `KycResult`s. Providers are
configured in settings.GOVFLOW_KYC_PROVIDERS (name -> adapter class path and secret);
`govflow.rollout.providers.hmac_webhook.HmacWebhookProvider` accepts results pushed to
`POST /api/kyc/webhooks/<name>` with an HMAC-SHA256 signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class WebhookRejected(Exception):
    """A delivery was refused; ``rule`` says which check failed."""

    def __init__(self, rule: str, message: str, status: int = 401):
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.status = status


@dataclass(frozen=True)
class KycResult:
    organization: str  # the lab's slug
    customer: str  # the lab's external id for the customer
    reference: str  # the provider's id for the check
    level: str
    status: str  # verified | revoked
    evidence_digest: str
    verified_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Delivery:
    """An authenticated delivery: what the replay store keeps."""

    signature: str
    timestamp: int
    body_sha256: str


class KycProvider(Protocol):
    name: str

    def authenticate(self, *, headers: Mapping[str, str], body: bytes,
                     now: datetime) -> Delivery: ...

    def parse(self, body: bytes) -> KycResult: ...


@cache
def provider(name: str) -> KycProvider | None:
    config = settings.GOVFLOW_KYC_PROVIDERS.get(name)
    if config is None:
        return None
    return import_string(config["adapter"])(name=name, secret=config["secret"])
