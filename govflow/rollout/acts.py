"""The rollout's signed acts, as the kernel runs them (`govflow.keys.acts`)."""

from __future__ import annotations

from govflow.keys.acts import SignedAct, signed_act
from govflow.rollout.access import access_rollout
from govflow.rollout.predicates import GROWTH_PREDICATE
from govflow.rollout.services.growth import growth_record


def _on_release(actor, claim, target) -> None:  # noqa: ARG001
    access_rollout(actor, claim.release)


GROWTH_APPROVE = signed_act(SignedAct("cohort.growth", GROWTH_PREDICATE, authorise=_on_release,
                                      record=growth_record))
