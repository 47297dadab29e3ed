"""Helpers for oversight tests: a regulator with a registered key, signed statements."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from govflow.keys.services import key_register
from govflow.trust.intoto import Statement, sign_statement
from govflow.trust.keys import public_key_to_base64
from tests import factories

# The simple policy with the sanction gate on every stage, as the default policy has it.
SANCTION_POLICY = """
name: sanctioned
stages:
  - name: internal_evals
  - name: third_party_audit
    gates:
      - kind: no_sanction
  - name: limited_rollout
    gates:
      - kind: no_sanction
  - name: general_availability
    gates:
      - kind: no_sanction
"""


def with_key(user) -> Ed25519PrivateKey:
    private = Ed25519PrivateKey.generate()
    key_register(user=user, public_key=public_key_to_base64(private.public_key()), name="k")
    return private


def regulator_with_key():
    user = factories.person(factories.organization(kind="regulator"), "regulator")
    return user, with_key(user)


def sign(statement: dict, private: Ed25519PrivateKey) -> dict:
    statement = json.loads(json.dumps(statement))
    if not statement["predicate"].get("signed_at"):
        statement["predicate"]["signed_at"] = timezone.now().isoformat().replace("+00:00", "Z")
    return sign_statement(Statement.from_dict(statement), private)
