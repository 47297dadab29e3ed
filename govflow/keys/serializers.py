"""The DSSE envelope every signed act arrives in (one serializer for every endpoint)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from govflow.core.errors import PermissionDenied


class EnvelopeIn(serializers.Serializer):  # type: ignore[type-arg]
    """A DSSE envelope (payloadType application/vnd.in-toto+json)."""

    class Signature(serializers.Serializer):  # type: ignore[type-arg]
        keyid = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                      trim_whitespace=False)
        sig = serializers.CharField(max_length=200, trim_whitespace=False)

    payload = serializers.CharField(max_length=200_000, trim_whitespace=False,
                                    help_text="base64 of the statement's JSON")
    payloadType = serializers.CharField(  # noqa: N815 (the DSSE field name)
        max_length=200, trim_whitespace=False, help_text="application/vnd.in-toto+json"
    )
    signatures = Signature(many=True, allow_empty=False, max_length=8)  # type: ignore[call-arg]  # ListSerializer takes max_length


class SignedIn(serializers.Serializer):  # type: ignore[type-arg]
    envelope = EnvelopeIn(help_text="a DSSE envelope around the statement you fetched and signed")


# EnvelopeIn's limits, for the plain check below.
_PAYLOAD_MAX, _FIELD_MAX, _SIGNATURES_MAX = 200_000, 200, 8


def _text(value: Any, *, most: int, blank: bool = False) -> bool:
    # ASCII holds no surrogate, so with no NUL this is text EnvelopeIn's CharField takes.
    return (type(value) is str and (blank or bool(value)) and len(value) <= most
            and value.isascii() and "\x00" not in value)


def plainly_well_formed(data: Any) -> bool:
    """True only for data that `SignedIn` accepts as it is: a JSON object whose envelope
    has an ASCII payload and payloadType and one to eight signatures of ASCII text,
    within EnvelopeIn's lengths. Every envelope a client signs is such; for anything else
    (False) the serializer decides and names the field. DRF's validation walks each
    character of a string in Python (its surrogate check), which made checking the shape
    of an envelope cost more than verifying its signature."""
    envelope = data.get("envelope") if type(data) is dict else None
    if type(envelope) is not dict:
        return False
    signatures = envelope.get("signatures")
    return (_text(envelope.get("payload"), most=_PAYLOAD_MAX)
            and _text(envelope.get("payloadType"), most=_FIELD_MAX)
            and type(signatures) is list and 1 <= len(signatures) <= _SIGNATURES_MAX
            and all(type(s) is dict and _text(s.get("sig"), most=_FIELD_MAX)
                    and ("keyid" not in s or _text(s["keyid"], most=_FIELD_MAX, blank=True))
                    for s in signatures))


def envelope_of(request: Any) -> Any:
    """The envelope as sent (the signature covers its bytes), once its shape is checked."""
    if not plainly_well_formed(request.data):
        SignedIn(data=request.data).is_valid(raise_exception=True)
    return request.data["envelope"]


def signature_required(what: str, command: str) -> PermissionDenied:
    """The refusal of a governed act sent without its envelope: a person's act is a
    signed statement the offline verifier can check, never a bare token's say."""
    return PermissionDenied(f"{what} is a signed statement: send {{\"envelope\": …}} "
                            f"(python -m govflow.client {command})",
                            detail={"rule": "signature_required"})
