"""Test support for third-party auditing: a world of personas with registered keys, a
release in its third-party audit, a certified and assigned auditor; statements signed
with the client's own functions, through Django's test client."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.storage import default_storage
from django.utils import timezone
from rest_framework.test import APIClient

from govflow.audit.models import AuditEvent
from govflow.auditing import acts
from govflow.auditing import predicates as statements
from govflow.auditing.models import (
    AccessGrant,
    Assignment,
    Certificate,
    Conclusion,
    ConflictOfInterest,
    Finding,
    FindingAttachment,
    FindingStatement,
)
from govflow.client import signing
from govflow.client.remote import Api, ApiError
from govflow.keys.acts import act_perform, act_verify
from govflow.keys.services import key_register
from govflow.releases.services import release_advance
from govflow.trust.keys import generate_private_key, public_key_to_base64
from tests import factories

AUDIT_POLICY = """
name: audit_test
stages:
  - name: internal_evals
  - name: third_party_audit
    gates:
      - kind: evidence_document
        document_type: red_team_report
  - name: limited_rollout
    gates:
      - kind: third_party_audit
        min_auditors: 1
        risk_areas: [deception]
        max_consecutive_releases: 2
        on_fail_return_to: internal_evals
      - kind: open_findings
        severity: high
        on_critical_return_to: internal_evals
  - name: general_availability
"""


def transport_for(test_client: APIClient):
    """The client's transport answered in-process, honouring its Content-Type (JSON or
    the multipart body of an attachment upload)."""

    def send(method, url, headers, body):
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        extra = {f"HTTP_{name.upper().replace('-', '_')}": value
                 for name, value in headers.items() if name != "Content-Type"}
        if method == "GET":
            response = test_client.get(path, **extra)
        else:
            response = test_client.generic(method, path, data=body,
                                           content_type=headers["Content-Type"], **extra)
        return response.status_code, response.content

    return send


@dataclass
class Person:
    user: Any
    key: Ed25519PrivateKey
    token: str
    api: Api = field(repr=False)

    @property
    def client(self) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.token}")
        return client

    def sign(self, statement: dict) -> dict:
        return signing.sign(statement, self.key)

    def verified(self, statement: dict, act, target: Any = None) -> Any:
        """Signed, parsed, authorised and verified, not yet recorded (the kernel's reads)."""
        return act_verify(act, envelope=self.sign(statement), actor=self.user,
                          target=target)[0]

    def act(self, act, statement: dict, target: Any = None) -> Any:
        """Sign ``statement`` and hand it to the kernel's signed ``act``, as the API does."""
        return act_perform(act, envelope=self.sign(statement), actor=self.user, target=target)


def person(org, *roles: str, username: str | None = None, key: bool = True) -> Person:
    user = factories.person(org, *roles, username=username)
    private = generate_private_key()
    if key:
        key_register(user=user, public_key=public_key_to_base64(private.public_key()),
                     name="test key")
    token = factories.token_for(user)
    return Person(user=user, key=private, token=token,
                  api=Api("http://testserver", token, transport=transport_for(APIClient())))


def release_json(release) -> dict:
    version = release.system_version
    return {"id": release.pk, "system": version.system_id,
            "system_version_number": version.number, "manifest_digest": version.manifest_digest}


def certify(regulator: Person, auditor_org, *, risk_areas=("deception", "cyber"),
            access_levels=("black_box", "grey_box"), days: float = 365) -> Certificate:
    now = timezone.now()
    statement = statements.build_certificate(
        auditor=auditor_org.slug, risk_areas=list(risk_areas), access_levels=list(access_levels),
        valid_from=(now - timedelta(minutes=1)).isoformat(),
        valid_until=(now + timedelta(days=days)).isoformat(),
    )
    return regulator.act(acts.CERTIFICATE_ISSUE, statement)


def assign(regulator: Person, release, auditor: Person, *, days: float = 30,
           access_level: str | None = None) -> Assignment:
    # The regulator's signed act, as the API records it (an assignment is always signed).
    statement = statements.build_assignment(
        release=release_json(release), auditor=auditor.user.username,
        ends_at=(timezone.now() + timedelta(days=days)).isoformat(), access_level=access_level)
    return regulator.act(acts.ASSIGNMENT_CREATE, statement, target=release.pk)


def audited_release(lab, manager, *, policy_text: str = AUDIT_POLICY):
    """A release of ``lab`` in its third_party_audit stage."""
    release = factories.release(lab, manager, policy_text=policy_text)
    factories.attach(release, manager)
    release_advance(release_id=release.pk, actor=manager)
    release.refresh_from_db()
    return release


def finding_statement(release, **changes) -> dict:
    fields = {"title": "Model hides insider trading from its manager", "severity": "medium",
              "category": "deception", "description": "Under pressure it lies in its report.",
              "reproduction_steps": ["run the insider-trading scenario at pressure 0.8",
                                     "read the report to the manager"],
              "attachments": []}
    fields.update(changes)
    return statements.build_finding(release=release_json(release), **fields)


def file(auditor: Person, release, **changes) -> Finding:
    return auditor.act(acts.FINDING_FILE, finding_statement(release, **changes))


def append(who: Person, finding: Finding, action: str, text: str = "noted",
           **changes) -> FindingStatement:
    statement = statements.build_finding_statement(
        release=release_json(finding.release), finding=finding.pk, action=action, text=text,
        **changes,
    )
    return who.act(acts.FINDING_STATEMENT, statement, target=finding.pk)


def conclude(auditor: Person, assignment: Assignment, result: str = "pass",
             findings: list[int] | None = None, **changes) -> Conclusion:
    if findings is None:
        findings = list(Finding.objects.filter(assignment=assignment).values_list("id", flat=True))
    statement = statements.build_conclusion(
        release=release_json(assignment.release), engagement=assignment.pk, result=result,
        summary="audited deception under pressure", findings=findings, **changes,
    )
    return auditor.act(acts.CONCLUSION_RECORD, statement)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def call(fn, *args, **kwargs) -> tuple[int, Any]:
    """Run a client function; (201/200, body) or (status, error body)."""
    try:
        return 200, fn(*args, **kwargs)
    except ApiError as exc:
        return exc.status, exc.body


COUNTED = [Certificate, ConflictOfInterest, Assignment, AccessGrant, FindingAttachment, Finding,
           FindingStatement, Conclusion, AuditEvent]


def recorded() -> dict[str, int]:
    """Everything a refused request must leave unchanged (rows, events, stored files)."""
    counts = {model.__name__: model.objects.count() for model in COUNTED}
    root = Path(default_storage.location) / "finding-attachments"
    counts["files"] = sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0
    return counts
