"""The regulator's signed oversight acts, as the kernel runs them (`govflow.keys.acts`)."""

from __future__ import annotations

from govflow.keys.acts import SignedAct, signed_act
from govflow.oversight import services
from govflow.oversight.access import access_hold, access_regulator, access_sanction
from govflow.oversight.predicates import HOLD_PREDICATE, SANCTION_PREDICATE
from govflow.releases.access import access_release


def _on_release(actor, claim, target) -> None:  # noqa: ARG001
    access_regulator(actor)
    access_release(actor, claim.release)


def _on_hold(actor, claim, target) -> None:  # noqa: ARG001
    access_hold(actor, target, act=True)


def _regulator(actor, claim, target) -> None:  # noqa: ARG001
    access_regulator(actor)


def _on_sanction(actor, claim, target) -> None:  # noqa: ARG001
    access_sanction(actor, target, act=True)


HOLD_PLACE = signed_act(SignedAct("hold.place", HOLD_PREDICATE, authorise=_on_release,
                                  record=services.hold_place))
HOLD_LIFT = signed_act(SignedAct("hold.lift", HOLD_PREDICATE, authorise=_on_hold,
                                 record=services.hold_lift))
SANCTION_IMPOSE = signed_act(SignedAct("sanction.impose", SANCTION_PREDICATE,
                                       authorise=_regulator, record=services.sanction_impose))
SANCTION_LIFT = signed_act(SignedAct("sanction.lift", SANCTION_PREDICATE,
                                     authorise=_on_sanction, record=services.sanction_lift))
