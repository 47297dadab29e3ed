"""Publishing signed cohort snapshots (format: govflow.rollout.membership).

Signed with the audit log's own key. A regulator already pins that key (it signs the
log's checkpoints, which they keep), so a snapshot needs no new trust root; DSSE's
payload type and the statement's predicate type keep a snapshot signature from ever
being read as a checkpoint or anything else. Each publication is also an audit event
carrying the root, size and cap, so the log itself shows the cohort's size over time
and that it never passed its cap.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from govflow.audit.events import EventType
from govflow.audit.logkey import log_signing_key
from govflow.audit.services import audit_append
from govflow.core.digests import json_digest
from govflow.core.errors import NotFound
from govflow.core.times import rfc3339
from govflow.keys.acts import release_subject, signed_fields, subject_check
from govflow.keys.verification import Verified
from govflow.rollout.membership import build_statement
from govflow.rollout.models import Cohort, CohortSnapshot
from govflow.rollout.policy import cohort_rules
from govflow.rollout.selectors import active_members
from govflow.trust.intoto import sign_statement


@transaction.atomic
def snapshot_publish(*, cohort_id: int, ordered: Verified | None = None,
                     actor=None) -> CohortSnapshot:
    """Sign and store a snapshot of the cohort as it is now, unless one of this cohort
    version exists already (then return it): idempotent, so a task may run it twice.
    ``ordered``: the verified statement of the person who ordered it (its signature rides
    in the event)."""
    cohort = (Cohort.objects.select_for_update(of=("self",))
              .select_related("release__policy", "release__system_version")
              .filter(pk=cohort_id).first())
    if cohort is None:
        raise NotFound(f"cohort {cohort_id} does not exist")
    existing = CohortSnapshot.objects.filter(cohort=cohort,
                                             cohort_version=cohort.version).first()
    if existing is not None:
        return existing
    release = cohort.release
    rules = cohort_rules(release, cohort.stage)
    leaves = sorted(bytes.fromhex(leaf) for leaf in
                    active_members(cohort).values_list("leaf", flat=True))
    now = timezone.now()
    statement = build_statement(
        release=release.pk, stage=cohort.stage, cohort=cohort.pk,
        cohort_version=cohort.version, leaves=leaves, cap=rules.cap if rules else 0,
        kyc_level=rules.kyc_level if rules else "", issued_at=rfc3339(now),
        manifest_digest=release.system_version.manifest_digest,
    )
    envelope = sign_statement(statement, log_signing_key())
    root = statement.subjects[0].digest["sha256"]
    snapshot = CohortSnapshot.objects.create(
        cohort=cohort, cohort_version=cohort.version, size=len(leaves), root=root,
        leaves=[leaf.hex() for leaf in leaves], statement=statement.to_dict(),
        envelope=envelope, published_at=now,
    )
    audit_append(
        event_type=EventType.COHORT_SNAPSHOT_PUBLISHED,
        actor=actor, subject=snapshot,
        organization_id=release.organization_id, release_id=release.pk,
        payload={"cohort": cohort.pk, "stage": cohort.stage,
                 "cohort_version": cohort.version, "size": len(leaves),
                 "cap": statement.predicate["cap"], "root": root,
                 "statement_digest": json_digest(statement.to_dict()),
                 **signed_fields(ordered)},
    )
    return snapshot


def snapshot_order_record(*, verified: Verified, actor, now, target=None,
                          context=None) -> CohortSnapshot:
    """A signed order to publish the cohort's snapshot (inside the kernel's transaction)."""
    claim = verified.claim
    cohort = (Cohort.objects.select_related("release__system_version")
              .filter(release_id=claim.release, stage=claim.stage).first())
    if cohort is None:
        raise NotFound(f"release {claim.release} has no {claim.stage} cohort")
    subject_check(verified, release_subject(cohort.release), claim.release)
    return snapshot_publish(cohort_id=cohort.pk, ordered=verified, actor=actor)
