"""The whistleblower channel: a report with no sender, read only by regulators.

The reporter gets a receipt code once: 160 random bits in base32, of which only the
SHA-256 is stored (a fast hash is enough: nobody can search 2^160 codes, unlike a
password). The code lets them read replies and write back; nothing else links them to
the report. Audit events about the channel belong to the regulator's organization (no
lab sees them) and carry a digest of what was said, never the text.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from govflow.accounts.models import Organization, OrganizationKind
from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.digests import json_digest
from govflow.core.errors import Conflict, NotFound, field_error
from govflow.oversight.models import WhistleblowerMessage, WhistleblowerReport

RECEIPT_BYTES = 20
MAX_BODY = 20000


def new_receipt_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(RECEIPT_BYTES)).decode("ascii")
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def receipt_digest(code: str) -> str:
    normal = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normal.encode("ascii", "ignore")).hexdigest()


def report_by_receipt(code: str) -> WhistleblowerReport | None:
    if not code or len(code) > 200:
        return None
    return WhistleblowerReport.objects.filter(receipt_digest=receipt_digest(code)).first()


def _body(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise field_error("body", "may not be blank")
    if len(text) > MAX_BODY:
        raise field_error("body", f"at most {MAX_BODY} characters")
    return text


def _regulator_org() -> Organization:
    org = Organization.objects.filter(kind=OrganizationKind.REGULATOR).order_by("pk").first()
    if org is None:
        raise Conflict("no regulator receives reports here yet")
    return org


@transaction.atomic
def report_file(*, body: str, subject: str = "", concerning: str = ""
                ) -> tuple[WhistleblowerReport, str]:
    """Store a report; return it and its receipt code (shown once, never stored)."""
    body = _body(body)
    subject, concerning = (subject or "").strip()[:200], (concerning or "").strip()[:200]
    code = new_receipt_code()
    report = WhistleblowerReport.objects.create(
        receipt_digest=receipt_digest(code), subject=subject, concerning=concerning, body=body,
        received_on=timezone.now().date(),
    )
    audit_append(
        event_type=EventType.WHISTLEBLOWER_REPORT_RECEIVED, actor=None, subject=report,
        organization_id=_regulator_org().pk,
        payload={"report": report.pk, "content_digest": json_digest(
            {"subject": subject, "concerning": concerning, "body": body})},
        day_only=True,  # the README promises the day only: the time could name the sender
    )
    return report, code


@transaction.atomic
def report_message_add(*, report_id: int, body: str, actor=None) -> WhistleblowerMessage:
    """A regulator's reply (``actor``) or the reporter's follow-up (no actor: the caller
    proved the receipt code, and the reporter has no account here)."""
    body = _body(body)
    report = WhistleblowerReport.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise NotFound(f"report {report_id} does not exist")
    message = WhistleblowerMessage.objects.create(
        report=report, author=actor, from_regulator=actor is not None, body=body,
        sent_on=timezone.now().date(),
    )
    audit_append(
        event_type=EventType.WHISTLEBLOWER_MESSAGE_ADDED, actor=actor, subject=message,
        organization_id=_regulator_org().pk,
        payload={"report": report.pk, "message": message.pk,
                 "from": "regulator" if actor is not None else "reporter",
                 "content_digest": json_digest({"body": body})},
        day_only=actor is None,  # the reporter's follow-up: its time could name them too
    )
    return message
