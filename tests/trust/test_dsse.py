"""DSSE v1 envelopes: PAE, signing, verification and interop with securesystemslib."""

from __future__ import annotations

import base64
import copy
import json

import pytest
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey

from govflow.trust import dsse, keys

PAYLOAD_TYPE = "application/vnd.govflow.test+json"


@pytest.fixture
def auditor():
    private = keys.generate_private_key()
    return private, keys.public_key_id(private.public_key())


def test_pae_matches_the_dsse_spec_example():
    # protocol.md, "Test vectors": the PAE of the HelloWorld example.
    encoded = dsse.pae("http://example.com/HelloWorld", b"hello world")

    assert encoded == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"


def test_pae_counts_bytes_not_characters():
    assert dsse.pae("t/\u00e9", "\u20ac".encode()) == "DSSEv1 4 t/\u00e9 3 \u20ac".encode()
    assert dsse.pae("", b"") == b"DSSEv1 0  0 "


def test_signed_envelope_round_trips(auditor):
    private, keyid = auditor
    payload = b'{"finding":"deception rate 0.12"}'

    envelope = dsse.sign_envelope(payload, PAYLOAD_TYPE, private)
    wire = json.loads(json.dumps(envelope))
    verified = dsse.verify_envelope(wire, {keyid: private.public_key()})

    assert verified == (PAYLOAD_TYPE, payload, keyid)
    assert envelope["signatures"][0]["keyid"] == keyid
    assert base64.b64decode(envelope["payload"], validate=True) == payload


def test_envelope_verifies_with_securesystemslib(auditor):
    private, keyid = auditor
    envelope = dsse.sign_envelope(b"hello world", "http://example.com/HelloWorld", private, keyid)
    sslib_key = SSlibKey.from_crypto(private.public_key(), keyid=keyid)

    # from_dict rewrites the signature dicts in place, so hand it a copy.
    theirs = Envelope.from_dict(copy.deepcopy(envelope))
    accepted = theirs.verify([sslib_key], threshold=1)

    assert list(accepted) == [keyid]
    assert theirs.pae() == dsse.pae("http://example.com/HelloWorld", b"hello world")


def test_securesystemslib_envelope_verifies_with_ours(auditor):
    private, _ = auditor
    signer = CryptoSigner(private)
    theirs = Envelope(b"payload", PAYLOAD_TYPE, {})
    theirs.sign(signer)

    verified = dsse.verify_envelope(theirs.to_dict(), {"k": private.public_key()})

    assert verified == (PAYLOAD_TYPE, b"payload", "k")


def test_keyid_is_only_a_hint(auditor):
    # protocol.md: KEYID MUST NOT be used for security decisions, so an unknown or missing hint
    # still verifies against the configured key, and the returned id is ours, not the hint.
    private, keyid = auditor
    for hint in ("someone-else", ""):
        envelope = dsse.sign_envelope(b"x", PAYLOAD_TYPE, private, keyid=hint)
        assert dsse.verify_envelope(envelope, {keyid: private.public_key()}).keyid == keyid
    envelope = dsse.sign_envelope(b"x", PAYLOAD_TYPE, private)
    del envelope["signatures"][0]["keyid"]
    assert dsse.verify_envelope(envelope, {keyid: private.public_key()}).keyid == keyid


def test_co_signed_envelope_verifies_for_either_party(auditor):
    private, keyid = auditor
    regulator = keys.generate_private_key()
    envelope = dsse.sign_envelope(b"decision", PAYLOAD_TYPE, private)

    both = dsse.add_signature(envelope, regulator, keyid="regulator")

    assert len(both["signatures"]) == 2
    assert dsse.verify_envelope(both, {"regulator": regulator.public_key()}).keyid == "regulator"
    assert dsse.verify_envelope(both, {keyid: private.public_key()}).keyid == keyid


def _tamper(envelope, **changes):
    out = copy.deepcopy(envelope)
    out.update(changes)
    return out


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: _tamper(e, payload=base64.b64encode(b"other").decode()), "does not verify"),
        (lambda e: _tamper(e, payloadType="application/vnd.other+json"), "does not verify"),
        (lambda e: _tamper(e, payload="not base64!"), "payload is not valid base64"),
        (lambda e: _tamper(e, payload=123), "payload must be a base64 string"),
        (lambda e: _tamper(e, payloadType=None), "payloadType must be a string"),
        (lambda e: _tamper(e, signatures=[]), "no signatures"),
        (lambda e: _tamper(e, signatures="x"), "signatures must be a list"),
        (lambda e: _tamper(e, signatures=[{"keyid": "k"}]), "has no 'sig' field"),
        (lambda e: _tamper(e, signatures=[{"sig": "%%%"}]), "sig is not valid base64"),
        (lambda e: _tamper(e, signatures=[{"sig": "AAAA", "keyid": 7}]), "non-string keyid"),
        (lambda e: {k: v for k, v in e.items() if k != "payload"}, "no 'payload' field"),
        (lambda e: {k: v for k, v in e.items() if k != "signatures"}, "no 'signatures' field"),
        (lambda e: [e], "must be a JSON object"),
    ],
)
def test_bad_envelopes_raise_a_clear_error(auditor, mutate, message):
    private, keyid = auditor
    envelope = dsse.sign_envelope(b"payload", PAYLOAD_TYPE, private, keyid)

    with pytest.raises(dsse.EnvelopeError, match=message):
        dsse.verify_envelope(mutate(envelope), {keyid: private.public_key()})


def test_signature_by_an_unknown_key_is_refused(auditor):
    private, keyid = auditor
    stranger = keys.generate_private_key()
    envelope = dsse.sign_envelope(b"payload", PAYLOAD_TYPE, stranger, keyid="stranger")

    with pytest.raises(dsse.EnvelopeError, match="no valid signature by a known key"):
        dsse.verify_envelope(envelope, {keyid: private.public_key()})
    with pytest.raises(dsse.EnvelopeError, match="no keys"):
        dsse.verify_envelope(envelope, {})


def test_truncated_signature_is_refused_not_crashing(auditor):
    private, keyid = auditor
    envelope = dsse.sign_envelope(b"payload", PAYLOAD_TYPE, private, keyid)
    envelope["signatures"][0]["sig"] = envelope["signatures"][0]["sig"][:20]

    with pytest.raises(dsse.EnvelopeError, match="does not verify"):
        dsse.verify_envelope(envelope, {keyid: private.public_key()})


def test_expected_payload_type_is_enforced(auditor):
    private, keyid = auditor
    envelope = dsse.sign_envelope(b"payload", PAYLOAD_TYPE, private, keyid)

    with pytest.raises(dsse.EnvelopeError, match="expected 'application/vnd.in-toto"):
        dsse.verify_envelope(
            envelope, {keyid: private.public_key()}, payload_type="application/vnd.in-toto+json"
        )


def test_url_safe_and_unpadded_base64_are_accepted(auditor):
    # envelope.md allows either alphabet; some producers also drop the padding.
    private, keyid = auditor
    payload = b"\xfb\xff\xfe?>"  # encodes with '+' and '/' in the standard alphabet
    envelope = dsse.sign_envelope(payload, PAYLOAD_TYPE, private, keyid)
    envelope["payload"] = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    sig = envelope["signatures"][0]["sig"]
    envelope["signatures"][0]["sig"] = sig.replace("+", "-").replace("/", "_").rstrip("=")

    assert dsse.verify_envelope(envelope, {keyid: private.public_key()}).payload == payload
