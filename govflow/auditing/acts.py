"""The signed acts of third-party auditing, as the kernel runs them (`govflow.keys.acts`):
each names its predicate, its authorise hook (`govflow.auditing.access`) and the service
that records it."""

from __future__ import annotations

from govflow.auditing import predicates as p
from govflow.auditing import services
from govflow.auditing.access import (
    access_assign,
    access_assignment,
    access_certificate,
    access_engagement,
    access_finding,
    access_finding_action,
    access_regulator,
)
from govflow.auditing.services.assignment import (
    assignment_create_record,
    assignment_end_record,
)
from govflow.auditing.services.certification import certificate_status_record
from govflow.keys.acts import SignedAct, signed_act


def _engaged(actor, claim, target) -> None:  # noqa: ARG001
    access_engagement(actor, claim.release)


def _regulator(actor, claim, target) -> None:  # noqa: ARG001
    access_regulator(actor)


def _finding_party(actor, claim, target) -> None:
    access_finding_action(actor, access_finding(actor, target), claim.action)


def _assigns(actor, claim, target) -> None:  # noqa: ARG001
    access_assign(actor, claim.release)


def _ends_assignment(actor, claim, target) -> None:  # noqa: ARG001
    access_assignment(actor, target, act=True)


def _moves_certificate(move: str):
    def authorise(actor, claim, target) -> str:  # noqa: ARG001
        access_certificate(actor, target, act=True)
        return move  # the record step checks the statement orders this move

    return authorise


CERTIFICATE_MOVES = {
    move: signed_act(SignedAct(f"certificate.{move}", p.CERTIFICATE_STATUS_PREDICATE,
                               authorise=_moves_certificate(move),
                               record=certificate_status_record))
    for move in p.CERTIFICATE_MOVES
}
ASSIGNMENT_CREATE = signed_act(SignedAct(
    "assignment.create", p.ASSIGNMENT_PREDICATE, authorise=_assigns,
    record=assignment_create_record))
ASSIGNMENT_END = signed_act(SignedAct(
    "assignment.end", p.ASSIGNMENT_END_PREDICATE, authorise=_ends_assignment,
    record=assignment_end_record))
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
