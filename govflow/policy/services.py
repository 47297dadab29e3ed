"""Registering policy files as immutable policy versions."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import NotFound, ValidationFailed
from govflow.policy.document import PolicyInvalid, parse_policy
from govflow.policy.models import PolicyVersion


def policy_register(*, source: str, source_path: str = "", actor=None) -> PolicyVersion:
    """Register policy text, or return the version already registered with its digest."""
    try:
        policy = parse_policy(source, source=source_path or "<policy>")
    except PolicyInvalid as exc:
        raise ValidationFailed(
            "the policy is invalid",
            detail={"problems": [str(p) for p in exc.problems]},
        ) from exc
    existing = PolicyVersion.objects.filter(digest=policy.digest).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            version = PolicyVersion.objects.create(
                name=policy.name,
                version=policy.version,
                digest=policy.digest,
                source=source,
                source_path=source_path,
                document=policy.document,
            )
            audit_append(
                event_type=EventType.POLICY_REGISTERED,
                actor=actor,
                subject=version,
                payload={
                    "name": policy.name,
                    "version": policy.version,
                    "digest": policy.digest,
                    "source_path": source_path,
                    "stages": policy.stage_names,
                },
            )
            return version
    except IntegrityError:
        # Registered concurrently by another request: the digest is unique.
        return PolicyVersion.objects.get(digest=policy.digest)


def policy_file_path(name: str) -> Path:
    """Resolve a policy name to a file in the policy directory, never outside it."""
    base = Path(settings.GOVFLOW_POLICY_DIR).resolve()
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise NotFound(f"no policy named {name!r}")
    path = (base / f"{name}.yaml").resolve()
    if path.parent != base or not path.is_file():
        raise NotFound(f"no policy named {name!r} in {base}")
    return path


def policy_register_named(*, name: str, actor=None) -> PolicyVersion:
    path = policy_file_path(name)
    return policy_register(
        source=path.read_text(encoding="utf-8"),
        source_path=str(path.relative_to(Path(settings.BASE_DIR)))
        if path.is_relative_to(Path(settings.BASE_DIR))
        else str(path),
        actor=actor,
    )
