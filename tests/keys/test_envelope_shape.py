"""The plain check of an envelope's shape (`plainly_well_formed`) is a shortcut past
`SignedIn`: whatever it lets through, the serializer accepts too, so the API's answer
is the serializer's for every input. Each variant below is asked of both."""

from __future__ import annotations

import copy

import pytest
from rest_framework.exceptions import ValidationError

from govflow.client import signing
from govflow.keys.serializers import SignedIn, envelope_of, plainly_well_formed
from govflow.trust.keys import generate_private_key

GOOD = {"envelope": {"payload": "eyJhIjogMX0=", "payloadType": "application/vnd.in-toto+json",
                     "signatures": [{"keyid": "ab" * 32, "sig": "c2lnbmF0dXJl"}]}}


def variant(change) -> dict:
    data = copy.deepcopy(GOOD)
    change(data)
    return data


def _set(path, value):
    def change(data):
        target = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    return change


def _drop(path):
    def change(data):
        target = data
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]
    return change


ENV, SIG = ("envelope",), ("envelope", "signatures", 0)
VARIANTS = {
    "as signed": lambda d: None,
    "no keyid": _drop((*SIG, "keyid")),
    "blank keyid": _set((*SIG, "keyid"), ""),
    "eight signatures": _set((*ENV, "signatures"), [{"sig": "eA=="}] * 8),
    "nine signatures": _set((*ENV, "signatures"), [{"sig": "eA=="}] * 9),
    "no signatures": _set((*ENV, "signatures"), []),
    "signatures not a list": _set((*ENV, "signatures"), {"sig": "eA=="}),
    "a signature not an object": _set((*ENV, "signatures"), ["eA=="]),
    "blank sig": _set((*SIG, "sig"), ""),
    "sig too long": _set((*SIG, "sig"), "A" * 201),
    "sig at its limit": _set((*SIG, "sig"), "A" * 200),
    "sig a number": _set((*SIG, "sig"), 12),
    "sig null": _set((*SIG, "sig"), None),
    "sig with NUL": _set((*SIG, "sig"), "ab\x00"),
    "keyid null": _set((*SIG, "keyid"), None),
    "keyid too long": _set((*SIG, "keyid"), "a" * 201),
    "no payload": _drop((*ENV, "payload")),
    "blank payload": _set((*ENV, "payload"), ""),
    "whitespace payload": _set((*ENV, "payload"), "   "),
    "payload too long": _set((*ENV, "payload"), "A" * 200_001),
    "payload at its limit": _set((*ENV, "payload"), "A" * 200_000),
    "payload not ASCII": _set((*ENV, "payload"), "é"),
    "payload a lone surrogate": _set((*ENV, "payload"), "\ud800"),
    "payload a list": _set((*ENV, "payload"), ["x"]),
    "payload true": _set((*ENV, "payload"), True),
    "no payloadType": _drop((*ENV, "payloadType")),
    "payloadType too long": _set((*ENV, "payloadType"), "x" * 201),
    "extra envelope field": _set((*ENV, "extra"), {"anything": 1}),
    "extra signature field": _set((*SIG, "extra"), 1),
    "envelope null": _set(ENV, None),
    "envelope a string": _set(ENV, "{}"),
    "no envelope": _drop(ENV),
}


# Shapes a client may well send, which take the shortcut.
SHORTCUT = {"as signed", "no keyid", "blank keyid", "eight signatures", "sig at its limit",
            "whitespace payload", "payload at its limit", "extra envelope field",
            "extra signature field"}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_what_the_shortcut_accepts_the_serializer_accepts(name):
    data = variant(VARIANTS[name])

    shortcut, by_serializer = plainly_well_formed(data), SignedIn(data=data).is_valid()

    assert shortcut == (name in SHORTCUT)
    assert by_serializer or not shortcut


def test_every_envelope_a_client_signs_takes_the_shortcut():
    statement = {"_type": "https://in-toto.io/Statement/v1",
                 "subject": [{"name": "govflow:system/1/v1", "digest": {"sha256": "ab" * 32}}],
                 "predicateType": "https://govflow.dev/x/v1", "predicate": {"é": "ü"}}

    envelope = signing.sign(statement, generate_private_key())

    assert plainly_well_formed({"envelope": envelope})


def test_a_malformed_envelope_is_named_by_the_serializer():
    class Request:
        data = variant(_set((*SIG, "sig"), ""))

    with pytest.raises(ValidationError) as caught:
        envelope_of(Request())

    assert "signatures" in caught.value.detail["envelope"]
