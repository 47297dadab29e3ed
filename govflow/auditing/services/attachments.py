"""Uploading the evidence a finding will name by SHA-256.

An attachment is uploaded before the finding that cites it, by an auditor whose
engagement on the release is in force; its bytes are hashed as they stream in and
refused, with nothing stored, when they exceed the size limit or do not match the
digest the auditor declared. Content-addressed: the same bytes on the same release are
one attachment, so a retried upload returns the first one.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.auditing.models import FindingAttachment
from govflow.auditing.services.standing import engagement_in_force
from govflow.core.errors import DomainError, ValidationFailed, field_error


class AttachmentTooLarge(DomainError):
    status_code = 413
    code = "too_large"


def too_large(size: int | None = None) -> AttachmentTooLarge:
    limit = settings.GOVFLOW_MAX_FINDING_ATTACHMENT_BYTES
    seen = f" ({size} bytes)" if size is not None else ""
    return AttachmentTooLarge(
        f"the attachment is larger than the limit of {limit} bytes{seen}",
        detail={"fields": [{"path": "file", "message": f"at most {limit} bytes"}]},
    )


def _hash(upload: File) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in upload.chunks():
        size += len(chunk)
        if size > settings.GOVFLOW_MAX_FINDING_ATTACHMENT_BYTES:
            raise too_large()
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest(), size


@transaction.atomic
def attachment_upload(*, release_id: int, upload: File, name: str, media_type: str,
                      declared_sha256: str, actor,
                      now: datetime | None = None) -> tuple[FindingAttachment, bool]:
    """Store an attachment for a finding on the release. Returns (row, created)."""
    now = now or timezone.now()
    engagement = engagement_in_force(release_id=release_id, auditor=actor, now=now)
    sha256, size = _hash(upload)
    if declared_sha256.removeprefix("sha256:") != sha256:
        raise field_error("sha256", f"the uploaded bytes are sha256:{sha256}",
                          summary="the attachment's digest does not match its bytes")
    existing = FindingAttachment.objects.filter(release_id=release_id, sha256=sha256).first()
    if existing is not None:
        return existing, False
    # Written only once every check has passed; if the transaction still rolls back,
    # the content-addressed file stays behind unreferenced, which is harmless.
    path = f"finding-attachments/{sha256[:2]}/{sha256}"
    if not default_storage.exists(path):
        path = default_storage.save(path, upload)
    try:
        with transaction.atomic():  # savepoint: a concurrent twin upload loses here
            attachment = FindingAttachment.objects.create(
                release_id=release_id, sha256=sha256, size=size, name=name,
                media_type=media_type or "application/octet-stream", file=path,
                uploaded_by=actor, uploaded_at=now,
            )
    except IntegrityError:
        return FindingAttachment.objects.get(release_id=release_id, sha256=sha256), False
    audit_append(
        event_type=EventType.FINDING_ATTACHMENT_UPLOADED,
        actor=actor,
        subject=attachment,
        organization_id=engagement.lab_id,
        release_id=release_id,
        payload={"attachment": attachment.pk, "name": name, "sha256": sha256, "size": size,
                 "media_type": attachment.media_type},
    )
    return attachment, True


def attachments_named(release_id: int, named: list[tuple[str, str]], *,
                      path: str = "envelope.payload: predicate.attachments"):
    """The release's attachments a statement names by digest; each must be uploaded."""
    if not named:
        return []
    rows = {a.sha256: a for a in FindingAttachment.objects.filter(
        release_id=release_id, sha256__in=[sha for _, sha in named])}
    missing = [(n, sha) for n, (_, sha) in enumerate(named) if sha not in rows]
    if missing:
        raise ValidationFailed(
            "the statement names attachments that were not uploaded for this release",
            detail={"fields": [{"path": f"{path}[{n}].sha256",
                                "message": f"no attachment sha256:{sha} on release "
                                           f"{release_id}; upload it first"}
                               for n, sha in missing]},
        )
    return [rows[sha] for _, sha in named]
