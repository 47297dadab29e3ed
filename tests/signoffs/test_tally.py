"""The counting rule of the `signoffs` gate, on plain statements (no database)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from govflow.signoffs.tally import tally

ROLES = {"lab_signer": 2, "safety_officer": 1}
BOB, CAROL, DANA, ALICE = 1, 2, 3, 4


def st(order, signer, role, decision="approve"):
    return {"order": order, "signer": signer, "role": role, "decision": decision}


def run(statements, roles=ROLES, exclude_requester=True, requester=ALICE):
    return tally(statements, roles=roles, exclude_requester=exclude_requester,
                 requester=requester)


def test_two_signers_and_a_safety_officer_meet_the_gate():
    met, reason, evidence = run(
        [st(1, BOB, "lab_signer"), st(2, CAROL, "lab_signer"), st(3, DANA, "safety_officer")]
    )

    assert met is True
    assert reason.startswith("approved: lab_signer 2/2")
    assert evidence["approvals"] == {"lab_signer": [BOB, CAROL], "safety_officer": [DANA]}
    assert evidence["counted"] == [1, 2, 3]


def test_the_same_person_twice_counts_once():
    met, reason, evidence = run(
        [st(1, BOB, "lab_signer"), st(2, BOB, "lab_signer"), st(3, DANA, "safety_officer")]
    )

    assert met is False
    assert "lab_signer 1/2" in reason
    assert evidence["approvals"]["lab_signer"] == [BOB]


def test_one_person_counts_in_one_clause_only():
    # Dana holds both roles and signs as each: her latest statement is the one that counts.
    met, _, evidence = run(
        [st(1, BOB, "lab_signer"), st(2, DANA, "lab_signer"), st(3, DANA, "safety_officer")]
    )

    assert met is False
    assert evidence["approvals"] == {"lab_signer": [BOB], "safety_officer": [DANA]}


def test_the_requester_does_not_count_when_the_policy_says_so():
    statements = [st(1, ALICE, "lab_signer"), st(2, CAROL, "lab_signer"),
                  st(3, DANA, "safety_officer")]

    excluded = run(statements, requester=ALICE)
    included = run(statements, requester=ALICE, exclude_requester=False)

    assert excluded[0] is False
    assert "who requests the advance, does not count" in excluded[1]
    assert excluded[2]["excluded_requester"] == ALICE
    assert included[0] is True


def test_a_reject_vetoes_until_withdrawn_by_a_newer_approve():
    approvals = [st(1, BOB, "lab_signer"), st(2, CAROL, "lab_signer")]

    vetoed = run([*approvals, st(3, DANA, "safety_officer", "reject")])
    withdrawn = run([*approvals, st(3, DANA, "safety_officer", "reject"),
                     st(4, DANA, "safety_officer")])

    assert vetoed[0] is False
    assert vetoed[1] == "vetoed: rejected by user 3 (safety_officer)"
    assert vetoed[2]["rejections"] == [{"signer": DANA, "role": "safety_officer"}]
    assert withdrawn[0] is True


def test_a_newer_reject_withdraws_an_approval():
    met, reason, _ = run([st(1, BOB, "lab_signer"), st(2, CAROL, "lab_signer"),
                          st(3, DANA, "safety_officer"), st(4, BOB, "lab_signer", "reject")])

    assert met is False
    assert reason.startswith("vetoed")


def test_the_requesters_reject_still_vetoes():
    # excluding someone must never make a gate easier to pass
    met, reason, _ = run([st(1, BOB, "lab_signer"), st(2, CAROL, "lab_signer"),
                          st(3, DANA, "safety_officer"), st(4, ALICE, "lab_signer", "reject")])

    assert met is False
    assert reason.startswith("vetoed")


def test_roles_the_gate_does_not_list_neither_count_nor_veto():
    met, _, evidence = run(
        [st(1, BOB, "lab_signer"), st(2, CAROL, "lab_signer"), st(3, DANA, "safety_officer"),
         st(4, 9, "release_manager", "reject"), st(5, 8, "release_manager")]
    )

    assert met is True
    assert evidence["rejections"] == []


def test_statement_order_not_list_order_decides_which_is_latest():
    met, _, _ = run([st(9, DANA, "safety_officer"), st(1, BOB, "lab_signer"),
                     st(2, CAROL, "lab_signer"), st(5, DANA, "safety_officer", "reject")])

    assert met is True


def test_labels_name_people_in_the_reason():
    statements = [{**st(1, BOB, "lab_signer", "reject"), "label": "bob"}]

    assert run(statements)[1] == "vetoed: rejected by bob (lab_signer)"


PROBE = """
import json, sys
before = set(sys.modules)
import govflow.signoffs.tally, govflow.signoffs.predicate
new = {m.split(".")[0] for m in set(sys.modules) - before}
print(json.dumps(sorted(m for m in new if m not in sys.stdlib_module_names)))
"""


def test_tally_and_statement_import_no_django():
    # The offline verifier and the client import them without Django.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, check=True, text=True,
                         capture_output=True, cwd=Path(__file__).resolve().parents[2]).stdout

    assert set(json.loads(out)) <= {"govflow", "cryptography", "_cffi_backend", "_openssl"}
