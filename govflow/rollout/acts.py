"""The rollout's signed acts, as the kernel runs them (`govflow.keys.acts`)."""

from __future__ import annotations

from govflow.keys.acts import SignedAct, signed_act
from govflow.rollout.access import access_rollout, access_snapshot_publish
from govflow.rollout.predicates import GROWTH_PREDICATE, SNAPSHOT_ORDER_PREDICATE
from govflow.rollout.services.growth import growth_record
from govflow.rollout.services.snapshots import snapshot_order_record


def _on_release(actor, claim, target) -> None:  # noqa: ARG001
    access_rollout(actor, claim.release)


GROWTH_APPROVE = signed_act(SignedAct("cohort.growth", GROWTH_PREDICATE, authorise=_on_release,
                                      record=growth_record))


def _publishes(actor, claim, target) -> None:
    if target != (claim.release, claim.stage):
        from govflow.core.errors import ValidationFailed

        raise ValidationFailed("the statement orders a snapshot of another cohort",
                               detail={"rule": "wrong_target"})
    access_snapshot_publish(actor, claim.release)


SNAPSHOT_PUBLISH = signed_act(SignedAct("cohort.snapshot", SNAPSHOT_ORDER_PREDICATE,
                                        authorise=_publishes, record=snapshot_order_record))
