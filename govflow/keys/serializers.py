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


def envelope_of(request: Any) -> Any:
    """The envelope as sent (the signature covers its bytes), once its shape is checked."""
    SignedIn(data=request.data).is_valid(raise_exception=True)
    return request.data["envelope"]


def signature_required(what: str, command: str) -> PermissionDenied:
    """The refusal of a governed act sent without its envelope: a person's act is a
    signed statement the offline verifier can check, never a bare token's say."""
    return PermissionDenied(f"{what} is a signed statement: send {{\"envelope\": …}} "
                            f"(python -m govflow.client {command})",
                            detail={"rule": "signature_required"})
