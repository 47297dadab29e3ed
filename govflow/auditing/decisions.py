"""The decisions of the auditing gates, as pure functions over plain facts.

The server's gates (`govflow.auditing.gates`) gather the facts from the tables; the
offline verifier (`govflow.verify.replay.auditing`) gathers the same facts from logged
events. Both call these functions, so a logged gate result is re-derived by the very
code that produced it, and the two cannot drift apart. No Django here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from govflow.auditing.lifecycle import UNCLOSED
from govflow.auditing.predicates import severity_rank


@dataclass(frozen=True)
class FindingFacts:
    id: int
    severity: str  # the latest its auditor gave it
    status: str


Result = tuple[bool, str, dict[str, Any]]


def open_findings(findings: list[FindingFacts], threshold: str) -> Result:
    """(met, reason, evidence) of an `open_findings` gate: no unclosed finding at or above
    ``threshold``; ``findings`` in id order."""
    rank = severity_rank(threshold)
    blocking = [f for f in findings if f.status in UNCLOSED and severity_rank(f.severity) >= rank]
    evidence = {"severity": threshold,
                "open": [{"id": f.id, "severity": f.severity, "status": f.status}
                         for f in blocking]}
    if not blocking:
        return True, f"no open finding at or above {threshold}", evidence
    listed = ", ".join(f"#{f.id} {f.severity} ({f.status})" for f in blocking)
    return False, (f"{len(blocking)} open finding(s) at or above {threshold}: {listed}"), evidence


@dataclass(frozen=True)
class CertificateFacts:
    id: int
    status: str
    risk_areas: tuple[str, ...]
    valid_until: datetime

    def covers(self, risk_areas: list[str]) -> bool:
        return set(risk_areas) <= set(self.risk_areas)


@dataclass(frozen=True)
class ConflictFacts:
    id: int
    starts_on: date
    ends_on: date | None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        # As `selectors.conflicts_between`: by calendar day, an open end never ends.
        return self.starts_on <= end.date() and (self.ends_on is None
                                                 or self.ends_on >= start.date())


@dataclass(frozen=True)
class AssignmentFacts:
    """One assignment of the round that was not ended by the regulator."""
    id: int
    auditor: str  # username
    organization: str  # the auditor firm's slug
    certificate: CertificateFacts
    starts_at: datetime
    ends_at: datetime
    conclusion: tuple[int, str, datetime] | None  # (id, result, recorded at)


def _judge(rows: list[AssignmentFacts], risk_areas: list[str],
           conflicts: list[ConflictFacts]) -> list[str]:
    """Why an organization's assignments do not count (empty: they do)."""
    problems = []
    for a in rows:
        cert = a.certificate
        if a.conclusion is None:
            problems.append(f"assignment {a.id} ({a.auditor}) has no conclusion yet")
        elif a.conclusion[1] == "fail":
            problems.append(f"{a.auditor} concluded fail (conclusion {a.conclusion[0]})")
        elif a.conclusion[2] >= cert.valid_until:
            problems.append(f"conclusion {a.conclusion[0]} came after certificate {cert.id} "
                            "expired")
        if cert.status != "active":
            problems.append(f"certificate {cert.id} is {cert.status}")
        elif not cert.covers(risk_areas):
            problems.append(f"certificate {cert.id} does not cover "
                            + ", ".join(sorted(set(risk_areas) - set(cert.risk_areas))))
        overlapping = [c.id for c in conflicts if c.overlaps(a.starts_at, a.ends_at)]
        if overlapping:
            problems.append("declared conflict(s) with the lab: "
                            + ", ".join(str(c) for c in overlapping))
    return problems


def third_party_audit(*, round_id: int, assignments: list[AssignmentFacts],
                      conflicts: dict[str, list[ConflictFacts]], params: dict[str, Any]
                      ) -> Result:
    """(met, reason, evidence) of a `third_party_audit` gate over the round's assignments
    (id order) and each auditor firm's declared conflicts with the lab (by firm slug)."""
    by_org: dict[str, list[AssignmentFacts]] = {}
    for a in assignments:
        by_org.setdefault(a.organization, []).append(a)
    auditors: list[dict[str, Any]] = []
    counted: list[str] = []
    refusals: list[str] = []
    for org, rows in by_org.items():
        problems = _judge(rows, params["risk_areas"], conflicts.get(org, []))
        if problems:
            refusals.append(f"{org}: {'; '.join(problems)}")
        auditors.append({
            "organization": org,
            "assignments": [a.id for a in rows],
            "certificates": sorted({a.certificate.id for a in rows}),
            "conclusions": [{"id": a.conclusion[0], "result": a.conclusion[1]}
                            for a in rows if a.conclusion is not None],
            "counted": not problems,
            "problems": problems,
        })
        if not problems:
            counted.append(org)
    need = params["min_auditors"]
    evidence = {"round": round_id, "required": need, "risk_areas": sorted(params["risk_areas"]),
                "auditors": auditors}
    if len(counted) >= need:
        return True, (f"{len(counted)}/{need} independent certified auditor(s) concluded "
                      f"without fail: {', '.join(counted)}"), evidence
    detail = "; ".join(refusals)
    return False, (f"needs {need} independent certified auditor(s) concluding without fail, "
                   f"has {len(counted)}" + (f" ({detail})" if detail else "; none assigned yet")
                   ), evidence
