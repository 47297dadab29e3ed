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


def _judge(org_rows, params, lab) -> list[str]:
    """Why an organization's assignments do not count (empty: they do)."""
    from govflow.auditing.selectors import conflicts_between

    problems = []
    for a in org_rows:
        conclusion = getattr(a, "conclusion", None)
        cert = a.certificate
        if conclusion is None:
            problems.append(f"assignment {a.pk} ({a.auditor.username}) has no conclusion yet")
        elif conclusion.result == "fail":
            problems.append(f"{a.auditor.username} concluded fail (conclusion {conclusion.pk})")
        elif conclusion.recorded_at >= cert.valid_until:
            problems.append(f"conclusion {conclusion.pk} came after certificate {cert.pk} "
                            "expired")
        if cert.status != "active":
            problems.append(f"certificate {cert.pk} is {cert.status}")
        elif not cert.covers(params["risk_areas"]):
            problems.append(f"certificate {cert.pk} does not cover "
                            + ", ".join(sorted(set(params["risk_areas"]) - set(cert.risk_areas))))
        conflicts = list(conflicts_between(a.auditor_organization, lab, start=a.starts_at,
                                           end=a.ends_at))
        if conflicts:
            problems.append("declared conflict(s) with the lab: "
                            + ", ".join(str(c.pk) for c in conflicts))
    return problems


def evaluate(params, ctx) -> GateResult:
    from govflow.auditing.models import Assignment, EndReason
    from govflow.auditing.selectors import current_stage_entry

    entry = current_stage_entry(ctx.release)
    rows = (
        Assignment.objects.filter(release=ctx.release, stage_entry=entry)
        .exclude(end_reason=EndReason.ENDED_BY_REGULATOR)
        .select_related("auditor", "auditor_organization", "certificate", "conclusion")
        .order_by("id")
    )
    by_org: dict[int, list] = {}
    for a in rows:
        by_org.setdefault(a.auditor_organization_id, []).append(a)
    auditors, counted, pending = [], [], []
    for org_rows in by_org.values():
        org = org_rows[0].auditor_organization
        problems = _judge(org_rows, params, ctx.release.organization)
        auditors.append({
            "organization": org.slug,
            "assignments": [a.pk for a in org_rows],
            "certificates": sorted({a.certificate_id for a in org_rows}),
            "conclusions": [{"id": a.conclusion.pk, "result": a.conclusion.result}
                            for a in org_rows if getattr(a, "conclusion", None) is not None],
            "counted": not problems,
            "problems": problems,
        })
        (pending if problems else counted).append(org.slug)
    need = params["min_auditors"]
    evidence = {"round": entry.pk, "required": need, "risk_areas": sorted(params["risk_areas"]),
                "auditors": auditors}
    if len(counted) >= need:
        return GateResult(True, f"{len(counted)}/{need} independent certified auditor(s) "
                                f"concluded without fail: {', '.join(counted)}", evidence)
    detail = "; ".join(f"{a['organization']}: {'; '.join(a['problems'])}"
                       for a in auditors if a["problems"])
    return GateResult(False, f"needs {need} independent certified auditor(s) concluding "
                             f"without fail, has {len(counted)}"
                             + (f" ({detail})" if detail else "; none assigned yet"), evidence)


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
