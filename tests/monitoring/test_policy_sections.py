"""The policy's `incident_response` and `reassessment` sections are checked like the rest
of a policy: every mistake named with its line and path."""

from __future__ import annotations

import pytest

from govflow.policy.document import PolicyInvalid, load_policy_file, parse_policy
from govflow.policy.services import policy_file_path

HEAD = "name: p\nstages:\n  - name: a\n  - name: b\n"


@pytest.mark.parametrize(("section", "expected"), [
    ("incident_response:\n  pause_at: catastrophic\n",
     "incident_response.pause_at: 'catastrophic' is not one of"),
    ("incident_response:\n  reporting:\n    initial_days: {misuse: 0}\n",
     "incident_response.reporting.initial_days.misuse: must be a whole number of days"),
    ("incident_response:\n  reporting:\n    initial_days: {gossip: 3}\n",
     "incident_response.reporting.initial_days.gossip: unknown category"),
    ("reassessment:\n  restart_stage: {internet_access: nowhere}\n",
     "reassessment.restart_stage.internet_access: names stage 'nowhere'"),
    ("reassessment:\n  reachability: {internet_access: code_execution}\n",
     "reassessment.reachability.internet_access: must be a list of names"),
    ("reassessment:\n  online_learning: {every_days: 0}\n",
     "reassessment.online_learning.every_days: must be a whole number of days"),
    ("reassessment:\n  surprise: 1\n", "reassessment.surprise: unknown key"),
])
def test_a_bad_section_is_refused_with_its_path(section, expected):
    with pytest.raises(PolicyInvalid) as refused:
        parse_policy(HEAD + section, source="bad.yaml")
    assert any(expected in str(p) for p in refused.value.problems), refused.value.problems


def test_the_default_policy_spells_out_its_responses_and_reassessment():
    policy = load_policy_file(policy_file_path("default"))
    document = policy.document
    assert document["incident_response"]["reporting"]["initial_days"]["weight_exfiltration"] == 5
    assert document["reassessment"]["reachability"]["internet_access"] == [
        "code_execution", "compute_purchase"]
    limited = policy.stage("limited_rollout")
    cohort = next(g for g in limited.gates if g.kind == "cohort")
    assert cohort.params["cap"] == 1000
    general = policy.stage("general_availability")
    assert any(g.kind == "monitoring" for g in general.gates)
