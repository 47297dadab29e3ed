"""Gate kind `signoffs`: named roles must approve the release's next step, in signed
statements over the very evidence the other gates of the report gathered.

For example ``roles: {lab_signer: 2, safety_officer: 1}``: two lab signers and one
safety officer, all different people; with ``exclude_requester`` (the default) the
person asking for the advance does not count. With ``certified_keys: true`` an approval
counts only if a regulator's key certificate in force when it was recorded binds its key
to the signer, the release's lab and the role (`tally.certified_only`); the others stay
recorded and the report names each with the reason. The counting itself is
`govflow.signoffs.tally`, shared with the offline verifier.
"""

from __future__ import annotations

from govflow.gates.params import Param
from govflow.gates.registry import GateKind, GateResult
from govflow.signoffs.tally import certificate_refusal, certified_only, set_aside_note, tally


def check(params) -> list[tuple[str, str]]:
    from govflow.accounts.access import LAB_STAFF

    signing_roles = sorted(LAB_STAFF)
    roles = params["roles"]
    if not roles:
        return [("roles", "name at least one role and its count, e.g. {lab_signer: 2}")]
    problems = []
    for role, count in roles.items():
        if role not in signing_roles:
            problems.append((f"roles.{role}", f"{role!r} is not a role that signs off here; "
                                              f"roles: {', '.join(signing_roles)}"))
        elif isinstance(count, bool) or not isinstance(count, int) or count < 1:
            problems.append((f"roles.{role}", f"must be a whole number of at least 1, "
                                              f"got {count!r}"))
    return problems


def evaluate(params, ctx) -> GateResult:
    from govflow.signoffs.selectors import round_statements, stage_entry_of

    if ctx.evidence_digest is None:
        return GateResult(False, "no evidence digest to approve (engine did not provide one)")
    entry = stage_entry_of(ctx.release)
    statements: list = round_statements(
        release=ctx.release, target=ctx.target.name, stage_entry_id=entry.pk,
        gate_report_digest=ctx.evidence_digest,
    )
    set_aside: list[dict] = []
    if params["certified_keys"]:
        from govflow.keys.selectors import certificates_of_keys

        certificates = certificates_of_keys(s["key_id"] for s in statements)
        statements, set_aside = certified_only(
            statements, lambda s: certificate_refusal(s, certificates))
    requester = getattr(ctx.requested_by, "pk", None)
    met, reason, evidence = tally(
        statements, roles=params["roles"], exclude_requester=params["exclude_requester"],
        requester=requester,
    )
    evidence = {**evidence, "stage_entry": entry.pk, "gate_report_digest": ctx.evidence_digest}
    if params["certified_keys"]:
        evidence["not_counted"] = [
            {k: s[k] for k in ("signer", "role", "key_id", "reason")} for s in set_aside]
    return GateResult(met, reason + set_aside_note(set_aside), evidence)


KIND = GateKind(
    name="signoffs",
    description="Signed approvals of the gate report by people holding named roles.",
    params={
        "roles": Param("mapping", help="role -> approvals needed, e.g. {lab_signer: 2}"),
        "exclude_requester": Param(
            "bool", required=False, default=True,
            help="the person requesting the advance does not count",
        ),
        "certified_keys": Param(
            "bool", required=False, default=False,
            help="an approval counts only under a key a regulator certified for the "
            "signer, the lab and the role, in force when it was signed",
        ),
    },
    evaluate=evaluate,
    check=check,
    is_approval=True,
)
