"""The `signoffs` gate kind: its parameters in a policy, and its place in the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from govflow.gates.engine import evidence_digest
from govflow.policy.document import PolicyInvalid, parse_policy
from govflow.releases.services import release_gate_report
from tests import factories
from tests.signoffs.support import SIGNOFF_POLICY

POLICY_WITH = """
name: p
stages:
  - name: a
  - name: b
    gates:
      - kind: signoffs
        roles: {roles}
"""


def problems(roles: str) -> list[str]:
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(POLICY_WITH.format(roles=roles), source="p.yaml")
    return [f"{p.path}: {p.message}" for p in caught.value.problems]


def test_a_valid_signoffs_gate_gets_its_defaults():
    policy = parse_policy(POLICY_WITH.format(roles="{lab_signer: 2, safety_officer: 1}"))

    [gate] = policy.stage("b").gates
    assert gate.params == {"roles": {"lab_signer": 2, "safety_officer": 1},
                           "exclude_requester": True, "certified_keys": False}


def test_an_unknown_role_is_named_with_its_path():
    [problem] = problems("{lab_signer: 2, janitor: 1}")

    assert problem.startswith("stages[1].gates[0].roles.janitor: 'janitor' is not a role")
    assert "lab_signer" in problem


@pytest.mark.parametrize("count", ["0", "-1", "true", "1.5", "two"])
def test_a_count_must_be_a_positive_whole_number(count):
    [problem] = problems(f"{{lab_signer: {count}}}")

    assert problem.startswith("stages[1].gates[0].roles.lab_signer: must be a whole number")


def test_an_empty_role_mapping_is_refused():
    [problem] = problems("{}")

    assert "name at least one role" in problem


def test_the_default_policy_needs_two_signers_and_a_safety_officer_with_certified_keys():
    text = (Path(__file__).resolve().parents[2] / "policies" / "default.yaml").read_text()

    gates = parse_policy(text).stage("third_party_audit").gates

    signoff = next(g for g in gates if g.kind == "signoffs")
    assert signoff.params == {"roles": {"lab_signer": 2, "safety_officer": 1},
                              "exclude_requester": True, "certified_keys": True}


@pytest.mark.django_db
def test_the_report_keeps_policy_order_and_the_digest_leaves_approvals_out(
    lab, release_manager
):
    release = factories.release(lab, release_manager, policy_text=SIGNOFF_POLICY)

    report = release_gate_report(release=release, target=None, actor=release_manager)

    assert [(g["kind"], g["approval"]) for g in report["gates"]] == [
        ("evidence_document", False), ("signoffs", True)
    ]
    assert report["evidence_digest"] == evidence_digest(report)
    signoffs = report["gates"][1]
    # the approval gate was evaluated against the digest of the other gates' evidence
    assert signoffs["evidence"]["gate_report_digest"] == report["evidence_digest"]
    assert signoffs["evidence"]["stage_entry"] == release.transitions.get().pk
    assert signoffs["reason"] == "approvals missing: lab_signer 0/2, safety_officer 0/1"
