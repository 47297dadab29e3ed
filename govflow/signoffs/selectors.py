"""Reads of sign-offs and of the round a release's sign-offs belong to."""

from __future__ import annotations

from typing import Any

from govflow.releases.models import Release, StageTransition
from govflow.releases.selectors import releases_visible_to
from govflow.signoffs.models import SignOff


def stage_entry_of(release: Release) -> StageTransition:
    """The transition that brought the release into its current stage.

    Every transition (open, advance, rollback) sets the stage, so it is the latest
    one; ids, not times, because two transitions can share a timestamp and the
    release row lock makes ids grow in the order transitions happen.
    """
    return StageTransition.objects.filter(release=release).order_by("-id").first()


def round_statements(
    *, release: Release, target: str, stage_entry_id: int, gate_report_digest: str
) -> list[dict[str, Any]]:
    """The sign-offs of one round as plain statements for `tally`, oldest first."""
    rows = (
        SignOff.objects.filter(
            release=release,
            target_stage=target,
            stage_entry_id=stage_entry_id,
            gate_report_digest=gate_report_digest,
        )
        .order_by("id")
        .values_list("id", "signer_id", "signer__username", "role", "decision",
                     "key__key_id", "recorded_at")
    )
    # key_id, organization, signed and at: what `tally.certified_only` checks a key
    # certificate against (the server's recording time, never the signer's claim).
    return [
        {"order": pk, "signer": signer, "label": username, "role": role, "decision": decision,
         "key_id": key_id, "organization": release.organization_id, "signed": recorded_at,
         "at": recorded_at}
        for pk, signer, username, role, decision, key_id, recorded_at in rows
    ]


def signoffs_visible_to(user):
    return SignOff.objects.filter(release__in=releases_visible_to(user)).select_related(
        "signer", "key"
    )
