"""in-toto Statement v1: building, canonical serialisation, parsing, DSSE signing."""

from __future__ import annotations

import base64
import copy
import hashlib
import json

import pytest
import rfc8785

from govflow.trust import dsse, keys
from govflow.trust.intoto import (
    PAYLOAD_TYPE,
    STATEMENT_TYPE,
    Statement,
    StatementError,
    Subject,
    sign_statement,
    verify_statement,
)

FINDING = "https://govflow.example/predicates/finding/v1"
MANIFEST = b'{"model":"frontier-7","system_prompt":"sha256:..."}'


def finding_statement() -> Statement:
    return Statement(
        subjects=(Subject.for_bytes("system-manifest.json", MANIFEST),),
        predicate_type=FINDING,
        predicate={"severity": "high", "deception_rate_upper": 0.12, "auditor": "Zoë Lab"},
    )


def test_statement_serialises_to_the_v1_shape_in_canonical_json():
    statement = finding_statement()

    encoded = statement.to_json()

    assert json.loads(encoded) == {
        "_type": STATEMENT_TYPE,
        "subject": [
            {
                "name": "system-manifest.json",
                "digest": {"sha256": hashlib.sha256(MANIFEST).hexdigest()},
            }
        ],
        "predicateType": FINDING,
        "predicate": {"severity": "high", "deception_rate_upper": 0.12, "auditor": "Zoë Lab"},
    }
    assert encoded == rfc8785.dumps(statement.to_dict())
    assert encoded.startswith(b'{"_type":"https://in-toto.io/Statement/v1","predicate":{')


def test_statement_round_trips_through_parse():
    statement = finding_statement()

    assert Statement.parse(statement.to_json()) == statement
    assert Statement.parse(statement.to_json().decode()) == statement


def test_signed_statement_verifies_and_names_its_signer():
    auditor = keys.generate_private_key()
    auditor_id = keys.public_key_id(auditor.public_key())
    statement = finding_statement()

    envelope = sign_statement(statement, auditor)
    verified, keyid = verify_statement(
        envelope, {auditor_id: auditor.public_key()}, predicate_type=FINDING
    )

    assert envelope["payloadType"] == PAYLOAD_TYPE
    assert base64.b64decode(envelope["payload"]) == statement.to_json()
    assert verified == statement
    assert keyid == auditor_id


def test_statement_with_another_payload_type_or_predicate_is_refused():
    auditor = keys.generate_private_key()
    trusted = {"auditor": auditor.public_key()}
    statement = finding_statement()
    wrong_type = dsse.sign_envelope(statement.to_json(), "application/json", auditor)

    with pytest.raises(StatementError, match="expected 'application/vnd.in-toto"):
        verify_statement(wrong_type, trusted)
    with pytest.raises(StatementError, match="expected 'https://other"):
        verify_statement(
            sign_statement(statement, auditor), trusted, predicate_type="https://other.example/v1"
        )


def test_tampered_statement_is_refused():
    auditor = keys.generate_private_key()
    envelope = sign_statement(finding_statement(), auditor)
    data = json.loads(base64.b64decode(envelope["payload"]))
    data["predicate"]["severity"] = "low"
    tampered = copy.deepcopy(envelope)
    tampered["payload"] = base64.b64encode(rfc8785.dumps(data)).decode()

    with pytest.raises(StatementError, match="no valid signature"):
        verify_statement(tampered, {"auditor": auditor.public_key()})


def _payload(**changes) -> bytes:
    data = finding_statement().to_dict()
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not None}).encode()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (_payload(_type="https://in-toto.io/Statement/v0.1"), "_type must be"),
        (_payload(subject=[]), "non-empty list"),
        (_payload(subject=["x"]), "each subject must be a JSON object"),
        (_payload(subject=[{"name": "a"}]), "needs a digest set"),
        (_payload(subject=[{"name": "a", "digest": {"sha256": "ABC"}}]), "64 lowercase hex"),
        (_payload(subject=[{"digest": {"sha256": "a" * 64}}]), "subject name"),
        (_payload(predicateType=""), "predicateType must be"),
        (_payload(predicate=[1]), "predicate must be a JSON object"),
        (b'{"_type": "a", "_type": "b"}', "duplicate JSON key '_type'"),
        (b'{"x": NaN}', "NaN is not valid JSON"),
        ("{}".encode("utf-16"), "not valid JSON"),
    ],
)
def test_malformed_statements_are_refused(payload, message):
    with pytest.raises(StatementError, match=message):
        Statement.parse(payload)


def test_predicate_is_optional_and_unknown_fields_are_ignored():
    data = finding_statement().to_dict()
    del data["predicate"]
    data["futureField"] = 1

    statement = Statement.parse(json.dumps(data))

    assert statement.predicate == {}


def test_non_canonicalisable_predicate_is_reported():
    statement = Statement((Subject("a", {"sha256": "0" * 64}),), FINDING, {"n": 2**60})

    with pytest.raises(StatementError, match="I-JSON range"):
        statement.to_json()
