"""Gate kind `third_party_audit`: at least N distinct certified, independent auditor
organizations audited the release in its current round, each concluding without *fail*.

An auditor organization counts when every assignment it holds in the round (the stage
entry in which the regulator assigned it) ended with a signed conclusion other than
fail, recorded while the certificate it was assigned under was valid; that certificate
is still active (a suspension or revocation withdraws the organization's conclusions)
and covers the gate's risk areas; and it declared no conflict with the lab over the
engagement. Assignments the regulator ended without a conclusion do not count either
way. Auditors are counted by organization, because it is the organization that is
certified and independent: two people of one firm are one institution.

Parameters also configure the audit itself (`govflow.auditing.policy`): `risk_areas`
are what assigned auditors must be certified for, `max_consecutive_releases` limits
how many of a lab's releases in a row one firm may audit, and `on_fail_return_to`
names the stage a failed conclusion sends the release back to.
"""

from __future__ import annotations

from govflow.gates.params import Param
from govflow.gates.registry import GateKind, GateResult


def _facts(a):
    from govflow.auditing.decisions import AssignmentFacts, CertificateFacts

    cert = a.certificate
    conclusion = getattr(a, "conclusion", None)
    return AssignmentFacts(
        id=a.pk, auditor=a.auditor.get_username(), organization=a.auditor_organization.slug,
        certificate=CertificateFacts(id=cert.pk, status=cert.status,
                                     risk_areas=tuple(cert.risk_areas),
                                     valid_until=cert.valid_until),
        starts_at=a.starts_at, ends_at=a.ends_at,
        conclusion=None if conclusion is None else (conclusion.pk, conclusion.result,
                                                    conclusion.recorded_at),
    )


def evaluate(params, ctx) -> GateResult:
    from govflow.auditing.decisions import ConflictFacts, third_party_audit
    from govflow.auditing.models import Assignment, ConflictOfInterest, EndReason
    from govflow.auditing.selectors import current_stage_entry

    entry = current_stage_entry(ctx.release)
    rows = (
        Assignment.objects.filter(release=ctx.release, stage_entry=entry)
        .exclude(end_reason=EndReason.ENDED_BY_REGULATOR)
        .select_related("auditor", "auditor_organization", "certificate", "conclusion")
        .order_by("id")
    )
    assignments = [_facts(a) for a in rows]
    conflicts: dict[str, list[ConflictFacts]] = {}
    for c in (ConflictOfInterest.objects.filter(
            lab_id=ctx.release.organization_id,
            auditor__slug__in={a.organization for a in assignments})
            .select_related("auditor").order_by("id")):
        conflicts.setdefault(c.auditor.slug, []).append(
            ConflictFacts(id=c.pk, starts_on=c.starts_on, ends_on=c.ends_on))
    met, reason, evidence = third_party_audit(round_id=entry.pk, assignments=assignments,
                                              conflicts=conflicts, params=params)
    return GateResult(met, reason, evidence)


def check(params) -> list[tuple[str, str]]:
    from govflow.auditing.predicates import NAME

    bad = [a for a in params["risk_areas"] if not NAME.match(a)]
    if not params["risk_areas"]:
        return [("risk_areas", "name at least one risk area, e.g. [deception, cyber]")]
    if bad:
        return [("risk_areas", f"{bad[0]!r} is not a name: lowercase letters, digits, '_'")]
    return []


KIND = GateKind(
    name="third_party_audit",
    description="N distinct certified, independent auditor organizations concluded the "
                "audit without fail.",
    params={
        "min_auditors": Param("int", required=False, default=1, minimum=1,
                              help="distinct auditor organizations"),
        "risk_areas": Param("str_list", help="what the auditors must be certified for"),
        "max_consecutive_releases": Param(
            "int", required=False, default=None, minimum=1,
            help="refuse assigning a firm that audited this many of the lab's releases in "
                 "a row",
        ),
        "on_fail_return_to": Param("stage", required=False, default=None,
                                   help="a failed conclusion sends the release back here"),
    },
    evaluate=evaluate,
    check=check,
)
