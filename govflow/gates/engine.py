"""Evaluating the gates of a stage into a gate report.

Evaluation only reads: it is what `GET …/gates` shows and what `release_advance`
runs under the release's row lock before it decides. The report is plain JSON so it
can be stored with the transition, logged, exported and signed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from govflow.core.digests import json_digest
from govflow.core.times import rfc3339
from govflow.gates.registry import GateResult, get_kind
from govflow.gates.report import evidence_digest_input
from govflow.policy.document import Policy, Stage


@dataclass(frozen=True)
class GateContext:
    release: Any  # govflow.releases.models.Release (not imported: gates sit below releases)
    policy: Policy
    from_stage: str
    target: Stage
    now: datetime
    requested_by: Any | None
    # The report's evidence digest: set only for approval gates, which run after every
    # other gate, so that they count the sign-offs made over exactly this evidence.
    evidence_digest: str | None = None


def evidence_digest(report: dict[str, Any]) -> str:
    """Digest of what a report rests on, for signers to approve (see gates.report)."""
    return json_digest(evidence_digest_input(report))


def prefetch_inputs(releases: list[Any], kinds: set[str]) -> None:
    """Let each installed kind among ``kinds`` load its inputs for all ``releases`` in one
    go, before they are evaluated one by one (kinds without a prefetch read as usual)."""
    if not releases:
        return
    for name in sorted(kinds):
        kind = get_kind(name)
        if kind is not None and kind.prefetch is not None:
            kind.prefetch(releases)


def evaluate_stage(
    *, release: Any, policy: Policy, target: str, now: datetime, requested_by: Any | None
) -> dict[str, Any]:
    stage = policy.stage(target)
    if stage is None:
        raise KeyError(target)
    ctx = GateContext(
        release=release,
        policy=policy,
        from_stage=release.stage,
        target=stage,
        now=now,
        requested_by=requested_by,
    )
    # Approval gates judge the evidence the other gates gathered, so they run last and
    # see its digest; the report keeps the policy's order of gates all the same.
    gates: list[dict[str, Any] | None] = [None] * len(stage.gates)
    approvals = []
    for position, spec in enumerate(stage.gates):
        kind = get_kind(spec.kind)
        if kind is not None and kind.is_approval:
            approvals.append((position, spec, kind))
        else:
            gates[position] = _evaluate_gate(spec, kind, ctx)
    report = {
        "release": release.pk,
        "release_version": release.version,
        "system_version": release.system_version_id,
        "manifest_digest": release.system_version.manifest_digest,
        "policy_digest": policy.digest,
        "from": release.stage,
        "target": target,
        "evaluated_at": rfc3339(now),
        "all_met": False,
        "gates": [g for g in gates if g is not None],
    }
    digest = evidence_digest(report)
    approval_ctx = replace(ctx, evidence_digest=digest)
    for position, spec, kind in approvals:
        gates[position] = _evaluate_gate(spec, kind, approval_ctx)
    report["gates"] = gates
    report["all_met"] = all(g["met"] for g in gates)
    report["evidence_digest"] = digest
    return report


def _evaluate_gate(spec, kind, ctx: GateContext) -> dict[str, Any]:
    if kind is None:
        # A kind removed from this deployment after the policy was registered:
        # refuse rather than pass a gate nobody can evaluate.
        result = GateResult(False, f"gate kind {spec.kind!r} is not installed", {})
        approval = False
    else:
        result = kind.evaluate(spec.params, ctx)
        approval = kind.is_approval
    return {
        "id": spec.id,
        "kind": spec.kind,
        "description": spec.description,
        "params": spec.params,
        "met": bool(result.met),
        "reason": result.reason,
        "evidence": result.evidence,
        "approval": approval,
    }
