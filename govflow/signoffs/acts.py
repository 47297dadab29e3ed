"""The sign-off as a signed act of the kernel (`govflow.keys.acts`)."""

from __future__ import annotations

from govflow.keys.acts import SignedAct, signed_act
from govflow.signoffs.access import access_signoff
from govflow.signoffs.predicate import PREDICATE_TYPE
from govflow.signoffs.services import signoff_record


def _authorise(actor, claim, target) -> None:  # noqa: ARG001
    access_signoff(actor, claim.release, claim.role)


SIGNOFF = signed_act(SignedAct("signoff.record", PREDICATE_TYPE, authorise=_authorise,
                               record=signoff_record, server_nonce=True))
