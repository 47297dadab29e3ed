"""The statement layer (no Django): one reader for every predicate, one error whose
`rule` names what failed. Each test is an attack on a reader that trusted too much."""

from __future__ import annotations

import base64
import json

import pytest

from govflow.auditing import predicates as auditing
from govflow.oversight import predicates as oversight
from govflow.trust import statements
from govflow.trust.intoto import Statement, sign_statement
from govflow.trust.keys import generate_private_key
from govflow.trust.statements import REGISTRY, StatementError, read

RELEASE = {"id": 7, "system": 3, "system_version_number": 2,
           "manifest_digest": "sha256:" + "ab" * 32}


def _signed(statement: dict) -> dict:
    statement["predicate"]["signed_at"] = "2026-12-01T10:00:00Z"
    return sign_statement(Statement.from_dict(statement), generate_private_key())


def _finding(**changes) -> dict:
    fields = {"title": "hides trades", "severity": "low", "category": "deception",
              "description": "lies", "reproduction_steps": ["run it"]}
    return auditing.build_finding(release=RELEASE, **{**fields, **changes})


def _rule(envelope, predicate_type=auditing.FINDING_PREDICATE) -> StatementError:
    with pytest.raises(StatementError) as caught:
        read(envelope, predicate_type)
    return caught.value


def test_a_well_formed_finding_is_read_with_its_claim_and_pruned_envelope():
    envelope = {**_signed(_finding()), "extra": "ignored", "signatures": [
        {**_signed(_finding())["signatures"][0], "junk": 1}]}
    envelope["payload"] = _signed(_finding(title="x"))["payload"]

    parsed = read(envelope, auditing.FINDING_PREDICATE)

    assert parsed.claim.title == "x"
    assert parsed.subject_name == "govflow:system/3/v2"
    assert set(parsed.envelope) == {"payload", "payloadType", "signatures"}
    assert set(parsed.envelope["signatures"][0]) == {"keyid", "sig"}


def test_the_wrong_payload_type_is_refused_before_anything_is_decoded():
    envelope = {**_signed(_finding()), "payloadType": "application/json"}

    assert _rule(envelope).rule == "wrong_payload_type"


def test_a_statement_of_another_predicate_is_never_read_as_this_one():
    # a signed hold cannot be replayed at the finding endpoint
    hold = oversight.build_hold(action="place", release=7, system_id=3, version_number=2,
                                manifest_digest=RELEASE["manifest_digest"], reason="r")

    assert _rule(_signed(hold)).rule == "wrong_predicate_type"


def test_a_field_error_names_its_path():
    error = _rule(_signed(_finding(severity="apocalyptic")))

    assert (error.rule, error.path) == ("invalid_field", "predicate.severity")


@pytest.mark.parametrize("nonce", ["short", "has spaces in it here", None])
def test_the_nonce_pattern_is_shared(nonce):
    statement = _finding()
    statement["predicate"]["nonce"] = nonce

    assert _rule(_signed(statement)).path == "predicate.nonce"


def test_a_duplicated_json_key_is_malformed():
    # two parsers could read two statements from one signature
    envelope = _signed(_finding())
    text = base64.b64decode(envelope["payload"]).decode()
    envelope["payload"] = base64.b64encode(
        text.replace('"title":', '"title":"a","title":', 1).encode()).decode()

    assert _rule(envelope).rule == "malformed_statement"


def test_a_subject_that_is_not_a_system_version_is_refused():
    statement = _finding()
    statement["subject"][0]["name"] = "govflow:organization/acme"

    assert _rule(_signed(statement)).rule == "wrong_subject"


def test_an_organization_subject_must_name_the_statements_organization():
    statement = auditing.build_certificate(
        auditor="firm-a", risk_areas=["bio"], access_levels=["black_box"],
        valid_from="2026-01-01T00:00:00Z", valid_until="2027-01-01T00:00:00Z")
    statement["predicate"]["auditor"] = "firm-b"

    error = _rule(_signed(statement), auditing.CERTIFICATE_PREDICATE)

    assert error.rule == "wrong_subject"


def test_every_predicate_is_registered_once_and_building_an_unknown_one_fails():
    assert auditing.FINDING_PREDICATE in REGISTRY
    with pytest.raises(ValueError, match="twice"):
        statements.predicate(auditing.FINDING_PREDICATE, subject="system")(lambda r, s: None)
    with pytest.raises(StatementError):
        statements.build(statements.organization_subject("x"), "https://example/unknown", {})


def test_an_envelope_without_signatures_is_malformed():
    envelope = {**_signed(_finding()), "signatures": []}

    assert _rule(envelope).rule == "malformed_envelope"
    assert json.dumps(envelope)  # the refusal did not change the input
