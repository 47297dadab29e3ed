"""Attaching evidence documents to a release."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict, TooLarge, field_error
from govflow.releases.locks import lock_release
from govflow.releases.models import EvidenceDocument, ReleaseStatus


def _hash_upload(upload: File) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in upload.chunks():
        size += len(chunk)
        if size > settings.GOVFLOW_MAX_EVIDENCE_BYTES:
            raise field_error(
                "file",
                f"is larger than the limit of {settings.GOVFLOW_MAX_EVIDENCE_BYTES} bytes",
                summary="the document is too large", error=TooLarge,
            )
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest(), size


@transaction.atomic
def evidence_attach(
    *,
    release_id: int,
    document_type: str,
    upload: File,
    name: str,
    media_type: str,
    actor,
    declared_sha256: str | None = None,
) -> EvidenceDocument:
    release = lock_release(release_id)
    if release.status == ReleaseStatus.HALTED:
        raise Conflict(f"release {release.pk} is halted")
    sha256, size = _hash_upload(upload)
    if declared_sha256 and declared_sha256.removeprefix("sha256:") != sha256:
        raise field_error(
            "sha256",
            f"does not match the uploaded bytes (sha256:{sha256})",
            summary="the document's digest does not match its content",
        )
    if EvidenceDocument.objects.filter(
        release=release, document_type=document_type, sha256=sha256
    ).exists():
        raise Conflict(f"this {document_type} (sha256:{sha256}) is already attached")
    # Content-addressed: the same bytes are stored once. If this transaction rolls
    # back after the write, the file stays behind unreferenced, which is harmless.
    path = f"evidence/{sha256[:2]}/{sha256}"
    if not default_storage.exists(path):
        path = default_storage.save(path, upload)
    document = EvidenceDocument.objects.create(
        release=release,
        document_type=document_type,
        name=name,
        sha256=sha256,
        size=size,
        media_type=media_type or "application/octet-stream",
        file=path,
        uploaded_by=actor,
        uploaded_at=timezone.now(),
    )
    audit_append(
        event_type=EventType.EVIDENCE_ATTACHED,
        actor=actor,
        subject=document,
        organization_id=release.organization_id,
        release_id=release.pk,
        payload={
            "document_type": document_type,
            "name": name,
            "sha256": sha256,
            "size": size,
            "media_type": document.media_type,
        },
    )
    return document
