"""A provider that pushes results to a webhook, signed with HMAC-SHA256.

The provider sends

    POST /api/kyc/webhooks/<name>
    X-KYC-Timestamp: 1735732800                 (Unix seconds, the provider's clock)
    X-KYC-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
    {"organization": "frontier-lab", "customer": "cust-0001", "reference": "chk_81",
     "level": "standard", "status": "verified", "evidence_digest": "sha256:…",
     "verified_at": "…", "expires_at": "…"}

The signature covers the timestamp, so an old delivery cannot be re-dated; the timestamp
must be within GOVFLOW_KYC_WEBHOOK_TOLERANCE_SECONDS of the *server's* clock; and a
delivery is accepted once (its signature is stored under a unique constraint), so a
replay inside the tolerance window is refused too. The comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from django.conf import settings

from govflow.core.boundedjson import InputRefused, parse_json
from govflow.core.digests import is_sha256_digest
from govflow.rollout.models import KYC_LEVELS, KycStatus
from govflow.rollout.providers import Delivery, KycResult, WebhookRejected

TIMESTAMP_HEADER = "X-KYC-Timestamp"
SIGNATURE_HEADER = "X-KYC-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value a provider sends (also what tests and the demo use)."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class HmacWebhookProvider:
    def __init__(self, *, name: str, secret: str):
        self.name = name
        self._secret = secret

    def authenticate(self, *, headers: Mapping[str, str], body: bytes,
                     now: datetime) -> Delivery:
        raw_time = headers.get(TIMESTAMP_HEADER, "")
        raw_sig = headers.get(SIGNATURE_HEADER, "")
        if not (raw_time.isascii() and raw_time.isdigit()) or not raw_sig.startswith("sha256="):
            raise WebhookRejected("malformed", f"send {TIMESTAMP_HEADER} (Unix seconds) and "
                                               f"{SIGNATURE_HEADER}: sha256=<hex>", status=400)
        timestamp = int(raw_time)
        expected = sign(self._secret, timestamp, body)
        # Signature first, then time: an unauthenticated sender learns nothing about the
        # tolerance window.
        if not hmac.compare_digest(expected.encode(), raw_sig.encode()):
            raise WebhookRejected("bad_signature", "the signature does not verify")
        skew = abs(now.timestamp() - timestamp)
        tolerance = settings.GOVFLOW_KYC_WEBHOOK_TOLERANCE_SECONDS
        if skew > tolerance:
            raise WebhookRejected("stale", f"the timestamp is {skew:.0f} s from the server's "
                                           f"clock; at most {tolerance} s is accepted")
        return Delivery(signature=raw_sig.removeprefix("sha256="), timestamp=timestamp,
                        body_sha256=hashlib.sha256(body).hexdigest())

    def parse(self, body: bytes) -> KycResult:
        try:
            data = parse_json(body)
        except InputRefused as exc:
            raise WebhookRejected("malformed", str(exc), 400) from exc
        except ValueError as exc:  # also UnicodeDecodeError
            raise WebhookRejected("malformed", f"the body is not JSON: {exc}", 400) from exc
        if not isinstance(data, dict):
            raise WebhookRejected("malformed", "the body must be a JSON object", 400)
        try:
            return _result(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise WebhookRejected("malformed", f"bad result: {exc}", 400) from exc


def _time(value) -> datetime:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return moment


def _result(data: dict) -> KycResult:
    level, status = data["level"], data.get("status", KycStatus.VERIFIED)
    if level not in KYC_LEVELS:
        raise ValueError(f"level must be one of {', '.join(KYC_LEVELS)}")
    if status not in KycStatus.values:
        raise ValueError(f"status must be one of {', '.join(KycStatus.values)}")
    if not is_sha256_digest(data["evidence_digest"]):
        raise ValueError("evidence_digest must be sha256:<64 hex>")
    verified_at, expires_at = _time(data["verified_at"]), _time(data["expires_at"])
    if expires_at <= verified_at:
        raise ValueError("expires_at must be after verified_at")
    for key in ("organization", "customer", "reference"):
        if not isinstance(data[key], str) or not 0 < len(data[key]) <= 128:
            raise ValueError(f"{key} must be a string of 1-128 characters")
    return KycResult(organization=data["organization"], customer=data["customer"],
                     reference=data["reference"], level=level, status=status,
                     evidence_digest=data["evidence_digest"], verified_at=verified_at,
                     expires_at=expires_at)
