"""Test support for sign-offs: a policy with a sign-off gate, signers with registered
keys, and the client's `Api` driven through Django's test client."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rest_framework.test import APIClient

from govflow.audit.models import AuditEvent
from govflow.client import signoffs as client
from govflow.client.remote import Api
from govflow.keys.services import key_register
from govflow.signoffs.models import SignOff
from govflow.trust.keys import generate_private_key, public_key_to_base64
from tests import factories

SIGNOFF_POLICY = """
name: signoff_test
stages:
  - name: internal_evals
  - name: third_party_audit
    gates:
      - kind: evidence_document
        document_type: red_team_report
      - kind: signoffs
        id: internal_signoff
        roles:
          lab_signer: 2
          safety_officer: 1
  - name: limited_rollout
"""


def transport_for(test_client: APIClient):
    """The client's transport, answered in-process by Django's test client."""

    def send(method, url, headers, body):
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        extra = {f"HTTP_{name.upper().replace('-', '_')}": value
                 for name, value in headers.items() if name != "Content-Type"}
        if method == "GET":
            response = test_client.get(path, **extra)
        else:
            response = test_client.post(path, data=body, content_type="application/json",
                                        **extra)
        return response.status_code, response.content

    return send


def api_for(user) -> Api:
    return Api("http://testserver", factories.token_for(user), transport=transport_for(APIClient()))


@dataclass
class Signer:
    user: object
    key: Ed25519PrivateKey
    api: Api

    def signoff(self, release, role: str, decision: str = "approve", comment: str = ""):
        return client.signoff(self.api, release=release.pk, role=role, key=self.key,
                              decision=decision, comment=comment)

    def envelope(self, release, role: str, decision: str = "approve", *, key=None):
        """A signed envelope for the release's current round, not yet submitted."""
        from govflow.client import signing

        statement = client.fetch_payload(self.api, release=release.pk, role=role,
                                         decision=decision)
        return signing.sign(statement, key or self.key)


def signer(org, *roles: str, username: str | None = None, certified_by=None) -> Signer:
    """A person of ``org`` with ``roles`` and a registered key; with ``certified_by``
    (regulator, private key), that regulator certifies the key for each of the roles."""
    user = factories.person(org, *roles, username=username)
    key = generate_private_key()
    public = public_key_to_base64(key.public_key())
    key_register(user=user, public_key=public, name="test key")
    if certified_by is not None:
        for role in roles:
            factories.certify_key(user, public, role, regulator=certified_by[0],
                                  regulator_key=certified_by[1])
    return Signer(user=user, key=key, api=api_for(user))


def recorded() -> tuple[int, int]:
    """(sign-off rows, audit events): what a refused sign-off must leave unchanged."""
    return SignOff.objects.count(), AuditEvent.objects.count()
