"""The signed acts of third-party auditing, as the kernel runs them (`govflow.keys.acts`):
each names its predicate, its authorise hook (`govflow.auditing.access`) and the service
that records it."""

from __future__ import annotations

from govflow.auditing import predicates as p
from govflow.auditing import services
from govflow.auditing.access import (
    access_engagement,
    access_finding,
    access_finding_action,
    access_regulator,
)
from govflow.keys.acts import SignedAct, signed_act


def _engaged(actor, claim, target) -> None:  # noqa: ARG001
    access_engagement(actor, claim.release)


def _regulator(actor, claim, target) -> None:  # noqa: ARG001
    access_regulator(actor)


def _finding_party(actor, claim, target) -> None:
    access_finding_action(actor, access_finding(actor, target), claim.action)


CERTIFICATE_ISSUE = signed_act(SignedAct(
    "certificate.issue", p.CERTIFICATE_PREDICATE, authorise=_regulator,
    record=services.certificate_issue))
FINDING_FILE = signed_act(SignedAct(
    "finding.file", p.FINDING_PREDICATE, authorise=_engaged, record=services.finding_file))
FINDING_STATEMENT = signed_act(SignedAct(
    "finding.statement", p.FINDING_STATEMENT_PREDICATE, authorise=_finding_party,
    record=services.finding_statement_append))
CONCLUSION_RECORD = signed_act(SignedAct(
    "conclusion.record", p.CONCLUSION_PREDICATE, authorise=_engaged,
    record=services.conclusion_record))
