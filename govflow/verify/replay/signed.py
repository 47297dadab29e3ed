"""The predicate of a logged signed statement, read from its envelope.

`verify.signatures` has already checked, for every event that carries an envelope, that
the key was the actor's and live and that it signed these bytes, and that the envelope
carries the event's own predicate type. A re-derivation reads what the signer said from
those signed bytes, not from the payload fields the operator wrote beside them.
"""

from __future__ import annotations

import json
from typing import Any

from govflow.trust import dsse
from govflow.verify.replay.machine import Refused


def signed_predicate(body: dict[str, Any]) -> dict[str, Any]:
    envelope = body["payload"].get("envelope")
    if envelope is None:
        raise Refused("signed_statement", f"a {body['type']} event without its signed "
                                          "statement")
    try:
        _, raw, _ = dsse.parse_envelope(envelope)
        predicate: dict[str, Any] = json.loads(raw)["predicate"]
    except (dsse.EnvelopeError, ValueError, KeyError, TypeError) as exc:
        raise Refused("signed_statement", f"{body['type']}: unreadable envelope: {exc}") from exc
    release = predicate.get("release")
    if release is not None and release != body.get("release"):
        raise Refused("signed_statement", f"{body['type']}: the signed statement is about "
                                          f"release {release}, the event about "
                                          f"{body.get('release')}")
    return predicate
