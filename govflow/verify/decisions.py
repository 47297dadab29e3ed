"""Replay of the decisions in the log: every release through its policy's state machine.

Release events, in log order, drive `replay.machine`: an advance must start from the
release's current stage, go to the next one, and never while the release is paused,
halted, completed or under a standing hold. Its gate report must list exactly the gates
of the target stage with the policy's parameters, all met, over this release, move and
system, with the evidence digest its signers approved; then each gate is re-derived
from logged facts (`replay.gates`), approval gates by re-tallying the logged, verified
sign-offs. A refusal names the event and the rule it breaks.
"""

from __future__ import annotations

import hashlib
from typing import Any

from govflow.gates.report import recompute_evidence_digest
from govflow.policy.yamlsource import YamlSyntaxError, load_located
from govflow.trust.canonical import canonical_json
from govflow.verify import signatures, unsigned
from govflow.verify.key_certificates import RegulatorTrust, policies_require
from govflow.verify.log_checks import Event, describe
from govflow.verify.replay.facts import FACT_TYPES, Facts
from govflow.verify.replay.gates import REDERIVERS, Advance
from govflow.verify.replay.machine import Machine, Policy, Refused, apply_advance, check_advance
from govflow.verify.report import Report, VerificationFailed

# Keys of a policy's gate entry that are not the kind's parameters.
GATE_META = {"kind", "id", "description"}


def _policies(bundle: dict[str, Any]) -> dict[str, Policy]:
    out = {}
    for entry in bundle["policies"]:
        try:
            document = load_located(entry["source"]).value
        except YamlSyntaxError as exc:
            raise VerificationFailed(f"policy {entry.get('digest')} does not parse: {exc}") from exc
        digest = "sha256:" + hashlib.sha256(canonical_json(document)).hexdigest()
        if digest != entry["digest"]:
            raise VerificationFailed(
                f"policy text does not match its digest {entry['digest']} (got {digest})"
            )
        out[digest] = Policy(document)
    return out


def _report_matches(advance: Advance) -> None:
    """The recorded report is the one the policy calls for, about this very move."""
    payload = advance.body["payload"]
    report, state = payload["gate_report"], advance.state
    for key, expected in (("release", state.release), ("from", state.stage),
                          ("target", payload["to"]), ("policy_digest", state.policy_digest),
                          ("manifest_digest", state.manifest_digest)):
        if report.get(key) != expected:
            raise Refused("gate_report", f"the gate report's {key} is {report.get(key)!r}, "
                                         f"the replay has {expected!r}")
    target = advance.policy.stage(payload["to"])
    if target is None:
        raise Refused("gate_report", f"the policy has no stage {payload['to']!r}")
    specs = target.get("gates") or []
    expected_gates = [(g.get("id", g["kind"]), g["kind"]) for g in specs]
    recorded = [(g["id"], g["kind"]) for g in report["gates"]]
    if expected_gates != recorded:
        raise Refused("gate_report", f"the gate report lists {recorded}, the policy requires "
                                     f"{expected_gates}")
    for spec, gate in zip(specs, report["gates"], strict=True):
        for name, value in spec.items():
            if name not in GATE_META and gate["params"].get(name) != value:
                raise Refused("gate_params", f"gate {gate['id']} was judged with {name}="
                              f"{gate['params'].get(name)!r}, the policy says {value!r}")
    unmet = [g["id"] for g in report["gates"] if not g["met"]]
    if unmet or not report["all_met"]:
        raise Refused("gate_not_met", f"advanced with unmet gates {unmet}")
    if report.get("evidence_digest") != recompute_evidence_digest(report):
        raise Refused("gate_report", "the report's evidence digest is not the digest of its "
                                     "evidence")


def _rederive(event: Event, advance: Advance, signoffs: list[dict[str, Any]]
              ) -> tuple[list[str], list[str]]:
    report = advance.body["payload"]["gate_report"]
    derived: list[str] = []
    recorded_only: list[str] = []
    for gate in report["gates"]:
        if gate.get("approval"):
            signatures.recheck_approvals(event, report, signoffs,
                                         advance.state.entry_transition)
            derived.append(gate["id"])
        elif gate["kind"] in REDERIVERS:
            REDERIVERS[gate["kind"]](gate, advance)
            derived.append(gate["id"])
        else:
            recorded_only.append(gate["id"])
    return derived, recorded_only


def check(bundle: dict[str, Any], events: list[Event], report: Report,
          regulators: RegulatorTrust | None = None) -> None:
    policies = _policies(bundle)
    regulators = regulators or RegulatorTrust()
    certified = policies_require(list(policies.values()))
    if certified and not regulators.given:
        raise VerificationFailed(
            f"the policy requires regulator-certified signer keys ({', '.join(certified)}), "
            "and no regulator key was given to check the certificates with: pass "
            "--regulator-key (the regulator's public key, obtained from the regulator), or "
            "--trust-log-regulator-keys to take the log's word for it (proves nothing "
            "against the operator)")
    machine = Machine(policies)
    signoffs = signatures.check(events, report, regulators)
    unsigned.check(events, report)
    facts = Facts()
    advances = 0
    not_rederived: dict[str, int] = {}
    for event in events:
        body = event.body
        kind = body["type"]
        try:
            if kind in FACT_TYPES:
                facts.collect(body)
            if kind != "release.advanced":
                machine.apply(body)
                continue
            state = machine.state(body)
            policy = machine.policy_of(state)
            check_advance(state, body, policy)
            advance = Advance(body=body, state=state, policy=policy, facts=facts)
            _report_matches(advance)
            derived, recorded_only = _rederive(event, advance, signoffs)
        except Refused as refusal:
            raise VerificationFailed(f"{describe(event)} refused by rule {refusal.rule}: "
                                     f"{refusal.message}") from refusal
        payload = body["payload"]
        report.ok(
            f"{describe(event)}: release {state.release} {payload['from']} → {payload['to']}; "
            f"gates re-derived from the log: {', '.join(derived) or 'none'}"
            + (f"; taken from the recorded report: {', '.join(recorded_only)}"
               if recorded_only else "")
        )
        for gate_id in recorded_only:
            not_rederived[gate_id] = not_rederived.get(gate_id, 0) + 1
        apply_advance(state, body, policy)
        advances += 1
    report.ok(f"{advances} stage advance(s) re-checked: replayed through their policy's state "
              "machine, each gate re-derived from the log where the verifier can")
    if not_rederived:
        report.warn("gates the verifier cannot yet re-derive from the log (their recorded "
                    "result was trusted): " + ", ".join(sorted(not_rederived)))
