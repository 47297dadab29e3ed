"""Third-party audit facts from the log, and the `third_party_audit` and `open_findings`
gates re-derived from them with the server's own decision code (`govflow.auditing.decisions`).

Where a fact is part of a signed statement (a finding's severity, a statement's action,
a conclusion's result, a certificate's risk areas and validity, a status change), it is
read from the envelope the signature check verified (`verify.signatures`), not from the
payload the operator wrote around it. A finding statement is replayed through the
finding lifecycle (`govflow.auditing.lifecycle`): one that does not follow from the
finding's replayed status is refused (`finding_lifecycle`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from govflow.auditing.decisions import (
    AssignmentFacts,
    CertificateFacts,
    ConflictFacts,
    FindingFacts,
    open_findings,
    third_party_audit,
)
from govflow.auditing.lifecycle import OPEN, LifecycleError, next_status
from govflow.verify.replay.machine import Refused, parse_time
from govflow.verify.replay.signed import signed_predicate

if TYPE_CHECKING:
    from govflow.verify.replay.gates import Advance

TYPES = {"finding.filed", "finding.statement_appended", "certificate.issued",
         "certificate.suspended", "certificate.reinstated", "certificate.revoked",
         "conflict.declared", "assignment.created", "assignment.ended", "conclusion.recorded"}
STATUS_OF_ACTION = {"suspend": "suspended", "reinstate": "active", "revoke": "revoked"}
ENDED_BY_REGULATOR = "ended_by_regulator"


@dataclass
class LoggedAssignment:
    id: int
    release: int
    auditor: str
    organization: str
    certificate: int
    stage_entry: int
    starts_at: datetime
    ends_at: datetime
    end_reason: str | None = None
    conclusion: tuple[int, str, datetime] | None = None


@dataclass
class AuditFacts:
    # release -> finding id -> [severity, status]
    findings: dict[int, dict[int, list[str]]] = field(default_factory=dict)
    certificates: dict[int, dict[str, Any]] = field(default_factory=dict)
    # (auditor firm slug, lab organization id) -> conflicts it declared
    conflicts: dict[tuple[str, int | None], list[ConflictFacts]] = field(default_factory=dict)
    assignments: dict[int, LoggedAssignment] = field(default_factory=dict)

    def collect(self, body: dict[str, Any]) -> None:
        kind, payload = body["type"], body["payload"]
        if kind == "finding.filed":
            claim = signed_predicate(body)
            self.findings.setdefault(body["release"], {})[payload["finding"]] = [
                claim["severity"], OPEN]
        elif kind == "finding.statement_appended":
            self._statement(body, signed_predicate(body))
        elif kind == "certificate.issued":
            claim = signed_predicate(body)
            self.certificates[payload["certificate"]] = {
                "id": payload["certificate"], "status": "active",
                "risk_areas": tuple(claim["risk_areas"]),
                "valid_until": parse_time(claim["valid_until"])}
        elif kind.startswith("certificate."):
            self._certificate_status(body)
        elif kind == "conflict.declared":
            self.conflicts.setdefault((payload["auditor"], payload["lab_id"]), []).append(
                ConflictFacts(id=payload["conflict"],
                              starts_on=date.fromisoformat(payload["starts_on"]),
                              ends_on=date.fromisoformat(payload["ends_on"])
                              if payload.get("ends_on") else None))
        elif kind == "assignment.created":
            self.assignments[payload["assignment"]] = LoggedAssignment(
                id=payload["assignment"], release=body["release"], auditor=payload["auditor"],
                organization=payload["auditor_organization"],
                certificate=payload["certificate"], stage_entry=payload["stage_entry"],
                starts_at=parse_time(payload["starts_at"]),
                ends_at=parse_time(payload["ends_at"]))
        elif kind == "assignment.ended" and payload["assignment"] in self.assignments:
            self.assignments[payload["assignment"]].end_reason = payload["end_reason"]
        elif kind == "conclusion.recorded":
            claim = signed_predicate(body)
            assignment = self.assignments.get(claim["engagement"])
            if assignment is None or assignment.release != body["release"]:
                raise Refused("conclusion", f"conclusion {payload['conclusion']} names "
                                            f"engagement {claim['engagement']}, which the log "
                                            "did not assign on this release")
            assignment.conclusion = (payload["conclusion"], claim["result"],
                                     parse_time(body["at"]))
            assignment.end_reason = "concluded"

    def _certificate_status(self, body: dict[str, Any]) -> None:
        # A suspension or revocation only withdraws conclusions, so one the server wrote
        # without a signed statement still counts; a reinstatement restores them, so only
        # the regulator's signed statement can (an unsigned one is the operator's word).
        if "envelope" in body["payload"]:
            claim = signed_predicate(body)
            certificate, status = claim["certificate"], STATUS_OF_ACTION[claim["action"]]
        elif body["type"] == "certificate.reinstated":
            return
        else:
            certificate, status = body["payload"]["certificate"], body["payload"]["to_status"]
        if certificate in self.certificates:
            self.certificates[certificate]["status"] = status

    def _statement(self, body: dict[str, Any], claim: dict[str, Any]) -> None:
        finding = self.findings.get(body["release"], {}).get(claim["finding"])
        if finding is None:
            raise Refused("finding_lifecycle", f"a statement on finding {claim['finding']}, "
                                               "which the log never filed on this release")
        severity, status = finding
        try:
            after = next_status(action=claim["action"], status=status, severity=severity,
                                outcome=claim.get("outcome"))
        except LifecycleError as exc:
            raise Refused("finding_lifecycle", f"finding {claim['finding']}: {exc}") from exc
        if body["payload"].get("status_to") != after:
            raise Refused("finding_lifecycle", f"finding {claim['finding']}: the event says it "
                                               f"became {body['payload'].get('status_to')!r}, "
                                               f"the lifecycle gives {after!r}")
        finding[:] = [claim.get("severity") or severity, after]

    def findings_of(self, release: int) -> list[FindingFacts]:
        return [FindingFacts(fid, severity, status)
                for fid, (severity, status) in sorted(self.findings.get(release, {}).items())]

    def round_of(self, release: int, stage_entry: int) -> list[AssignmentFacts]:
        out = []
        for a in sorted(self.assignments.values(), key=lambda a: a.id):
            if a.release != release or a.stage_entry != stage_entry \
                    or a.end_reason == ENDED_BY_REGULATOR:
                continue
            cert = self.certificates.get(a.certificate)
            if cert is None:
                raise Refused("gate_evidence", f"assignment {a.id} is under certificate "
                                               f"{a.certificate}, whose issue the log lacks")
            out.append(AssignmentFacts(
                id=a.id, auditor=a.auditor, organization=a.organization,
                certificate=CertificateFacts(**cert), starts_at=a.starts_at,
                ends_at=a.ends_at, conclusion=a.conclusion))
        return out


def rederive_open_findings(gate: dict[str, Any], advance: Advance) -> None:
    facts = advance.facts.audit.findings_of(advance.state.release)
    met, reason, evidence = open_findings(facts, gate["params"]["severity"])
    advance.compare(gate, met, reason, evidence)


def rederive_third_party_audit(gate: dict[str, Any], advance: Advance) -> None:
    state, audit = advance.state, advance.facts.audit
    assignments = audit.round_of(state.release, state.entry_transition)
    conflicts = {org: audit.conflicts.get((org, state.organization), [])
                 for org in {a.organization for a in assignments}}
    met, reason, evidence = third_party_audit(
        round_id=state.entry_transition, assignments=assignments, conflicts=conflicts,
        params=gate["params"])
    advance.compare(gate, met, reason, evidence)
